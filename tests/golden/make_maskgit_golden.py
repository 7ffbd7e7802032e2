"""Writes the MaskGIT golden files: what google-research/maskgit's own Flax
modules compute at random weights, for our converter's tests.

For two configurations, `tiny` and `imagenet256` (the released 256-px
models' architecture), with parameters from `maskgit_params.random_params`
(numpy, seeded, so the tests redraw them without JAX):
  tests/golden/maskgit_{tiny,imagenet256}.npz
    transformer_spec, tokenizer_spec  the official parameter trees
                                      (JSON [[path, shape], ...])
    input_ids, logit_positions, logits  transformer logits (over the
                                      codebook) for a token sequence with
                                      the class token at 0 and -1 masks
    code_ids, code_gaps               the tokenizer's code ids of
                                      `golden_images` and each id's distance
                                      margin to the second-nearest code
    decode_ids, decoded, decode_stride  decoder pixels (every stride-th
                                      pixel) of fixed ids
  tests/golden/maskgit_decoding.npz   masked-token counts of the official
                                      `parallel_decode.decode` at each step
  tests/golden/maskgit/{maskgit,tokenizer}_tiny_checkpoint
                                      the tiny parameters as Flax writes a
                                      checkpoint (`flax.serialization`)
With --full-size-dir DIR it also writes the imagenet256 parameters there in
the released files' format and names (0.9 GB; outside the repository).

Run in a side virtualenv with the official code (JAX versions of its time:
it uses jnp.DeviceArray, gone since JAX 0.4.14):

  python3 -m venv ~/.cache/muse_maskgit_venv
  ~/.cache/muse_maskgit_venv/bin/pip install jax==0.4.13 jaxlib==0.4.13 \
      flax==0.7.0 ml_collections "numpy<2" ml_dtypes==0.2.0 \
      tensorflow-cpu==2.14.1 matplotlib requests pillow
  git clone https://github.com/google-research/maskgit ~/.cache/maskgit_official
  PYTHONPATH=~/.cache/maskgit_official ~/.cache/muse_maskgit_venv/bin/python \
      tests/golden/make_maskgit_golden.py [--full-size-dir DIR]

(checked at google-research/maskgit commit 1db2359).
"""

import argparse
import json
import os
import sys

import flax
import jax
import jax.numpy as jnp
import numpy as np
from maskgit.configs import maskgit_class_cond_config
from maskgit.libml import losses, parallel_decode
from maskgit.nets import maskgit_transformer, vqgan_tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import maskgit_params

HERE = os.path.dirname(os.path.abspath(__file__))
NUM_CLASSES = 1000

CONFIGS = {
    "tiny": {"image_size": 16, "hidden": 32, "layers": 2, "heads": 2,
             "mlp": 64, "filters": 32, "multipliers": (1, 2),
             "res_blocks": 1, "code_dim": 8, "codebook": 64, "batch": 2,
             "labels": (207, 3), "decode_stride": 1},
    "imagenet256": {"image_size": 256, "hidden": 768, "layers": 24,
                    "heads": 16, "mlp": 3072, "filters": 128,
                    "multipliers": (1, 1, 2, 2, 4), "res_blocks": 2,
                    "code_dim": 256, "codebook": 1024, "batch": 1,
                    "labels": (207,), "decode_stride": 8},
}


def official_models(c):
    """The official (transformer, tokenizer) modules, built as
    maskgit/inference.py builds them, at config `c`."""
    cf = maskgit_class_cond_config.get_config()
    cf.image_size = c["image_size"]
    cf.vqvae.filters = c["filters"]
    cf.vqvae.channel_multipliers = list(c["multipliers"])
    cf.vqvae.num_res_blocks = c["res_blocks"]
    cf.vqvae.embedding_dim = c["code_dim"]
    cf.vqvae.codebook_size = c["codebook"]
    tokenizer = vqgan_tokenizer.VQVAE(config=cf, dtype=jnp.float32,
                                      train=False)
    side = c["image_size"] // 2 ** (len(c["multipliers"]) - 1)
    transformer = maskgit_transformer.Transformer(
        vocab_size=c["codebook"] + NUM_CLASSES + 1, hidden_size=c["hidden"],
        num_hidden_layers=c["layers"], num_attention_heads=c["heads"],
        intermediate_size=c["mlp"], hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=side * side + 1)
    return transformer, tokenizer, side


def tree_spec(module, *inputs, method=None):
    shapes = jax.eval_shape(lambda: module.init(jax.random.PRNGKey(0),
                                                *inputs, method=method))
    flat = maskgit_params.flatten(flax.core.unfreeze(shapes)["params"])
    return [[path, list(leaf.shape)] for path, leaf in flat.items()]


def variables(spec, seed):
    params = maskgit_params.random_params(spec, seed)
    return {"params": maskgit_params.unflatten(
        {k: jnp.asarray(v) for k, v in params.items()})}


def golden(name, c, full_size_dir=None):
    transformer, tokenizer, side = official_models(c)
    length = side * side
    rng = np.random.default_rng(1)
    batch = c["batch"]

    # === Transformer ===
    t_spec = tree_spec(transformer, jnp.zeros([1, length + 1], jnp.int32))
    t_vars = variables(t_spec, seed=10)
    codes = rng.integers(0, c["codebook"], [batch, length])
    masked = rng.random([batch, length]) < 0.5
    image_ids = np.where(masked, -1, codes)
    labels = np.array(c["labels"])[:, None] + c["codebook"]
    input_ids = np.concatenate([labels, image_ids], 1).astype(np.int32)
    logits = np.asarray(jax.jit(lambda v, x: transformer.apply(
        v, x, deterministic=True))(t_vars, input_ids))
    positions = (np.arange(length + 1) if name == "tiny"
                 else np.array([0, 1, 2, 17, 100, 128, 200, length]))
    out = {"transformer_spec": json.dumps(t_spec), "input_ids": input_ids,
           "logit_positions": positions,
           # Cut to the codebook, as the official inference does.
           "logits": logits[:, positions, :c["codebook"]]}

    # === Tokenizer ===
    size = c["image_size"]
    # VQVAE.__call__ passes encode's (quantized, dict) pair to the decoder
    # and fails, so the tree is made by encoding and decoding explicitly.
    v_spec = tree_spec(tokenizer, jnp.zeros([1, size, size, 3]),
                       method=lambda m, x: m.decode(m.encode({"image": x})[0]))
    v_vars = variables(v_spec, seed=20)
    images = maskgit_params.golden_images(batch, size)
    features = tokenizer.apply(v_vars, images,
                               method=lambda m, x: m.encoder(x))
    codebook = v_vars["params"]["quantizer"]["codebook"]
    distances = np.asarray(losses.squared_euclidean_distance(
        features.reshape(-1, features.shape[-1]), codebook)).reshape(
            features.shape[:-1] + (c["codebook"],))
    code_ids = np.asarray(tokenizer.apply(
        v_vars, {"image": images}, method=tokenizer.encode_to_indices))
    nearest = np.sort(distances, -1)
    decode_ids = rng.integers(0, c["codebook"], [batch, side, side])
    decoded = np.asarray(jax.jit(lambda v, ids: tokenizer.apply(
        v, ids, method=tokenizer.decode_from_indices))(v_vars, decode_ids))
    stride = c["decode_stride"]
    out.update(tokenizer_spec=json.dumps(v_spec), code_ids=code_ids,
               code_gaps=nearest[..., 1] - nearest[..., 0],
               decode_ids=decode_ids.astype(np.int32),
               decoded=decoded[:, ::stride, ::stride],
               decode_stride=stride)
    path = os.path.join(HERE, f"maskgit_{name}.npz")
    np.savez_compressed(path, **out)
    print(path, {k: np.shape(v) for k, v in out.items()})

    def write(directory, stem):
        os.makedirs(directory, exist_ok=True)
        for kind, tree in (("maskgit", t_vars), ("tokenizer", v_vars)):
            file = os.path.join(directory, f"{kind}_{stem}_checkpoint")
            with open(file, "wb") as f:
                f.write(flax.serialization.to_bytes(
                    jax.tree_util.tree_map(np.asarray, tree)))
            print(file, os.path.getsize(file))

    if name == "tiny":
        write(os.path.join(HERE, "maskgit"), "tiny")
    if name == "imagenet256" and full_size_dir:
        write(full_size_dir, "imagenet256")


def decoding_counts():
    """Masked-token counts in the input of every step of the official
    decode (and after its last step), for generation and editing runs."""
    cases = [(256, 16, 0), (1024, 16, 0), (64, 12, 0), (36, 12, 2),
             (100, 12, 2), (5, 12, 2), (1, 8, 0)]
    length = 1024
    rows = []
    for masked, num_steps, start in cases:
        seen = []
        key = jax.random.PRNGKey(masked + num_steps)
        logits = jax.random.normal(key, [1, length, 32])

        def tokens_to_logits(ids, seen=seen, logits=logits):
            jax.debug.callback(lambda n: seen.append(int(n)),
                               jnp.sum(ids == -1), ordered=True)
            return logits

        tokens = jnp.where(jnp.arange(length)[None] < masked, -1, 0)
        final = parallel_decode.decode(
            tokens, jax.random.PRNGKey(0), tokens_to_logits,
            mask_token_id=-1, num_iter=num_steps, start_iter=start,
            choice_temperature=4.5)
        jax.block_until_ready(final)
        rows.append([masked, num_steps, start] + seen
                    + [0] * (num_steps - len(seen)))
    width = max(len(r) for r in rows)
    table = np.array([r + [0] * (width - len(r)) for r in rows], np.int32)
    path = os.path.join(HERE, "maskgit_decoding.npz")
    np.savez_compressed(path, cases=table)
    print(path, table)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full-size-dir", default=None)
    args = parser.parse_args()
    decoding_counts()
    for name, c in CONFIGS.items():
        golden(name, c, args.full_size_dir)


if __name__ == "__main__":
    main()

"""Writes the golden files of aMUSEd's CLIP text encoder and tokenizer: what
transformers' `CLIPTokenizer` and `CLIPTextModelWithProjection` compute,
for tests/text/clip_test.py (which needs no torch).

  tests/golden/amused_clip_tokenizer.json
    prompts, and their ids [77] from CLIPTokenizer on OpenAI's vocabulary
    (clip_vocab.py, from the open-clip-torch wheel) in each folder layout
    of clip_vocab.LAYOUTS (aMUSEd's pad token may be "<|endoftext|>" or
    "!")
  tests/golden/amused_clip_{tiny,l14}.npz
    config       text_encoder/config.json (JSON): tiny (width 32, 2
                 layers) and CLIP-L/14 as aMUSEd's (docs/design.md §10.5)
    manifest     {state-dict key: shape} (JSON); the weights are
                 amused_params.random_state_dict(manifest, seed)
    seed, ids    the weights' seed; input ids [B, 77] (tokenized prompts)
    prompts      the prompts of `ids` and their layout (JSON pairs)
    positions    the positions of `states` kept (all for tiny)
    states       hidden_states[-2] at `positions` [B, len, D]
    pooled       text_embeds [B, P]

Before writing, it checks that transformers' ids on those files equal
open_clip's own `SimpleTokenizer` (OpenAI's code, loaded from the wheel's
tokenizer.py by path, without the package's __init__) on plain ASCII
prompts, which shows the vocabulary files are laid out as transformers'.

Run in the PyTorch peers' virtualenv (benchmarks/peers/setup_venv.sh),
with open_clip's tokenizer's own imports added (no Hub access needed):

  ~/.cache/muse_peers_venv/bin/pip install --no-deps open-clip-torch==3.3.0 \
      ftfy==6.3.1 wcwidth==0.9.5
  ~/.cache/muse_peers_venv/bin/python tests/golden/make_amused_clip_golden.py

(transformers 5.23.0, torch 2.13.0.)
"""

import importlib.util
import json
import os
import sys
import tempfile

import numpy as np
import torch
from transformers import (
    CLIPTextConfig,
    CLIPTextModelWithProjection,
    CLIPTokenizer,
)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import amused_params
import clip_vocab

PROMPTS = [
    "a photo of a cat",
    "",
    "It's 2024, pi=3.14!",
    "Hello!!! What's up?? (really) -- yes; no: maybe...",
    "don't WON'T they're we've I'm you'll he'd 'twas",
    "price: $1,000,000.99 #1 @user 100% 3rd 21st x2",
    "ÉCOLE élève Straße GROSSE größe Ärger",
    "Καλημέρα ΟΔΟΣ κόσμε ΣΑΣ",
    "東京タワーの夜景、美しい。",
    "Привет МИР, हिन्दी, العربية, 한국어",
    "🐱 cat emoji 👩‍👩‍👧 family 🇫🇷 👍🏽",
    "non\u00a0breaking\u3000ideographic\u2009thin\u202fnarrow\u200bzero",
    "cafe\u0301 nai\u0308ve A\u030angstro\u0308m",
    "İstanbul DŽungla ǅ ǈ",
    "tabs\tand\nnewlines\r\n  multiple   spaces  ",
    "x!y <|endoftext|>z<|startoftext|> <|ENDOFTEXT|>... <|Endoftext|>",
    "ﬁne ①② ＦＵＬＬ width Ⅻ",
    "An astronaut riding a horse on Mars, digital art, 4k, trending",
    " ".join(["a very long prompt about a red fox"] * 15),
    "supercalifragilisticexpialidocious antidisestablishmentarianism " * 10,
]
ENCODER_PROMPTS = [("a photo of a cat", "eos_pad"),
                   ("It's 2024, pi=3.14!", "bang_pad"),
                   ("", "bang_pad")]
CONFIGS = {
    "tiny": {"hidden_size": 32, "num_hidden_layers": 2,
             "num_attention_heads": 4, "intermediate_size": 37,
             "projection_dim": 24, "eos_token_id": 49407, "batch": 3,
             "positions": None},
    # aMUSEd's text_encoder/config.json (the placeholder eos_token_id 2
    # selects transformers' argmax branch, as there).
    "l14": {"hidden_size": 768, "num_hidden_layers": 12,
            "num_attention_heads": 12, "intermediate_size": 3072,
            "projection_dim": 768, "eos_token_id": 2, "batch": 1,
            "positions": [0, 1, 5, 9, 10, 40, 76]},
}


def simple_tokenizer():
    """open_clip's SimpleTokenizer, from its file (its package __init__
    imports what a --no-deps install lacks)."""
    path = os.path.join(os.path.dirname(clip_vocab.open_clip_merges_path()),
                        "tokenizer.py")
    spec = importlib.util.spec_from_file_location("open_clip_tokenizer",
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SimpleTokenizer()


def tokenize(tokenizer, prompts):
    return np.array(tokenizer(prompts, padding="max_length", max_length=77,
                              truncation=True).input_ids, np.int32)


def check_files_match_open_clip(tokenizer):
    reference = simple_tokenizer()
    ascii_prompts = [p for p in PROMPTS if p.isascii() and "<|" not in p]
    for prompt in ascii_prompts:
        ours = tokenizer(prompt).input_ids[1:-1]
        theirs = reference.encode(prompt)
        if ours != theirs:
            raise AssertionError(f"{prompt!r}: {ours} != {theirs}")
    print(f"vocabulary files: {len(ascii_prompts)} ASCII prompts as "
          "open_clip's SimpleTokenizer")


def text_config(c):
    return {"vocab_size": 49408, "hidden_size": c["hidden_size"],
            "num_hidden_layers": c["num_hidden_layers"],
            "num_attention_heads": c["num_attention_heads"],
            "intermediate_size": c["intermediate_size"],
            "max_position_embeddings": 77,
            "projection_dim": c["projection_dim"], "hidden_act": "quick_gelu",
            "layer_norm_eps": 1e-5, "bos_token_id": 0,
            "eos_token_id": c["eos_token_id"], "pad_token_id": 1,
            "architectures": ["CLIPTextModelWithProjection"],
            "model_type": "clip_text_model", "torch_dtype": "float32"}


def encoder_golden(name, c, tokenizers, seed):
    config = text_config(c)
    model = CLIPTextModelWithProjection(CLIPTextConfig(**config)).eval()
    manifest = {k: list(v.shape) for k, v in model.state_dict().items()}
    weights = amused_params.random_state_dict(manifest, seed)
    model.load_state_dict({k: torch.from_numpy(v)
                           for k, v in weights.items()}, strict=True)
    prompts = ENCODER_PROMPTS[: c["batch"]]
    ids = np.concatenate([tokenize(tokenizers[layout], [p])
                          for p, layout in prompts])
    with torch.no_grad():
        out = model(torch.from_numpy(ids.astype(np.int64)),
                    output_hidden_states=True)
    states = out.hidden_states[-2].numpy()
    positions = (np.arange(77) if c["positions"] is None
                 else np.array(c["positions"]))
    np.savez_compressed(
        os.path.join(HERE, f"amused_clip_{name}.npz"),
        config=json.dumps(config), manifest=json.dumps(manifest),
        seed=seed, ids=ids, prompts=json.dumps(prompts),
        positions=positions, states=states[:, positions],
        pooled=out.text_embeds.numpy())
    print(f"{name}: {sum(int(np.prod(s)) for s in manifest.values()):,} "
          f"parameters, states {states.shape}, pooled "
          f"{tuple(out.text_embeds.shape)}")


def main():
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        tokenizers = {
            layout: CLIPTokenizer.from_pretrained(
                clip_vocab.write_tokenizer_folder(os.path.join(tmp, layout),
                                                  **files))
            for layout, files in clip_vocab.LAYOUTS.items()}
    check_files_match_open_clip(tokenizers["eos_pad"])
    ids = {layout: tokenize(tokenizer, PROMPTS).tolist()
           for layout, tokenizer in tokenizers.items()}
    with open(os.path.join(HERE, "amused_clip_tokenizer.json"), "w") as f:
        json.dump({"prompts": PROMPTS, "ids": ids}, f)
    print(f"tokenizer: {len(PROMPTS)} prompts x {len(ids)} folder layouts")
    for seed, (name, c) in enumerate(CONFIGS.items(), start=1):
        encoder_golden(name, c, tokenizers, seed)


if __name__ == "__main__":
    main()

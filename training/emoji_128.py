"""Recipe of the bundled `emoji_128`: the text-to-image cascade of emoji,
64x64 then 128x128 (docs/models/emoji_128.md).

  muse-tf prepare-data && muse-tf prepare-data --config full_128
  muse-tf train --config training/emoji_128.py --workdir runs/emoji_128

The base VQGAN and transformer (emoji_64's architecture), then the
super-res stage: a high-res VQGAN started from the base one, the
super-res transformer over both VQGANs' tokens, and Muse's larger decoder
grown from the high-res VQGAN's. Each stage joins one cascade model
directory, WORKDIR/model, packed as float16 into WORKDIR/emoji_128.

Two runs behind the bundled weights cannot be replayed exactly: the base
transformer's first 2,600 steps learned from token shards whose text
states belonged to other captions, and was then trained again from those
weights and snapshotted at step 2,500 of a 12,000-step schedule; the
high-res VQGAN was snapshotted at step 800 of 1,500. Here each run ends
where its snapshot was taken, its schedule decaying over the steps it
runs.
"""

from muse_tf.training.recipe import step


def steps(shrink):
    suffix = "[:16]" if shrink else ""
    base_data = ("tfds:emoji_captions/sample" if shrink
                 else "tfds:emoji_captions") + suffix
    high_res_data = "tfds:emoji_captions/" + (
        "sample_128" if shrink else "full_128") + suffix
    base = {"preset": "emoji_128", "data": base_data}
    high_res = {"preset": "emoji_128", "data": high_res_data}
    return [
        step("vqgan", "vqgan", **base, workdir="{workdir}/vqgan",
             num_steps=2000, batch_size=16, learning_rate=1e-3,
             disc_start=1200),
        step("transformer", "transformer", **base, vqgan="{workdir}/vqgan",
             workdir="{workdir}/transformer", num_steps=2500,
             batch_size=32, model_dir="{workdir}/model"),
        step("transformer_more", "transformer", **base,
             vqgan="{workdir}/model", init_from="{workdir}/model",
             workdir="{workdir}/transformer_more", num_steps=3000,
             batch_size=32, checkpoint_every=100, keep_checkpoints=0,
             sample_every=500, model_dir="{workdir}/model"),
        step("vqgan_128", "vqgan", **high_res, stage="high_res",
             init_from="{workdir}/model", workdir="{workdir}/vqgan_128",
             num_steps=800, batch_size=8),
        step("super_res", "transformer", **high_res, stage="super_res",
             vqgan="{workdir}/model", high_res_vqgan="{workdir}/vqgan_128",
             workdir="{workdir}/super_res", num_steps=4000, batch_size=16,
             model_dir="{workdir}/model"),
        step("large_decoder", "vqgan", **high_res, stage="large_decoder",
             init_from="{workdir}/vqgan_128",
             workdir="{workdir}/large_decoder", num_steps=400, batch_size=8,
             disc_start=200, model_dir="{workdir}/model"),
        step("pack", "pack", "{workdir}/model", "{workdir}/emoji_128"),
    ]

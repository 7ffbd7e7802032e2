"""Recipe of the next emoji cascade (preset `emoji_next`, 32x32 then 64x64),
being trained to replace `emoji_128`.

  muse-tf prepare-data
  muse-tf train --config training/emoji_next.py --workdir runs/emoji_next

Its two VQGANs do not depend on each other: on a machine with two cores
they train side by side, one per core, e.g.
  taskset -c 0 muse-tf train --config training/emoji_next.py \
      --workdir runs/emoji_next --only vqgan_32 &
  taskset -c 1 muse-tf train --config training/emoji_next.py \
      --workdir runs/emoji_next --only vqgan_64 &
Each tokenizer is measured (`eval-tokenizer`) before any transformer trains
on its tokens. The perceptual loss on the FID Inception's features won an
A/B on the 32-px tokenizer (from one checkpoint, 500 more steps each: the
judge kept 28.8% of held-out accuracy with it, 19.1% without); the runs
in progress trained their first 1,000 (32 px) and 750 (64 px) steps
without it.
"""

from muse_tf.training.recipe import step


def steps(shrink):
    data = ("tfds:emoji_captions/sample[:16]" if shrink
            else "tfds:emoji_captions")
    vqgan = {"preset": "emoji_next", "data": data, "num_steps": 12000,
             "batch_size": 16, "learning_rate": 5e-4, "disc_start": 4000,
             "checkpoint_every": 250, "sample_every": 1000,
             "perceptual_weight": 0.25}
    # The judge's held-out and training images (default: all of them).
    judged = ({"real": "emoji_captions/sample:test[:8]",
               "real_train": "emoji_captions/sample:train[:8]"}
              if shrink else {})
    return [
        step("vqgan_32", "vqgan", **vqgan, stage="base",
             workdir="{workdir}/vqgan_32"),
        step("vqgan_64", "vqgan", **vqgan, stage="high_res",
             workdir="{workdir}/vqgan_64"),
        step("eval_vqgan_32", "eval-tokenizer", preset="emoji_next",
             stage="base", workdir="{workdir}/vqgan_32",
             output="{workdir}/vqgan_32.json", **judged),
        step("eval_vqgan_64", "eval-tokenizer", preset="emoji_next",
             stage="high_res", workdir="{workdir}/vqgan_64",
             output="{workdir}/vqgan_64.json", **judged),
    ]

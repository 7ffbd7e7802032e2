"""Recipe of the next emoji model (preset `emoji_next`: one 64x64 stage
over 16x16 tokens), being trained to replace `emoji_128`.

  muse-tf prepare-data
  muse-tf train --config training/emoji_next.py --workdir runs/emoji_next

The tokenizer is measured (`eval-tokenizer`) before the transformer
trains on its tokens, and its larger decoder after;
docs/models/emoji_next.md has their measurements and why the model has
no 32-px base stage. The perceptual loss on the FID
Inception's features won an A/B on a 32-px tokenizer (from one
checkpoint, 500 more steps each: the judge kept 28.8% of held-out
accuracy with it, 19.1% without).

training/checkpoints/emoji_next holds the tokenizer and the transformer's
latest checkpoint, to go on from them on a machine without the runs (the
card says how).
"""

from muse_tf.training.recipe import step


def steps(shrink):
    data = ("tfds:emoji_captions/sample[:16]" if shrink
            else "tfds:emoji_captions")
    # 4,000 steps: an earlier run of this tokenizer kept as much of the
    # judge's accuracy at step 3,250 as at 6,500 (docs/models/emoji_next.md);
    # the last 1,000 with the discriminator.
    vqgan = {"preset": "emoji_next", "data": data, "num_steps": 4000,
             "batch_size": 16, "learning_rate": 5e-4, "disc_start": 3000,
             "checkpoint_every": 250, "keep_checkpoints": 0,
             "sample_every": 1000, "perceptual_weight": 0.25}
    # The tokenizer the transformer learns: the last checkpoint before the
    # discriminator started, which kept more of the judge's accuracy than
    # the run's end (78.6% held-out against 70.6%;
    # docs/models/emoji_next.md).
    tokenizer = ("{workdir}/vqgan_64/checkpoints/ckpt-" +
                 ("2" if shrink else "3000"))
    # The judge's held-out and training images (default: all of them).
    judged = ({"real": "emoji_captions/sample:test[:8]",
               "real_train": "emoji_captions/sample:train[:8]"}
              if shrink else {})
    return [
        step("vqgan_64", "vqgan", **vqgan, workdir="{workdir}/vqgan_64"),
        step("eval_vqgan_64", "eval-tokenizer", preset="emoji_next",
             workdir=tokenizer,
             output="{workdir}/vqgan_64.json", **judged),
        # Every checkpoint kept, for the offline EMA; the masked-token
        # accuracy on fixed training tokens says how far it has learned.
        # 6,000 steps of 32 (4.5 passes over the 42,595 captions), what the
        # compute budget leaves after the tokenizer: about 4.5 hours on two
        # cores in bf16 (2.5-3.1 s a step with the shards read and
        # shuffled; docs/models/emoji_next.md).
        step("transformer", "transformer", preset="emoji_next", data=data,
             vqgan=tokenizer, workdir="{workdir}/transformer",
             num_steps=6000, batch_size=32, checkpoint_every=250,
             keep_checkpoints=0, eval_every=500, sample_every=1000,
             model_dir="{workdir}/transformer_model"),
        # Muse's offline EMA over the last 1,000 steps' checkpoints.
        step("ema", "ema", "{workdir}/transformer/checkpoints",
             "{workdir}/ema", last=4),
        step("ema_model", "transformer", preset="emoji_next", data=data,
             vqgan=tokenizer, workdir="{workdir}/transformer",
             export_only=True, export_from="{workdir}/ema",
             model_dir="{workdir}/model"),
        # Muse's larger decoder over the same frozen encoder and codes,
        # grown from the tokenizer's decoder and fine-tuned against its
        # discriminator (so the adversarial loss is on from the start).
        step("large_decoder", "vqgan", preset="emoji_next", data=data,
             stage="large_decoder", init_from=tokenizer,
             workdir="{workdir}/large_decoder", num_steps=1500,
             batch_size=16, learning_rate=2e-4, disc_start=0,
             checkpoint_every=250, sample_every=500, perceptual_weight=0.25,
             model_dir="{workdir}/model"),
        step("eval_large_decoder", "eval-tokenizer", preset="emoji_next",
             stage="large_decoder", workdir="{workdir}/large_decoder",
             output="{workdir}/large_decoder.json", **judged),
    ]

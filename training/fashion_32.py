"""Recipe of the bundled `fashion_32`: MaskGIT's class-conditional model of
Fashion-MNIST at 32x32 (docs/models/fashion_32.md).

  muse-tf train --config training/fashion_32.py --workdir runs/fashion_32

A VQGAN, a first transformer run, then four runs each started from the
last one's weights (a new warm-up and cosine decay, peak 3e-4), the third
from the offline EMA of the second's last four checkpoints; the last run's
model, packed as float16, is the bundled one (WORKDIR/fashion_32).
Needs Debian's dataset-fashion-mnist (tests/system_packages.sh).
"""

from muse_tf.training.recipe import step


def steps(shrink):
    common = {"preset": "fashion_32",
              "data": "fashion_mnist:train" + ("[:64]" if shrink else "")}

    def further(name, start, num_steps, **options):
        """A transformer run started from model directory `start`."""
        return step(name, "transformer", **common,
                    vqgan=f"{{workdir}}/{start}",
                    init_from=f"{{workdir}}/{start}",
                    workdir=f"{{workdir}}/{name}", num_steps=num_steps,
                    learning_rate=3e-4, warmup_steps=100, **options)

    return [
        step("vqgan", "vqgan", **common, workdir="{workdir}/vqgan",
             num_steps=4000, batch_size=32, learning_rate=5e-4,
             disc_start=2000),
        step("transformer", "transformer", **common,
             vqgan="{workdir}/vqgan", workdir="{workdir}/transformer",
             model_dir="{workdir}/transformer_model", num_steps=1500,
             batch_size=64),
        further("ft", "transformer_model", 1500,
                model_dir="{workdir}/ft_model"),
        further("ft2", "ft_model", 6000, checkpoint_every=500,
                keep_checkpoints=0),
        step("ft2_ema", "ema", "{workdir}/ft2/checkpoints",
             "{workdir}/ft2_ema", last=4),
        step("ft2_ema_model", "transformer", **common,
             vqgan="{workdir}/ft_model", workdir="{workdir}/ft2",
             export_only=True, export_from="{workdir}/ft2_ema",
             model_dir="{workdir}/ft2_ema_model"),
        further("ft3", "ft2_ema_model", 3000,
                model_dir="{workdir}/ft3_model"),
        further("ft4", "ft3_model", 3000, model_dir="{workdir}/ft4_model"),
        step("pack", "pack", "{workdir}/ft4_model", "{workdir}/fashion_32"),
    ]

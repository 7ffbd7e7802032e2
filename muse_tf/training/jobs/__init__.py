"""The training jobs behind `muse-tf train JOB`, and the steps of recipes.

Each job module has a docstring (its first line is its summary),
`add_arguments(argparse parser)` and `run(args)`; a `ValueError` from
either is a one-line error of the command. Modules are imported when a job
runs, so `muse-tf train --help` needs no TensorFlow.
"""

import importlib

# Job name -> (module under muse_tf.training.jobs, one-line summary).
JOBS = {
    "vqgan": ("vqgan", "train a VQGAN tokenizer"),
    "eval-tokenizer": ("eval_tokenizer",
                       "measure what a VQGAN keeps of real images"),
    "transformer": ("transformer",
                    "train a masked transformer (text, class or super-res)"),
    "ema": ("ema", "average a run's checkpoints (Muse's offline EMA)"),
    "classifier": ("classifier", "train a fidelity judge"),
    "pack": ("pack", "store a model directory's weights as float16"),
}


def load(name):
    """The module of job `name`; ValueError for an unknown one."""
    if name not in JOBS:
        raise ValueError(f"unknown training job {name!r}; known: "
                         f"{', '.join(JOBS)}")
    return importlib.import_module(f"muse_tf.training.jobs.{JOBS[name][0]}")

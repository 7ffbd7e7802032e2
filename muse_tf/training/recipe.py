"""`muse-tf train`: one training job, or a recipe of them.

A recipe is a checked-in Python file (the repository's `training/`
folder holds one per bundled model) whose `steps(shrink)` returns the
`Step`s that make a model, in order: each a job of
`muse_tf.training.jobs` with its options, as one would type them after
`muse-tf train JOB`. `{workdir}` in a value stands for the recipe run's
work directory, so steps find each other's outputs there. With `shrink`
(as big_vision's `runlocal`), a recipe picks a small slice of its data
and `shrunk` cuts every training step to a few tiny steps: the tests run
each recipe that way.

A finished step leaves a marker with its command under
`WORKDIR/.recipe/`; rerunning the recipe skips steps whose marker holds
the same command, and an interrupted step resumes from its checkpoints.
`--dry-run` prints the commands instead (the model cards show them).
"""

import argparse
import dataclasses
import importlib.util
import json
import os
import shlex
import time

from muse_tf.training import jobs

# Training options that `shrunk` sets, and their values: two steps of tiny
# batches, each checkpointed, so a shrunk recipe runs the real one's jobs
# and hands each one's outputs to the next in seconds; no sample grids
# (they take longer than the two steps, and the jobs' tests cover them).
_SHRINK = {"num_steps": 2, "batch_size": 4, "checkpoint_every": 1,
           "sample_every": 0, "summary_every": 1, "steps_per_call": 1}
# Options that `shrunk` lowers to these values where a step sets them.
_SHRINK_AT_MOST = {"warmup_steps": 1, "disc_start": 1}


@dataclasses.dataclass(frozen=True)
class Step:
    """One job of a recipe: `muse-tf train JOB *args --option value ...`.

    Options are keyword arguments with `_` for `-`; `True` is a bare flag,
    `False` and `None` leave the flag out."""

    name: str
    job: str
    args: tuple = ()
    options: dict = dataclasses.field(default_factory=dict)

    def argv(self, workdir):
        """The job's command-line arguments, `{workdir}` filled in."""
        argv = [str(a).format(workdir=workdir) for a in self.args]
        for key, value in self.options.items():
            flag = "--" + key.replace("_", "-")
            if value is True:
                argv.append(flag)
            elif value is not False and value is not None:
                argv += [flag, str(value).format(workdir=workdir)]
        return argv


def step(name, job, *args, **options):
    """A `Step`; the spelling recipes use."""
    return Step(name, job, tuple(args), options)


def shrunk(recipe_step):
    """`recipe_step` cut to a few tiny training steps (`_SHRINK`); jobs
    without training steps are kept as they are."""
    options = dict(recipe_step.options)
    if "num_steps" not in options:
        return recipe_step
    options.update(_SHRINK)
    for key, most in _SHRINK_AT_MOST.items():
        if key in options:
            options[key] = min(options[key], most)
    return dataclasses.replace(recipe_step, options=options)


def load(path, shrink=False):
    """The steps of the recipe file at `path` (shrunk with `shrink`)."""
    if not os.path.isfile(path):
        raise ValueError(f"no recipe file {path!r}")
    spec = importlib.util.spec_from_file_location(
        "recipe_" + os.path.basename(path).removesuffix(".py"), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "steps"):
        raise ValueError(f"recipe {path} defines no steps(shrink)")
    steps = module.steps(shrink)
    names = [s.name for s in steps]
    if len(set(names)) != len(names):
        raise ValueError(f"recipe {path} repeats a step name: {names}")
    for s in steps:
        if s.job not in jobs.JOBS:
            raise ValueError(f"recipe {path}, step {s.name}: unknown job "
                             f"{s.job!r}; known: {', '.join(jobs.JOBS)}")
    return [shrunk(s) for s in steps] if shrink else steps


class _OneLineErrors(argparse.ArgumentParser):
    """A job's parser whose errors are ValueErrors (so a bad recipe option
    is a one-line error naming the step, not an exit from argparse)."""

    def error(self, message):
        raise ValueError(f"{self.prog}: {message}")


def job_parser(name, prog, one_line_errors=False):
    """(parser, module) of job `name`."""
    module = jobs.load(name)
    parser_class = (_OneLineErrors if one_line_errors
                    else argparse.ArgumentParser)
    parser = parser_class(prog=prog, description=module.__doc__,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    module.add_arguments(parser)
    return parser, module


def run_job(name, argv, prog="muse-tf train"):
    """Parses `argv` with job `name`'s flags and runs it."""
    parser, module = job_parser(name, f"{prog} {name}")
    module.run(parser.parse_args(argv))


def command(recipe_step, workdir):
    """The shell command of a step."""
    return shlex.join(["muse-tf", "train", recipe_step.job,
                       *recipe_step.argv(workdir)])


def run(steps, workdir, only=(), dry_run=False, data_dir=None):
    """Runs (or, with `dry_run`, prints) the recipe's steps in order, or
    only those named in `only`; finished ones are skipped. `data_dir`: the
    TFDS data directory of every step that reads TFDS data."""
    unknown = sorted(set(only) - {s.name for s in steps})
    if unknown:
        raise ValueError(f"no step {', '.join(unknown)} in this recipe; "
                         f"its steps: {', '.join(s.name for s in steps)}")
    markers = os.path.join(workdir, ".recipe")
    for recipe_step in steps:
        if only and recipe_step.name not in only:
            continue
        parser, module = job_parser(
            recipe_step.job, f"step {recipe_step.name}",
            one_line_errors=True)
        if data_dir and "data_dir" not in recipe_step.options and (
                "--data-dir" in parser._option_string_actions):
            recipe_step = dataclasses.replace(recipe_step, options={
                **recipe_step.options, "data_dir": data_dir})
        line = command(recipe_step, workdir)
        if dry_run:
            print(line)
            continue
        marker = os.path.join(markers, recipe_step.name + ".json")
        if os.path.exists(marker):
            with open(marker) as f:
                if json.load(f)["command"] == line:
                    print(f"step {recipe_step.name}: done before, skipped")
                    continue
        print(f"step {recipe_step.name}: {line}", flush=True)
        start = time.monotonic()
        module.run(parser.parse_args(recipe_step.argv(workdir)))
        print(f"step {recipe_step.name}: done in "
              f"{time.monotonic() - start:.0f} s", flush=True)
        os.makedirs(markers, exist_ok=True)
        with open(marker, "w") as f:
            json.dump({"command": line}, f)

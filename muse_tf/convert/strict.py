"""Strict weight assignment: every target gets exactly one source array of
its shape, and every source array is used. A converter that leaves a
weight at its initial value, or drops one of the checkpoint's, computes
something else without a word; this refuses instead, naming the
parameter."""

import numpy as np


def assign(model, pairs, sources, what):
    """Assigns `sources` (a {name: array} checkpoint) to `model`'s
    variables.

    Args:
      model: the Keras model whose every weight `pairs` must cover.
      pairs: [(variable, source name, transform or None)], one per model
        variable; `transform` maps the source array to the variable's
        layout.
      sources: {name: numpy array}.
      what: the checkpoint, as error messages name it.

    Raises:
      ValueError naming the first missing, unexpected or wrongly shaped
      parameter.
    """
    _check_covers(model, pairs)
    names = [name for _, name, _ in pairs]
    missing = [name for name in names if name not in sources]
    if missing:
        raise ValueError(f"{what} has no parameter {missing[0]!r}"
                         + (f" (and {len(missing) - 1} more missing)"
                            if len(missing) > 1 else ""))
    unexpected = sorted(set(sources) - set(names))
    if unexpected:
        raise ValueError(f"{what} has an unexpected parameter "
                         f"{unexpected[0]!r}"
                         + (f" (and {len(unexpected) - 1} more)"
                            if len(unexpected) > 1 else ""))
    values = []
    for variable, name, transform in pairs:
        value = np.asarray(sources[name])
        if transform is not None:
            value = transform(value)
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"{what}: parameter {name!r} has shape "
                             f"{tuple(sources[name].shape)}, expected "
                             f"{tuple(variable.shape)}")
        values.append(value)
    for (variable, _, _), value in zip(pairs, values):
        variable.assign(value.astype(variable.dtype))


def _check_covers(model, pairs):
    """A converter's own mapping must assign each weight of `model` once
    (a RuntimeError: a bug here, not a bad checkpoint)."""
    assigned = [id(variable) for variable, _, _ in pairs]
    left = [w.path for w in model.weights if id(w) not in set(assigned)]
    if left:
        raise RuntimeError(f"the mapping leaves {left[:3]} unassigned")
    if len(assigned) != len(set(assigned)):
        raise RuntimeError("the mapping assigns a weight twice")

"""The Halton order of a token grid (Besnier et al., "Halton Scheduler for
Masked Generative Image Transformer", ICLR 2025, §3).

Decoding in this fixed order instead of by confidence spreads each step's
new tokens evenly over the image: points of the 2-D Halton sequence
(bases 2 and 3, from its second point, (1/2, 1/3)) fall into grid cells,
the base-2 coordinate giving the row and the base-3 one the column, and a
cell takes its place in the order at its first point. As the authors'
`build_halton_mask` (valeoai/Halton-MaskGIT, Sampler/halton_sampler.py),
except that points are drawn until every cell has one: their fixed 10,000
points miss cells of most grids from 50x50 up (6 of 64x64's), whose
tokens are then never predicted (docs/design.md §5).
"""

import functools
import math

import numpy as np


def _radical_inverse(index, base):
    """The index-th point of the van der Corput sequence in `base`: the
    digits of `index` mirrored about the radix point, as float64."""
    numerator, denominator = 0, 1
    while index:
        index, digit = divmod(index, base)
        numerator = numerator * base + digit
        denominator *= base
    return numerator / denominator


@functools.cache
def halton_order(side):
    """Row-major positions of a side x side grid in Halton order.

    Cells come from ⌊x·side⌋ in float64, as the authors' code computes
    them (for sides 3 to 96 the same cells as exact rational arithmetic).

    Returns:
      int32 numpy [side²], each position once; read-only (cached).
    """
    order, seen, index = [], set(), 0
    while len(order) < side * side:
        index += 1
        row = math.floor(_radical_inverse(index, 2) * side)
        col = math.floor(_radical_inverse(index, 3) * side)
        if (row, col) not in seen:
            seen.add((row, col))
            order.append(row * side + col)
    order = np.array(order, np.int32)
    order.flags.writeable = False
    return order


@functools.cache
def halton_ranks(length):
    """Each position's place in the Halton order of its square grid.

    Args:
      length: L, the image tokens of a square grid (side = √L).

    Returns:
      int32 numpy [L]: ranks[p] = i where halton_order(side)[i] = p;
      read-only (cached).
    """
    side = math.isqrt(length)
    if side * side != length:
        raise ValueError(f"The Halton order needs a square token grid; "
                         f"{length} tokens are not one")
    ranks = np.empty(length, np.int32)
    ranks[halton_order(side)] = np.arange(length, dtype=np.int32)
    ranks.flags.writeable = False
    return ranks

"""Mask schedules and the parallel decoding loop (pure TF functions)."""

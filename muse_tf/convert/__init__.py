"""Converters of other implementations' released checkpoints into muse_tf
model directories (`muse-tf convert`)."""

"""Frozen text encoders and their in-graph tokenizer."""

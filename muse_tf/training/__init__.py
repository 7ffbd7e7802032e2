"""Training: train steps per model kind and the checkpointed loop."""

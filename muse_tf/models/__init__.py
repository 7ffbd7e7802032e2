"""Keras models: VQGAN tokenizer, masked transformer, discriminator."""

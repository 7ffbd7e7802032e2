"""What every muse_tf Keras model shares."""

import tensorflow as tf

from muse_tf.configs import TransformerConfig


class ExportedByMuseServing:
    """Opts a Keras model out of Keras's own SavedModel serving function.

    Keras 3 gives every model a `_default_save_signature` that
    `tf.saved_model.save` traces for each model it reaches, calling the
    model with a single input. Our models take several inputs (tokens, text
    states, mask) and are served through the signatures of
    `muse_tf.export`, so they expose none of their own.
    """

    @property
    def _default_save_signature(self):
        return None


class BuiltFromConfig:
    """A model built from one config dataclass (`config_class`): its Keras
    config is that dataclass's dict and the model's name, so
    `from_config(get_config())` rebuilds it."""

    config_class = None

    def get_config(self):
        return {"config": self.config.to_dict(), "name": self.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(cls.config_class.from_dict(config.pop("config")),
                   **config)


class ClassConditional(BuiltFromConfig):
    """What every class-conditional transformer shares: its class count
    (`set_num_classes`), the null class id one past the last class (the
    unconditional input of guidance and of the training's condition
    drop), and its Keras config (its TransformerConfig and class count).
    """

    config_class = TransformerConfig

    def set_num_classes(self, num_classes):
        self.num_classes = int(num_classes)
        if self.num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")

    @property
    def null_class_id(self):
        return self.num_classes

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


def check_token_ids(name, token_ids, length):
    """Raises ValueError unless `token_ids` has static shape [batch, length]."""
    if token_ids.shape.rank != 2 or token_ids.shape[1] != length:
        raise ValueError(f"{name} must have shape [batch, {length}], got "
                         f"{token_ids.shape}")


def check_text_states(text_states):
    """Raises ValueError unless `text_states` has rank 3."""
    if text_states.shape.rank != 3:
        raise ValueError("text_states must have shape [batch, length, dim], "
                         f"got {text_states.shape}")


class DecodesFromMemory:
    """Logits of a masked transformer from its image tokens and a memory.

    A model with this mixin splits its forward pass in two:
    `attention_memory(condition...)` computes what the image tokens
    cross-attend to (each block's key/value projections of the text, or of
    the low-res tokens and text), and `logits_from_memory` runs the image
    tokens through the blocks against it. The memory does not change
    between decoding steps, so the decoding loop computes it once per
    prompt; `call` runs both, for training. The model needs `config`,
    `embedding`, `blocks`, `final_norm` and `head`.
    """

    def logits_from_memory(self, token_ids, memory, training=False):
        """token_ids int32 [B, L] (with [MASK]s); memory: the output of
        `attention_memory`. Returns float32 logits [B, L, V]."""
        check_token_ids("token_ids", token_ids, self.config.sequence_length)
        key_values, memory_mask = memory
        x = self.embedding(token_ids, training=training)
        for block, key_value in zip(self.blocks, key_values):
            x = block(x, key_value, memory_mask, training=training)
        # float32 logits: the sampler's softmax and Gumbel ranking need them.
        return tf.cast(self.head(self.final_norm(x)), tf.float32)

    def _project_memory(self, memory, memory_mask):
        """(each block's (key, value) of memory [B, M, D], bool mask)."""
        return ([block.memory_key_value(memory) for block in self.blocks],
                tf.cast(memory_mask, tf.bool))

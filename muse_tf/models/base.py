"""What every muse_tf Keras model shares."""


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

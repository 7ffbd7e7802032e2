"""aMUSEd's frozen text encoder: transformers' `CLIPTextModelWithProjection`
(OpenAI's CLIP ViT-L/14 text tower) as the pipeline uses it
(docs/design.md §10.5), on keras-hub's `CLIPTextEncoder`.

aMUSEd conditions on two outputs of the 12-layer pre-LN transformer run
over the 77 ids (causal attention only: no padding mask, so all 77 states,
padding included, are used):
  - states: `hidden_states[-2]`, the output of the second-to-last layer,
    before the final LayerNorm (keras-hub's `intermediate_output_index=-2`
    is that tensor);
  - pooled: `text_embeds`, the bias-free projection of the final
    LayerNorm's output at the first EOS, found as the first maximum of the
    ids (transformers' `argmax` for configs with `eos_token_id` 2, as
    aMUSEd's is; the same position as its other branch's first 49407).
keras-hub's layers compute the same as transformers' (quick_gelu
z·σ(1.702z), LayerNorm ε 1e-5 inside the layers, attention scale
1/sqrt(head width)), except that its final LayerNorm's ε is fixed at 1e-6:
it is set here to the config's `layer_norm_eps` (1e-5). Only `pooled`
passes through that LayerNorm, and its inputs' variance dwarfs both ε
(at the golden random weights the two give `pooled` 3e-6 apart, below
the tests' 1e-4), but a row of near-constant states would show it.
keras-hub's `CLIPTextPooler` takes `argmax`, whose TF kernel does not
promise the first of equal maxima (with "<|endoftext|>" as the pad token
every padding position ties with EOS), so the first is taken explicitly.

B batch, T = 77 tokens, D width (768), P projection width (768).
"""

import keras
import keras_hub
import tensorflow as tf

_ACTIVATION = "quick_gelu"


class CLIPTextEncoder(tf.Module):
    """string [B] -> (states float32 [B, T, D], mask bool [B, T] all true,
    pooled float32 [B, P]); frozen.

    Args:
      tokenizer: a `CLIPTokenizer`, T = its `sequence_length`.
      vocabulary_size, hidden_dim, num_layers, num_heads, intermediate_dim,
      max_positions, projection_dim, layer_norm_epsilon, hidden_act: the
        text encoder's config.json (`vocab_size`, `hidden_size`,
        `num_hidden_layers`, `num_attention_heads`, `intermediate_size`,
        `max_position_embeddings`, `projection_dim`, `layer_norm_eps`,
        `hidden_act`; `muse_tf.convert.amused_text` maps them).

    Raises:
      ValueError: `hidden_act` is not quick_gelu (the only activation of
        CLIP's released text towers), or T exceeds `max_positions`.
    """

    def __init__(self, tokenizer, *, vocabulary_size, hidden_dim, num_layers,
                 num_heads, intermediate_dim, max_positions, projection_dim,
                 layer_norm_epsilon=1e-5, hidden_act=_ACTIVATION,
                 name="clip_text_encoder"):
        super().__init__(name=name)
        if hidden_act != _ACTIVATION:
            raise ValueError(f"hidden_act {hidden_act!r}: only "
                             f"{_ACTIVATION!r} is supported")
        if tokenizer.sequence_length > max_positions:
            raise ValueError(f"{tokenizer.sequence_length} tokens but "
                             f"{max_positions} positions")
        self.tokenizer = tokenizer
        self.max_length = tokenizer.sequence_length
        self.output_dim = int(hidden_dim)
        self.pooled_dim = int(projection_dim)
        self.backbone = keras_hub.models.CLIPTextEncoder(
            vocabulary_size=vocabulary_size, embedding_dim=hidden_dim,
            hidden_dim=hidden_dim, num_layers=num_layers, num_heads=num_heads,
            intermediate_dim=intermediate_dim,
            intermediate_activation=_ACTIVATION,
            intermediate_output_index=-2, max_sequence_length=max_positions,
            name="text_model")
        # Read at each call: the built graph picks the new value up.
        self.backbone.layer_norm.epsilon = float(layer_norm_epsilon)
        self.projection = keras.layers.Dense(
            projection_dim, use_bias=False, name="text_projection")
        self.projection.build((None, hidden_dim))
        self.backbone.trainable = False
        self.projection.trainable = False

    @property
    def weights(self):
        return self.backbone.weights + self.projection.weights

    def __call__(self, prompts):
        ids = self.tokenizer(prompts)
        states, pooled = self.encode_ids(ids)
        return states, tf.ones(tf.shape(ids), tf.bool), pooled

    def encode_ids(self, ids):
        """ids int32 [B, T] (the tokenizer's) -> (states float32 [B, T, D],
        pooled float32 [B, P])."""
        ids = tf.convert_to_tensor(ids, tf.int32)
        outputs = self.backbone({"token_ids": ids})
        length = tf.shape(ids)[1]
        # The first position holding the row's largest id: its EOS.
        positions = tf.range(length)[None, :]
        first = tf.reduce_min(tf.where(
            ids == tf.reduce_max(ids, axis=1, keepdims=True), positions,
            length), axis=1)
        final = tf.gather(outputs["sequence_output"], first, batch_dims=1)
        return outputs["intermediate_output"], self.projection(final)

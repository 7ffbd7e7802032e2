"""get_config -> JSON -> from_config round trips for every layer."""

import json

import keras
import pytest

from muse_tf.layers.adaln_transformer_block import AdaLNTransformerBlock
from muse_tf.layers.attention import TransformerBlock
from muse_tf.layers.convnext_block import ConvNeXtBlock
from muse_tf.layers.embeddings import ImageTokenEmbedding
from muse_tf.layers.global_response_norm import GlobalResponseNorm
from muse_tf.layers.heads import MLMHead
from muse_tf.layers.res_block import ResBlock
from muse_tf.layers.scalar_quantizer import FiniteScalarQuantizer
from muse_tf.layers.text_cross_attention_block import TextCrossAttentionBlock
from muse_tf.layers.uvit_stage import UViTStage
from muse_tf.layers.vector_quantizer import VectorQuantizer
from muse_tf.models.vqgan import VQGANDecoder, VQGANEncoder

LAYERS = [
    ImageTokenEmbedding(64, 8, 32, dropout=0.1),
    TransformerBlock(32, 2, 64, dropout=0.1),
    MLMHead(32, 64),
    ResBlock(16),
    VectorQuantizer(64, 8, commitment_cost=0.5),
    FiniteScalarQuantizer((8, 5, 5, 5)),
    VQGANEncoder(8, (1, 2), 1, 8),
    VQGANDecoder(8, (1, 2), 1),
    GlobalResponseNorm(8),
    ConvNeXtBlock(8, 12),
    TextCrossAttentionBlock(8, 2, 12),
    AdaLNTransformerBlock(8, 2, 10),
    UViTStage(8, 1, 2, 12, resample="up"),
]


@pytest.mark.parametrize("layer", LAYERS,
                         ids=lambda layer: type(layer).__name__)
def test_layer_config_round_trips_through_json(layer):
    serialized = json.loads(json.dumps(
        keras.saving.serialize_keras_object(layer)))
    restored = keras.saving.deserialize_keras_object(serialized)
    assert type(restored) is type(layer)
    assert restored.get_config() == layer.get_config()

"""In-graph WordPiece tokenizer: strings in, fixed-length ids out.

tensorflow-text's BertTokenizer with the encoder's own vocab.txt, so plain
strings enter the graph (and a SavedModel) and TF Serving needs no Python
pre-processing. Output is padded to a fixed length, so every batch has the
same shape; longer prompts are truncated to `max_length - 2` word pieces
plus [CLS] and [SEP].
"""

import tensorflow as tf
import tensorflow_text as tf_text

_CLS_ID = 101  # BERT uncased vocab ids of [CLS] and [SEP].
_SEP_ID = 102


class WordPieceTokenizer(tf.Module):
    """string [B] -> (ids int32 [B, max_length], mask bool [B, max_length])."""

    def __init__(self, vocab_path, max_length, name=None):
        super().__init__(name=name)
        self.max_length = int(max_length)
        # A file path: tf-text builds a lookup table whose initializer a
        # SavedModel copies in as an asset.
        self._tokenizer = tf_text.BertTokenizer(
            vocab_path, lower_case=True, token_out_type=tf.int64)

    def __call__(self, prompts):
        pieces = self._tokenizer.tokenize(prompts).merge_dims(-2, -1)
        pieces = pieces[:, : self.max_length - 2]
        ids, _ = tf_text.combine_segments(
            [pieces], start_of_sequence_id=_CLS_ID, end_of_segment_id=_SEP_ID)
        ids, mask = tf_text.pad_model_inputs(ids, self.max_length)
        return tf.cast(ids, tf.int32), tf.cast(mask, tf.bool)

"""In-graph WordPiece tokenizer: strings in, fixed-length ids out.

tensorflow-text's BertTokenizer with the encoder's own vocab.txt, so plain
strings enter the graph (and a SavedModel) and TF Serving needs no Python
pre-processing. Output is padded to a fixed length, so every batch has the
same shape; longer prompts are truncated to `max_length - 2` word pieces
plus [CLS] and [SEP].

Against Hugging Face's own tokenizer (the wheel's tokenizer.json), on the
golden file's 8 sentences and 8 more (accents, Hangul, Greek, Cyrillic,
emoji with skin tones, flags and ZWJ sequences, ligatures, full-width
letters), 32 tokens: this one gives the same ids for 13 of 16; the three
others differ by tf-text's NFKC case folding where Hugging Face lowercases
(ß -> ss, final ς -> σ, ﬁ/①/full-width letters -> fi/1/ASCII), the golden
sentences not among them. keras-hub 0.32.0's BertTokenizer (with its
MultiSegmentPacker, via BertTextClassifierPreprocessor) gives 10 of 16 as its
Hugging Face converter builds it (lowercase=True: accents are kept, so
"Crème brûlée" and Hangul are [UNK]) and 11 of 16 with strip_accents=True
(Hangul still [UNK]: it case-folds, recomposing the syllables, after the
NFD split; a ZWJ emoji sequence becomes one [UNK] per emoji, not one), so
it is not used. tests/text/keras_hub_test.py pins this.
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

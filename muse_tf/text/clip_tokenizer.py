"""CLIP's byte-level BPE tokenizer in the graph: prompts in, 77 ids out,
the same ids as transformers' (v5) `CLIPTokenizer` on the same files
(docs/design.md §10.5), so a SavedModel takes prompt strings.

transformers runs, per prompt:
  1. split off the special tokens' exact text (bos, eos, unk, pad: with a
     pad of "!", every "!" of a prompt becomes id 0, not "!</w>"'s 256);
  2. on each other piece: NFC, `\\s+` -> " ", lower-case char by char,
     then split off the special tokens saved as "normalized" (so in
     aMUSEd's files "<|ENDOFTEXT|>" is EOS, unless EOS is also the pad);
  3. words: `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|`
     `\\p{L}+|\\p{N}|[^\\s\\p{L}\\p{N}]+` (every digit is its own word),
     then each word split again by GPT-2's pattern, which the byte-level
     step applies: it only parts the special tokens' text, lower-cased
     ("<|ENDOFTEXT|>" -> "<|", "endoftext", "|>"), but that text also ends
     a run of punctuation ("|>..." is "|>" and "...");
  4. each word's UTF-8 bytes as GPT-2's byte symbols, `</w>` on the last,
     merged by rank; BOS, the first 75 tokens, EOS, padded with the pad id.

Here the splits are tf-text regex splits, the normalisation tf-text's NFC
and `tf.strings.lower`, and step 4 keras-hub's CLIPTokenizer's TF merge
loop and word cache (a lookup table filled as words are first seen). Its
own `tokenize` splits with GPT-2's pattern, groups digits and neither
normalises nor lower-cases, so only its BPE pieces are used. Its loop
merges the best-ranked pair's first occurrence per step where OpenAI's
merges all of them: the same result, as a merge's product only takes part
in later-ranked merges. Where TF's libraries differ from `tokenizers`':
  - RE2's `\\s` is ASCII: the pattern spells out Unicode's White_Space
    (U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028/9, U+202F, U+205F,
    U+3000), the 25 characters `tokenizers` treats as spaces;
  - `tf.strings.lower` lower-cases a final capital sigma to "ς" where Rust
    lower-cases each char alone ("σ"), so "Σ" is replaced by "σ" first;
  - tf-text's regex split reads C strings: a prompt ends at its first NUL
    (transformers gives U+0000 a byte token).
Measured over every code point: the same classes and lower case except
for characters assigned in Unicode 14-16, newer than TF's RE2 and ICU
tables (5,004 letters and digits such as CJK Extension I, Garay, Kirat Rai
count as punctuation here; 95 capitals such as Vithkuqi's stay upper
case), which split or merge differently. On 3,000 random prompts mixing
the cases above, in each folder layout of tests/golden/clip_vocab.py, the
ids equal transformers'.

B batch, T = 77 (`model_max_length`).
"""

import json
import os

import keras_hub
import tensorflow as tf
import tensorflow_text as tf_text

# Unicode's White_Space, the characters `tokenizers`' (Oniguruma) `\s`
# matches and RE2's does not all match.
_SPACE = (r"\t\n\x{0b}\f\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}"
          r"\x{2029}\x{202f}\x{205f}\x{3000}")
_CONTRACTIONS = r"'s|'t|'re|'ve|'m|'ll|'d"
_OTHER = rf"[^{_SPACE}\p{{L}}\p{{N}}]+"
_WORD = (r"<\|startoftext\|>|<\|endoftext\|>|"
         rf"{_CONTRACTIONS}|\p{{L}}+|\p{{N}}|{_OTHER}")
# GPT-2's pattern less its alternatives for spaces (words have none).
_BYTE_LEVEL_WORD = rf"{_CONTRACTIONS}|\p{{L}}+|\p{{N}}+|{_OTHER}"
_SPACES = rf"[{_SPACE}]+"
_BOS, _EOS = "<|startoftext|>", "<|endoftext|>"
# transformers' named special tokens, in its order, with CLIPTokenizer's
# defaults.
_SPECIAL_TOKENS = (("bos_token", _BOS), ("eos_token", _EOS),
                   ("unk_token", _EOS), ("pad_token", _EOS))


def _literal(text):
    """`text` as an RE2 pattern matching exactly it."""
    return "".join(f"\\x{{{ord(c):x}}}" for c in text)


def _normalize(text):
    """NFC, then lower case char by char as Rust's `char::to_lowercase`
    (spaces are left: the word pattern skips them)."""
    text = tf_text.normalize_utf8(text, "NFC")
    return tf.strings.lower(
        tf.strings.regex_replace(text, "\u03a3", "\u03c3"), encoding="utf-8")


def _group(ids, splits):
    """Ragged ids [N, None] of N parts -> [M, None] of M wholes, whole i
    being parts splits[i]:splits[i + 1]."""
    return tf.RaggedTensor.from_row_splits(
        ids.values, tf.gather(ids.row_splits, splits))


class _SpecialTokens(tf.Module):
    """Splits special tokens' text off strings, as `tokenizers`' added
    vocabulary does: each match becomes its id, the rest goes on."""

    def __init__(self, tokens):
        super().__init__()
        # Longest first: RE2 takes the first alternative that matches, the
        # added vocabulary the longest.
        texts = sorted(tokens, key=len, reverse=True)
        self.pattern = "|".join(_literal(t) for t in texts)
        self.ids = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(texts),
                tf.constant([tokens[t] for t in texts], tf.int32)),
            default_value=-1)

    def __call__(self, texts, encode):
        """string [N] -> int32 ragged [N, None]; `encode` maps the other
        pieces, string [M], to int32 ragged [M, None]."""
        pieces = tf_text.regex_split(texts, self.pattern, self.pattern)
        ids = self.ids.lookup(pieces.flat_values)
        is_special = ids >= 0
        special = tf.RaggedTensor.from_row_lengths(
            tf.boolean_mask(ids, is_special), tf.cast(is_special, tf.int64))
        other = encode(tf.where(is_special, "", pieces.flat_values))
        # Each piece has either its special id or the others' ids.
        return _group(tf.concat([special, other], axis=1), pieces.row_splits)


class CLIPTokenizer(tf.Module):
    """string [B] -> int32 [B, T]: BOS, up to T - 2 BPE ids, EOS, pad ids.

    Args:
      vocabulary: {token: id}, vocab.json.
      merges: ["a b", ...] in rank order, merges.txt without its
        "#version" line.
      pad_token, bos_token, eos_token, unk_token: the special tokens'
        text. Each is split off a prompt before anything else, as
        transformers does with its added tokens: on the raw text, or on
        the normalised text for those in `normalized_tokens`.
      normalized_tokens: the special tokens whose files say
        `"normalized": true` ("<|ENDOFTEXT|>" is then EOS).
      sequence_length: T.
    """

    def __init__(self, vocabulary, merges, *, pad_token=_EOS, bos_token=_BOS,
                 eos_token=_EOS, unk_token=_EOS, normalized_tokens=(),
                 sequence_length=77, name="clip_tokenizer"):
        super().__init__(name=name)
        specials = {pad_token, bos_token, eos_token, unk_token}
        missing = sorted(t for t in specials if t not in vocabulary)
        if missing:
            raise ValueError(f"special token {missing[0]!r} is not in the "
                             "vocabulary")
        self.sequence_length = int(sequence_length)
        self.pad_id = int(vocabulary[pad_token])
        self.bos_id = int(vocabulary[bos_token])
        self.eos_id = int(vocabulary[eos_token])
        raw = {t: vocabulary[t] for t in specials - set(normalized_tokens)}
        normalized = {
            _normalize(tf.constant(t)).numpy().decode("utf-8"): vocabulary[t]
            for t in specials & set(normalized_tokens)}
        self._raw_tokens = _SpecialTokens(raw) if raw else None
        self._normalized_tokens = (_SpecialTokens(normalized) if normalized
                                   else None)
        self._bpe = keras_hub.tokenizers.CLIPTokenizer(
            vocabulary=vocabulary, merges=list(merges),
            _allow_python_workflow=False)

    @classmethod
    def from_folder(cls, path):
        """The tokenizer of a diffusers `tokenizer/` folder: vocab.json,
        merges.txt, and the special tokens and `model_max_length` of
        special_tokens_map.json and tokenizer_config.json, as transformers
        reads them (the map wins; its `added_tokens_decoder` gives a
        token's `normalized` flag; where one text names several tokens the
        last of bos, eos, unk, pad sets it)."""
        for name in ("vocab.json", "merges.txt"):
            if not os.path.exists(os.path.join(path, name)):
                raise ValueError(
                    f"{path} has no {name}: a CLIP tokenizer folder holds "
                    "vocab.json and merges.txt, as the released aMUSEd "
                    "folders do (a tokenizer.json alone is not read)")
        with open(os.path.join(path, "vocab.json"), encoding="utf-8") as f:
            vocabulary = json.load(f)
        with open(os.path.join(path, "merges.txt"), encoding="utf-8") as f:
            merges = [line.rstrip("\r\n") for line in f]
        merges = [m for m in merges if m and not m.startswith("#version")]
        config = {}
        for name in ("tokenizer_config.json", "special_tokens_map.json"):
            file = os.path.join(path, name)
            if os.path.exists(file):
                with open(file, encoding="utf-8") as f:
                    config.update(json.load(f))
        added = {token["content"]: token for token in
                 config.get("added_tokens_decoder", {}).values()}
        tokens, normalized = {}, {}
        for key, default in _SPECIAL_TOKENS:
            token = config.get(key, default)
            token = added.get(token, token) if isinstance(token, str) \
                else added.get(token["content"], token)
            text = token["content"] if isinstance(token, dict) else token
            tokens[key] = text
            # transformers' AddedToken(**token, special=True) defaults
            # `normalized` to False, as it makes strings.
            normalized[text] = isinstance(token, dict) and bool(
                token.get("normalized", False))
        return cls(vocabulary, merges, **tokens,
                   normalized_tokens=[t for t, n in normalized.items() if n],
                   sequence_length=config.get("model_max_length", 77))

    def __call__(self, prompts):
        prompts = tf.convert_to_tensor(prompts, tf.string)
        ids = self._special_split(self._raw_tokens, prompts, self._normalized)
        ids = ids[:, : self.sequence_length - 2]
        batch = tf.shape(prompts)[0]
        ids = tf.concat([tf.fill([batch, 1], self.bos_id), ids,
                         tf.fill([batch, 1], self.eos_id)], axis=1)
        return ids.to_tensor(default_value=self.pad_id,
                             shape=[None, self.sequence_length])

    @staticmethod
    def _special_split(tokens, texts, encode):
        return encode(texts) if tokens is None else tokens(texts, encode)

    def _normalized(self, texts):
        """Raw text pieces string [N] -> int32 ragged [N, None]."""
        return self._special_split(self._normalized_tokens,
                                   _normalize(texts), self._text_ids)

    def _text_ids(self, texts):
        """Normalised text string [N] -> its words' ids, int32 ragged
        [N, None]."""
        words = tf_text.regex_split(texts, f"{_SPACES}|{_WORD}", _WORD)
        parts = tf_text.regex_split(words.flat_values, _BYTE_LEVEL_WORD,
                                    _BYTE_LEVEL_WORD)
        ids = self._word_ids(parts.flat_values)
        return _group(_group(ids, parts.row_splits), words.row_splits)

    def _word_ids(self, words):
        """words string [N] -> their BPE ids, int32 ragged [N, None].

        keras-hub's word cache: merged once, words are looked up."""
        bpe = self._bpe
        cached = bpe.cache.lookup(words)
        unseen = tf.equal(cached, "")

        def merge_unseen():
            bpe._bpe_merge_and_update_cache_tf(tf.boolean_mask(words, unseen))
            return bpe.cache.lookup(words)

        merged = tf.cond(tf.reduce_any(unseen), merge_unseen, lambda: cached)
        return tf.cast(bpe.token_to_id_map.lookup(
            tf.strings.split(merged, sep=" ")), tf.int32)

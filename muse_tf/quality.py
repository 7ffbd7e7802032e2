"""A model's quality report, from names: what `muse-tf eval` and
`docs/quality_report.py` run.

A report needs three things: the pipeline, a judge (a classifier trained on
real images, `muse-tf train classifier`) and held-out real images with
their classes. Bundled models name their own judge and data (`JUDGES`);
other models give them. Class-conditional models are judged per class
(`evaluate.class_model_report`); text-to-image models on prompts naming
each emoji the judge knows, in three sets (`fidelity_prompts`), with FID
against the held-out emoji (`evaluate.text_model_report`). Both reports
also judge real training images (by default the training split of the
held-out data's dataset, `training_split`), and their VQGAN round trips:
what the tokenizer keeps of the images the transformer learned to
reproduce. `evaluate_tokenizer` reports the same of a VQGAN alone.
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


def training_split(spec):
    """The training split of a held-out data spec's dataset:
    "emoji_captions/full_128:test" -> "emoji_captions/full_128:train"."""
    return spec.partition(":")[0] + ":train"


def load_real(spec, image_size, data_dir=None, shrink=False):
    """Real images of a spec: "fashion_mnist:SPLIT" -> (images, labels);
    "emoji_captions/CONFIG:SPLIT" (in the TFDS `data_dir`) -> (images,
    emoji names, style names). A split may end in "[:N]" (as in TFDS), for
    its first N images only. Images must be `image_size` pixels, or with
    `shrink` at least that, and are then area-averaged down to it, as the
    training scripts' data sources shrink them (a 32-pixel tokenizer learns
    the 64-pixel emoji so)."""
    kind, _, split = spec.partition(":")
    split, count = _split_and_count(split or "test", spec)
    if kind == "fashion_mnist":
        from muse_tf.data import fashion_mnist
        data = fashion_mnist.load(split)
    elif kind.startswith("emoji_captions/"):
        from muse_tf.data import emoji_captions
        data = emoji_captions.load_labelled(split, kind.partition("/")[2],
                                            data_dir)
    else:
        raise ValueError(f"unknown real data {spec!r}: expected "
                         "fashion_mnist:SPLIT or emoji_captions/CONFIG:SPLIT")
    images, *labels = (part[:count] for part in data)
    stored = images.shape[1]
    if stored != image_size:
        if not shrink or stored < image_size:
            raise ValueError(f"{spec} holds {stored}-pixel images; the "
                             f"model's are {image_size} pixels")
        from muse_tf.evaluate import resize_to
        images = resize_to(images, image_size)
    return (images, *labels)


def evenly_spaced(data, count):
    """`count` evenly spaced examples of `load_real`'s data (a large
    training split's fixed subset; every example if it has no more), and
    which they are, for the report: "950 evenly spaced of 8519"."""
    if count < 1:
        raise ValueError(f"training images to judge must be >= 1, got "
                         f"{count}")
    total = len(data[0])
    if count >= total:
        return data, f"all {total}"
    index = np.round(np.linspace(0, total - 1, count)).astype(int)
    return (tuple(part[index] for part in data),
            f"{count} evenly spaced of {total}")


def judge_classes(data, class_names, spec):
    """The judge's class of each example of `load_real`'s data: a
    Fashion-MNIST label as it is, an emoji's name looked up in the judge's
    `class_names` (ValueError if the judge does not know some)."""
    if len(data) == 2:
        return np.asarray(data[1])
    index = {n: i for i, n in enumerate(class_names)}
    unknown = sorted(set(data[1]) - set(index))
    if unknown:
        raise ValueError(f"the judge does not know {len(unknown)} emoji of "
                         f"{spec}, e.g. {unknown[:3]}")
    return np.array([index[n] for n in data[1]], np.int64)


def load_train(spec, image_size, count, held_out, class_names,
               data_dir=None, shrink=False):
    """Real training images to judge beside `held_out` ones: ((`count`
    evenly spaced images of `spec` (`evenly_spaced`; None: as many as
    held out), their judge classes), the report's record of them:
    real_train, real_train_images, real_train_selection)."""
    data, selection = evenly_spaced(
        load_real(spec, image_size, data_dir, shrink),
        held_out if count is None else count)
    record = {"real_train": spec, "real_train_images": len(data[0]),
              "real_train_selection": selection}
    return (data[0], judge_classes(data, class_names, spec)), record


def round_trip_summary(report):
    """One line of the judge's accuracy on real images and on their VQGAN
    round trips, held-out and training (those a report has): what the
    CLI prints beside the JSON."""
    parts = []
    for name, suffix in (("held-out", ""), ("training", "_train")):
        real = report.get(f"judge_real{suffix}_accuracy")
        if real is None:
            continue
        trip = report[f"judge_vqgan_round_trip{suffix}_accuracy"]
        kept = report.get(f"judge_vqgan_round_trip{suffix}_kept")
        kept = "—" if kept is None else f"{kept:.1%}"
        parts.append(f"{name} {real:.1%} real, {trip:.1%} round trip "
                     f"(keeps {kept})")
    return "judge accuracy: " + "; ".join(parts)


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
             fid_features=None, real_train=None, train_images=None,
             **decode):
    """The report of a loaded pipeline (see the module docstring) and a
    sample grid (uint8 image: 10 per class for a class model, the first 64
    training-prompt images for a text model). `per_class` is for class
    models, `num_classes` (a subset of emoji) and `prompt_sets` (which of
    PROMPT_SETS to generate) for text models; `data_dir`:
    the TFDS directory of the emoji data (whose npm tarballs name the
    synonyms); `real_train`: the training images' spec (default: the
    training split of `real`'s dataset), of which `train_images` evenly
    spaced ones are judged (default: as many as the held-out images);
    `decode`: num_steps, guidance_scale (and super_res_* for a cascade)."""
    from muse_tf import evaluate as metrics
    from muse_tf.data.pipeline import image_grid
    from muse_tf.models.classifier import load_judge

    fid_features = fid_features or metrics.FIDFeatures()
    judge, class_names = load_judge(judge_dir, fid_features)
    real_train = real_train or training_split(real)
    setup = {"judge": recorded_path(judge_dir), "real": real, "seed": seed,
             "sampler": pipe.config.sampler.to_dict(),
             **{k: v for k, v in decode.items() if v is not None}}
    if pipe.config.classes is not None:
        images, labels = load_real(real, pipe.image_size, data_dir)
        train, record = load_train(real_train, pipe.image_size,
                                   train_images, len(images), class_names,
                                   data_dir)
        report, generated, _ = metrics.class_model_report(
            pipe, judge, images, labels, per_class, seed, batch_size,
            fid_features, real_train=train, **decode)
        shown = min(10, per_class)
        rows = generated.reshape(pipe.config.classes.num_classes, per_class,
                                 *generated.shape[1:])[:, :shown]
        grid = image_grid(rows.reshape(-1, *generated.shape[1:]), shown)
        return ({**setup, **record, "per_class": per_class, **report},
                grid.numpy())
    from muse_tf.data.emoji_captions import (
        captions_for,
        manual_directory,
        unicode_names,
    )

    for spec in (real, real_train):
        if not spec.startswith("emoji_captions/"):
            raise ValueError("a text model is judged on emoji, "
                             f"emoji_captions/CONFIG:SPLIT; got {spec!r}")
    data = load_real(real, pipe.image_size, data_dir)
    labels = judge_classes(data, class_names, real)
    train, record = load_train(real_train, pipe.image_size, train_images,
                               len(data[0]), class_names, data_dir)
    sets = fidelity_prompts(class_names,
                            unicode_names(manual_directory(data_dir)),
                            num_classes)
    sets = {k: v for k, v in sets.items() if k in prompt_sets}
    images, names, styles = data
    report, generated = metrics.text_model_report(
        pipe, judge, sets, images, labels,
        [captions_for(n, s)[0] for n, s in zip(names, styles)], seed,
        batch_size, fid_features, real_train=train, **decode)
    shown = next(iter(generated.values()))[:64]  # The first prompt set.
    columns = min(8, len(shown))
    grid = image_grid(shown[:len(shown) // columns * columns], columns)
    return {**setup, **record, **report}, grid.numpy()


def evaluate_tokenizer(vqgan, judge_dir, real, real_train=None,
                       train_images=None, seed=0, batch_size=32,
                       data_dir=None, fid_features=None):
    """The report of a VQGAN tokenizer alone (`evaluate.tokenizer_report`)
    on real images at its size: `real`'s held-out images and `train_images`
    evenly spaced ones of `real_train` (defaults as in `evaluate`), larger
    images area-averaged down to its size (`load_real`'s `shrink`)."""
    from muse_tf import evaluate as metrics
    from muse_tf.models.classifier import load_judge

    fid_features = fid_features or metrics.FIDFeatures()
    judge, class_names = load_judge(judge_dir, fid_features)
    real_train = real_train or training_split(real)
    size = vqgan.config.image_size
    data = load_real(real, size, data_dir, shrink=True)
    held_out = data[0], judge_classes(data, class_names, real)
    train, record = load_train(real_train, size, train_images,
                               len(data[0]), class_names, data_dir,
                               shrink=True)
    report = metrics.tokenizer_report(vqgan, judge, held_out, train, seed,
                                      batch_size, fid_features)
    return {"judge": recorded_path(judge_dir), "judge_image_size":
            judge.image_size, "image_size": size, "real": real, **record,
            "seed": seed, **report}

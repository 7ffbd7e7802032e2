"""One owner of a model directory: its manifest, and saving, loading,
adding and packing its components.

A model directory holds `model.json`, the manifest, and one Keras weights
file per trained component (the text encoder is frozen; its weights come
from its own package, or for a CLIP encoder from the `text_encoder/` and
`tokenizer/` folders kept in the directory, `TEXT_FOLDERS`):

  {"config": the ModelConfig,
   "components": {NAME: {"class": Keras class, "config": its get_config(),
                         "weights": "NAME.weights.h5"}, ...}}

The components of a model (`components`) are its base transformer
(`transformer`, or `class_transformer`: the class embedding with its
transformer), `vqgan`, and for a cascade `super_res` and `high_res_vqgan`,
plus `large_decoder` once Muse's larger decoder is fine-tuned for the last
VQGAN (`last_vqgan`): the same VQGAN with a larger decoder, which can draw
the final pixels in its place. Every other module reads and writes model
directories through this one.

Directories written before the manifest (a `config.json` and the same
weight file names) load as they are; `muse-tf train pack OLD NEW` (or
`save`) writes them anew with a manifest.
"""

import dataclasses
import json
import os
import shutil

import h5py
import numpy as np

from muse_tf.configs import ModelConfig
from muse_tf.models.class_conditional import (
    CLASS_TRANSFORMERS,
    ClassConditionalTransformer,
)
from muse_tf.models.maskgit_transformer import MaskGITTransformer
from muse_tf.models.super_res import MuseSuperRes
from muse_tf.models.transformer import MuseTransformer
from muse_tf.models.uvit_transformer import UViTTransformer
from muse_tf.models.vqgan import VQGAN
from muse_tf.presets import BUNDLED_MODELS, DEFAULT_MODEL

MANIFEST = "model.json"
LEGACY_CONFIG = "config.json"
LARGE_DECODER = "large_decoder"
# Its name when only a cascade's high-res VQGAN could have one.
_HIGH_RES_LARGE_DECODER = "high_res_vqgan_large_decoder"
_CLASSES = {cls.__name__: cls for cls in (
    MuseTransformer, ClassConditionalTransformer, MaskGITTransformer,
    MuseSuperRes, UViTTransformer, VQGAN)}

DECODERS = ("base", "large")
# A CLIP text encoder's frozen files, kept in the model directory.
TEXT_FOLDERS = ("text_encoder", "tokenizer")


def weights_file(name):
    return f"{name}.weights.h5"


# Every component's weights file, by component name.
WEIGHT_FILES = {name: weights_file(name) for name in (
    "transformer", "class_transformer", "vqgan", "super_res",
    "high_res_vqgan", LARGE_DECODER)}


def last_vqgan(config):
    """The component name of the VQGAN that draws the final pixels (the
    one a larger decoder replaces)."""
    return "vqgan" if config.super_res is None else "high_res_vqgan"


def components(config):
    """{name: (Keras class, its config)} of a ModelConfig's trained parts
    (the larger decoder, fine-tuned later, is added with
    `add_component`)."""
    parts = {"vqgan": (VQGAN, config.vqgan)}
    if config.uvit:
        parts["transformer"] = (UViTTransformer, config.transformer)
    elif config.classes is not None:
        parts["class_transformer"] = (
            CLASS_TRANSFORMERS[config.transformer.architecture],
            config.transformer)
    else:
        parts["transformer"] = (MuseTransformer, config.transformer)
    if config.super_res is not None:
        parts["super_res"] = (MuseSuperRes, config.super_res.transformer)
        parts["high_res_vqgan"] = (VQGAN, config.super_res.vqgan)
    return parts


def _entry(cls, keras_config, name):
    return {"class": cls.__name__, "config": keras_config,
            "weights": weights_file(name)}


def _entries(config):
    """Manifest entries of `config`'s components, from the config alone."""
    entries = {}
    for name, (cls, part) in components(config).items():
        keras_config = {"config": part.to_dict(), "name": name}
        if name == "class_transformer":
            keras_config["num_classes"] = config.classes.num_classes
        entries[name] = _entry(cls, keras_config, name)
    return entries


def build(config, given=None):
    """{name: model}: the `given` models, and the rest built afresh from
    `config`."""
    given = dict(given or {})
    entries = _entries(config)
    unknown = sorted(set(given) - set(entries))
    if unknown:
        raise ValueError(f"Unknown components {unknown} for this config")
    return {name: given.get(name) or _CLASSES[entry["class"]].from_config(
        entry["config"]) for name, entry in entries.items()}


def resolve(name_or_dir=None, stages=None):
    """(directory, stages) of a bundled model name or a directory."""
    name_or_dir = name_or_dir or DEFAULT_MODEL
    directory, bundled_stages = BUNDLED_MODELS.get(name_or_dir,
                                                   (name_or_dir, "all"))
    if not is_model_dir(directory):
        raise ValueError(
            f"Unknown model {name_or_dir!r}: not a bundled model "
            f"({', '.join(BUNDLED_MODELS)}) nor a model directory (with "
            f"{MANIFEST})")
    return directory, stages or bundled_stages


def is_model_dir(directory):
    return any(os.path.exists(os.path.join(directory, name))
               for name in (MANIFEST, LEGACY_CONFIG))


def read_manifest(directory):
    """(ModelConfig, {name: entry}) of a model directory, manifest or
    legacy. A text encoder kept in the directory is named by its path."""
    path = os.path.join(directory, MANIFEST)
    if os.path.exists(path):
        with open(path) as f:
            manifest = json.load(f)
        config = ModelConfig.from_dict(manifest["config"])
        if config.text is not None and config.text.kind == "clip":
            config = dataclasses.replace(config, text=dataclasses.replace(
                config.text, handle=os.path.abspath(os.path.join(
                    directory, config.text.handle))))
        entries = manifest["components"]
        if _HIGH_RES_LARGE_DECODER in entries:
            entries[LARGE_DECODER] = entries.pop(_HIGH_RES_LARGE_DECODER)
        return config, entries
    with open(os.path.join(directory, LEGACY_CONFIG)) as f:
        config = ModelConfig.from_dict(json.load(f))
    entries = _entries(config)
    large = config.last_vqgan.large_decoder
    old_file = weights_file(_HIGH_RES_LARGE_DECODER)
    if large and os.path.exists(os.path.join(directory, old_file)):
        entries[LARGE_DECODER] = {
            **_entry(VQGAN, {"config": large.to_dict(),
                             "name": last_vqgan(config)}, LARGE_DECODER),
            "weights": old_file}
    return config, entries


def _keep_text_encoder(directory, config):
    """A CLIP encoder's folders copied into `directory` (where they are not
    already), and the config naming them relative to it, so the directory
    moves and serves as a whole."""
    if config.text is None or config.text.kind != "clip":
        return config
    source = os.path.abspath(config.text.handle)
    if source != os.path.abspath(directory):
        for name in TEXT_FOLDERS:
            shutil.copytree(os.path.join(source, name),
                            os.path.join(directory, name), dirs_exist_ok=True)
    return dataclasses.replace(config, text=dataclasses.replace(
        config.text, handle="."))


def _write_manifest(directory, config, entries):
    os.makedirs(directory, exist_ok=True)
    config = _keep_text_encoder(directory, config)
    with open(os.path.join(directory, MANIFEST), "w") as f:
        json.dump({"config": config.to_dict(), "components": entries}, f,
                  indent=2)


def _load_component(directory, entry):
    cls = _CLASSES.get(entry["class"])
    if cls is None:
        raise ValueError(f"{directory}: unknown component class "
                         f"{entry['class']!r}")
    path = os.path.join(directory, entry["weights"])
    if not os.path.exists(path):
        raise ValueError(f"{directory} has no {entry['weights']}")
    model = cls.from_config(entry["config"])
    model.load_weights(path)
    return model


def load(name_or_dir=None, stages=None, decoder="base"):
    """(config, {name: model with its weights}) of a bundled model name or
    a model directory. stages: "all", or "base" to leave out a cascade's
    super-res stage; decoder: "base", or "large" for the larger decoder in
    place of the last VQGAN."""
    directory, stages = resolve(name_or_dir, stages)
    if stages not in ("all", "base"):
        raise ValueError(f"stages must be 'all' or 'base', got {stages!r}")
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {DECODERS}, got "
                         f"{decoder!r}")
    config, entries = read_manifest(directory)
    if stages == "base":
        config = dataclasses.replace(config, super_res=None)
    wanted = dict(components(config))
    if decoder == "large":
        if (LARGE_DECODER not in entries
                or config.last_vqgan.large_decoder is None):
            raise ValueError(f"{directory} has no large decoder for its "
                             f"last VQGAN ({last_vqgan(config)})")
        entries = {**entries, last_vqgan(config): entries[LARGE_DECODER]}
    missing = [name for name in wanted if name not in entries]
    if missing:
        raise ValueError(
            f"{directory} has no {', '.join(missing)}" + (
                ' (it was saved with its larger decoder in place: load it '
                'with decoder="large")' if LARGE_DECODER in entries else ""))
    return config, {name: _load_component(directory, entries[name])
                    for name in wanted}


def save(directory, config, models):
    """Writes the manifest and every component's weights to `directory`.
    A last VQGAN with the config's larger decoder is saved as the larger
    decoder."""
    os.makedirs(directory, exist_ok=True)
    entries = {}
    for name in components(config):
        model = models[name]
        if (name == last_vqgan(config)
                and model.config == config.last_vqgan.large_decoder):
            name = LARGE_DECODER
        model.save_weights(os.path.join(directory, weights_file(name)))
        entries[name] = _entry(type(model), model.get_config(), name)
    _write_manifest(directory, config, entries)


def add_component(directory, name, model, config=None):
    """Writes `model` into an existing model directory as component `name`
    (replacing one of that name), and `config` as its config if given
    (e.g. a cascade's config when a super-res stage joins a base model)."""
    old_config, entries = read_manifest(directory)
    config = config or old_config
    if name not in components(config) and name != LARGE_DECODER:
        raise ValueError(f"{name!r} is not a component of this model: "
                         f"{sorted(components(config))}")
    model.save_weights(os.path.join(directory, weights_file(name)))
    entries[name] = _entry(type(model), model.get_config(), name)
    _write_manifest(directory, config, entries)
    if os.path.exists(os.path.join(directory, LEGACY_CONFIG)):
        os.remove(os.path.join(directory, LEGACY_CONFIG))


def pack_weights(source, destination):
    """Copies the .weights.h5 file `source` to `destination`, float32
    datasets as float16, everything else as it is, except the optimizer's
    state (Keras saves it with a compiled model, such as a judge trained
    with `fit`): a shipped model is used, not trained further.

    Keras loads a float16 array into a float32 variable by casting, so a
    packed file loads like any other and computes in float32; only the
    weights' last bits are rounded (relative error below 2^-11)."""
    with h5py.File(source, "r") as src, h5py.File(destination, "w") as dst:
        def copy(name, item):
            if name.split("/")[0] == "optimizer":
                return
            if isinstance(item, h5py.Group):
                group = dst.require_group(name)
                group.attrs.update(item.attrs)
            else:
                data = item[()]
                if data.dtype == np.float32:
                    data = data.astype(np.float16)
                dst.create_dataset(name, data=data)
        dst.attrs.update(src.attrs)
        src.visititems(copy)


def pack(source, destination):
    """Packs a directory of weights and JSON files (a model directory, or a
    fidelity judge's) for bundling: weights as float16 (`pack_weights`),
    JSON copied; a legacy model directory gets a manifest. Returns
    {file name: bytes written}."""
    if not any(name.endswith(".json") for name in os.listdir(source)):
        raise ValueError(f"{source} is not a model directory (no "
                         f"{MANIFEST} or config.json)")
    legacy_model = (os.path.exists(os.path.join(source, LEGACY_CONFIG))
                    and not os.path.exists(os.path.join(source, MANIFEST))
                    and _is_model_config(os.path.join(source,
                                                      LEGACY_CONFIG)))
    os.makedirs(destination, exist_ok=True)
    written = {}
    for name in sorted(os.listdir(source)):
        target = os.path.join(destination, name)
        if name.endswith(".weights.h5"):
            pack_weights(os.path.join(source, name), target)
        elif name.endswith(".json") and not (legacy_model
                                             and name == LEGACY_CONFIG):
            shutil.copyfile(os.path.join(source, name), target)
        else:
            continue
        written[name] = os.path.getsize(target)
    if legacy_model:
        _write_manifest(destination, *read_manifest(source))
        written[MANIFEST] = os.path.getsize(os.path.join(destination,
                                                         MANIFEST))
    return written


def _is_model_config(path):
    with open(path) as f:
        keys = set(json.load(f))
    return "vqgan" in keys and "transformer" in keys

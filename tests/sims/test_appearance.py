"""Appearance distributions: spec validation, train/held-out disjointness, looks in the frame."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from visiongym.sims.appearance import (
    BOUNDS,
    HELD_OUT,
    SHIFTS,
    SURFACES,
    TRAIN,
    AppearanceSpec,
    draw_look,
    make_appearance,
    parse_appearance,
)
from visiongym.sims.errors import UsageError


def test_unknown_key_and_out_of_bounds_ranges_are_named():
    with pytest.raises(UsageError, match="appearance key 'light_colour' unknown; choose from: light_intensity, "):
        AppearanceSpec.from_mapping({"light_colour": 1.0})
    with pytest.raises(UsageError, match=r"light_intensity=\(0.0, 1.0\) out of bounds; need 0.1 <= low <= high <= 3"):
        AppearanceSpec(light_intensity=(0.0, 1.0))
    with pytest.raises(UsageError, match=r"camera_fov=\(1.2, 1.1\) out of bounds"):
        AppearanceSpec(camera_fov=(1.2, 1.1))
    with pytest.raises(UsageError, match="shadows=2 out of bounds; must be a probability"):
        AppearanceSpec(shadows=2)
    with pytest.raises(UsageError, match="texture_patterns=.*choose one or more of: checker, noise, stripes"):
        AppearanceSpec(texture_patterns=("plaid",))
    with pytest.raises(UsageError, match="appearance 'sunny' unknown; choose one of: default, random, held_out, light_dim"):
        make_appearance("sunny")
    with pytest.raises(UsageError, match="'pitch_tint=0.5:x' is not a number|pitch_tint='0.5:x' is not a number"):
        parse_appearance("pitch_tint=0.5:x")


def test_text_specs_parse_over_the_default_look():
    spec = make_appearance("light_intensity=0.5,pitch_tint=0.6:0.8,texture_patterns=checker+stripes,textures=1")
    assert spec.light_intensity == (0.5, 0.5) and spec.pitch_tint == (0.6, 0.8)
    assert spec.texture_patterns == ("checker", "stripes") and spec.textures == 1.0
    assert spec.camera_fov == (1.0, 1.0)  # untouched keys keep the default
    assert make_appearance("default") is None and make_appearance(AppearanceSpec()) is None
    assert make_appearance("random") is TRAIN and make_appearance("held_out") is HELD_OUT


def test_every_key_is_in_the_bounds_table():
    assert set(BOUNDS) | {"texture_patterns"} == {f.name for f in fields(AppearanceSpec)}


def _values(look):
    """(key, value) of every drawn value, as the spec's keys name them."""
    yield "light_intensity", look.light_intensity
    yield "light_warmth", look.light_warmth
    yield "light_specular", look.light_specular
    yield "key_light", look.key_light
    yield "key_elevation", look.key_elevation
    yield "texture_scale", look.texture_scale
    for surface, key in zip(SURFACES, ("pitch_tint", "table_tint", "board_tint"), strict=True):
        for channel in look.tints[surface]:
            yield key, channel
    for offset in look.kit_hue_offsets:
        yield "kit_hue_offset", abs(offset)
    yield "kit_saturation", look.kit_saturation
    yield "kit_value", look.kit_value
    for key in ("camera_height", "camera_distance", "camera_fov"):
        yield key, getattr(look, key)
    yield "camera_yaw", abs(look.camera_yaw)
    yield "camera_roll", abs(look.camera_roll)


def test_held_out_draws_never_fall_inside_the_train_ranges():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        look = draw_look(HELD_OUT, rng)
        for key, value in _values(look):
            low, high = getattr(TRAIN, key)
            assert not low <= value <= high, f"held-out {key}={value} inside train [{low}, {high}]"
        assert look.shadows  # training never casts shadows
        assert set(look.textures.values()) <= {"stripes"}  # training textures: checker, noise
        train = draw_look(TRAIN, rng)
        assert not train.shadows and set(train.textures.values()) <= {"checker", "noise", None}
        for key, value in _values(train):
            low, high = getattr(TRAIN, key)
            assert low <= value <= high


def test_each_shift_changes_its_factor_outside_training():
    rng = np.random.default_rng(1)
    for name, spec in SHIFTS.items():
        changed = [key for key in BOUNDS if getattr(spec, key) != getattr(AppearanceSpec(), key)]
        assert changed, name
        look = draw_look(spec, rng)
        outside = [key for key, value in _values(look) if key in changed
                   and not getattr(TRAIN, key)[0] <= value <= getattr(TRAIN, key)[1]]
        assert outside or look.shadows or any(look.textures.values()), name


def test_default_scene_draws_nothing_and_random_looks_differ():
    from visiongym.sims.soccer import SoccerScene

    scene = SoccerScene(team_size=1, image_size=(64, 64))
    before = scene.render("broadcast", 64, 64)
    rng = np.random.default_rng(5)
    state = rng.bit_generator.state
    assert scene.draw_appearance(rng) is None and rng.bit_generator.state == state
    np.testing.assert_array_equal(scene.render("broadcast", 64, 64), before)
    frames = [None, None]
    for k in range(2):
        scene.draw_appearance(np.random.default_rng(k), spec="random")
        frames[k] = scene.render("broadcast", 64, 64)
    assert not np.array_equal(frames[0], frames[1]) and not np.array_equal(frames[0], before)
    scene.draw_appearance(np.random.default_rng(0), spec="random")
    np.testing.assert_array_equal(scene.render("broadcast", 64, 64), frames[0])
    scene.apply_look(None)
    np.testing.assert_array_equal(scene.render("broadcast", 64, 64), before)
    scene.close()


def _pitch_std(frame: np.ndarray) -> float:
    patch = frame[60:72, 40:88].astype(float)  # pitch between the players' rows
    return float(patch.std(axis=(0, 1)).mean())


@pytest.mark.parametrize("pattern", ["checker", "noise", "stripes"])
def test_textures_show_on_the_pitch(pattern):
    from visiongym.sims.soccer import SoccerScene

    scene = SoccerScene(team_size=1, image_size=(128, 128))
    plain = _pitch_std(scene.render("top", 128, 128))
    scene.draw_appearance(np.random.default_rng(0),
                          spec=f"textures=1,texture_patterns={pattern}")
    textured = _pitch_std(scene.render("top", 128, 128))
    assert textured > plain + 3.0, (pattern, plain, textured)
    scene.close()


def test_colour_shift_keeps_ground_truth_and_camera_shift_moves_it():
    from visiongym.sims.soccer import SoccerScene

    scene = SoccerScene(team_size=2, image_size=(96, 96))
    base = scene.render_ground_truth("broadcast", 96, 96)
    for shift in ("light_dim", "light_warm", "pitch_tint", "kits_out_of_range", "textures", "shadows"):
        scene.draw_appearance(np.random.default_rng(0), spec=shift)
        shifted = scene.render_ground_truth("broadcast", 96, 96)
        assert not np.array_equal(shifted["rgb"], base["rgb"]), shift
        np.testing.assert_array_equal(shifted["boxes"], base["boxes"])
        np.testing.assert_array_equal(shifted["instance_mask"], base["instance_mask"])
        np.testing.assert_array_equal(shifted["class_mask"], base["class_mask"])
    scene.draw_appearance(np.random.default_rng(0), spec="camera_high")
    assert not np.array_equal(scene.render_ground_truth("broadcast", 96, 96)["instance_mask"], base["instance_mask"])
    scene.close()


def test_learn_to_move_scene_takes_looks():
    from visiongym.sims.characters import CharacterScene

    scene = CharacterScene("walker", "flat", offscreen=(64, 64))
    before = scene.render(64, 64)
    for name in ("held_out", "camera_high", "light_dim", "textures"):
        scene.draw_appearance(np.random.default_rng(0), spec=name)
        assert not np.array_equal(scene.render(64, 64), before), name
    scene.apply_look(None)
    np.testing.assert_array_equal(scene.render(64, 64), before)
    scene.close()

"""Frames of the LearnToMove humanoid alone, with exact depth and mask: the paper's baseline of a
depth network trained on humans but not on soccer.

:func:`ground_truth_from_humanoid` poses :class:`~visiongym.sims.characters.scene.CharacterScene`'s
``humanoid`` preset at a random phase of its procedural gait (:func:`gait_clip`), turned to a
random heading and mirrored at random, and renders it from a free camera at a random azimuth,
an elevation of 15 to 55 degrees and a distance that makes it about half the frame tall. The
dict has the keys of the soccer ground truth (``rgb``, ``depth``, ``instance_mask``,
``instance_ids``, ``boxes``, ``labels``; the humanoid is instance 2 and labelled ``team_a``), so
:func:`~visiongym.vision.depth.crops.crops_from_ground_truth` cuts it like a soccer player.

The humanoid is about 1.6 m tall: crops from it use the paper's own bins (0.02 m), which keep the
49 + background class layout of the robot's 0.002 m bins; st-RMSE solves the scale, so a network
trained here is scored on robot crops unchanged.
"""

from __future__ import annotations

import numpy as np

from visiongym.sims.errors import UsageError

__all__ = ["HUMANOID_BIN_WIDTH", "ground_truth_from_humanoid"]

HUMANOID_BIN_WIDTH = 0.02


def _yaw_quat(yaw: float) -> np.ndarray:
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


def ground_truth_from_humanoid(frames: int, split: str, frame_size: int = 128, seed: int = 0):
    """Yield ``frames`` humanoid frames of ``split`` (frame ``i`` from ``frame_rng(seed, split, i)``)."""
    import mujoco

    from visiongym.sims.characters.clips import gait_clip
    from visiongym.sims.characters.scene import CharacterScene
    from visiongym.sims.gl import make_renderer
    from visiongym.sims.soccer.ground_truth import mask_boxes
    from visiongym.vision.data.render_soccer import frame_rng

    if frames < 1:
        raise UsageError(f"frames={frames} must be at least 1")
    scene = CharacterScene("humanoid", "flat", offscreen=(frame_size, frame_size))
    clip = gait_clip(scene)
    model, data = scene.model, scene.data
    body_geoms = np.flatnonzero(model.geom_bodyid != 0)  # everything but the world body's terrain
    geom_to_instance = np.zeros(model.ngeom + 1, np.int32)
    geom_to_instance[body_geoms + 1] = 2
    renderer = make_renderer(model, frame_size, frame_size)
    camera = mujoco.MjvCamera()
    try:
        for index in range(frames):
            rng = frame_rng(seed, split, index)
            qpos, qvel = clip.sample(float(rng.uniform(0, clip.duration)))
            qpos = qpos.copy()
            qpos[:2] = 0.0
            if rng.random() < 0.5:  # mirror the gait phase: the other leg forward
                qpos, qvel = clip.sample(float(rng.uniform(0, clip.duration)) + clip.duration / 2)
                qpos = qpos.copy()
                qpos[:2] = 0.0
            heading = _yaw_quat(float(rng.uniform(-np.pi, np.pi)))
            quat = np.empty(4)
            mujoco.mju_mulQuat(quat, heading, qpos[3:7])
            qpos[3:7] = quat
            scene.set_state(qpos, np.zeros_like(qvel))
            camera.lookat[:] = data.subtree_com[scene.root_body] + rng.normal(0, 0.05, 3)
            camera.azimuth = float(rng.uniform(0, 360))
            camera.elevation = -float(rng.uniform(15, 55))
            camera.distance = float(rng.uniform(3.0, 4.5))
            renderer.update_scene(data, camera)
            rgb = renderer.render().copy()
            renderer.enable_depth_rendering()
            renderer.update_scene(data, camera)
            depth = renderer.render().astype(np.float32)
            renderer.disable_depth_rendering()
            renderer.enable_segmentation_rendering()
            renderer.update_scene(data, camera)
            seg = renderer.render()
            renderer.disable_segmentation_rendering()
            is_geom = seg[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM)
            instance_mask = np.where(is_geom, geom_to_instance[np.clip(seg[..., 0], -1, None) + 1], 0).astype(np.int32)
            ids, boxes, _ = mask_boxes(instance_mask)
            yield {"rgb": rgb, "depth": depth, "instance_mask": instance_mask, "instance_ids": ids,
                   "boxes": boxes, "labels": np.full(len(ids), 2, np.int64)}
    finally:
        renderer.close()
        scene.close()

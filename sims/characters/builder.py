"""Turn a :class:`~visiongym.sims.characters.spec.CharacterSpec` and a terrain into MJCF, in code.

Names in the generated model (used by the named accessors of
:class:`~visiongym.sims.characters.scene.CharacterScene`):

- bodies: the limb names; geoms ``<limb>_geom``;
- root joints: ``root`` (free), ``root_x``/``root_z``/``root_pitch`` (planar),
  ``root_x``/``root_y``/``root_yaw`` (planar_xy);
- joints: the joint names; motors: the joint name, or ``<joint>_x/_y/_z`` for a ball joint;
- sites ``<limb>_end`` at every end effector's far end;
- the tracking camera ``track`` (follows the centre of mass);
- terrain geoms ``terrain*``;
- the key light ``key`` and the textures ``vg_noise``/``vg_stripes`` that looks of
  :mod:`visiongym.sims.appearance` may switch on (off by default).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from visiongym.sims.appearance import procedural_texture_xml
from visiongym.sims.characters.spec import CharacterSpec, LimbSpec
from visiongym.sims.characters.terrain import TerrainSpec, add_terrain

__all__ = ["build_mjcf", "ball_motor_names"]

_BALL_AXES = (("x", "1 0 0"), ("y", "0 1 0"), ("z", "0 0 1"))


def _fmt(values) -> str:
    return " ".join(f"{float(v):.6g}" for v in values)


def ball_motor_names(joint_name: str) -> list[str]:
    """The three motor names of a ball joint."""
    return [f"{joint_name}_{axis}" for axis, _ in _BALL_AXES]


def _add_limb(parent: ET.Element, limb: LimbSpec, spec: CharacterSpec, is_root: bool) -> None:
    attrs = {"name": limb.name, "pos": _fmt(limb.pos)}
    if is_root:
        attrs["pos"] = _fmt((limb.pos[0], limb.pos[1], limb.pos[2] + spec.root_height))
    body = ET.SubElement(parent, "body", **attrs)
    if is_root:
        if spec.root_joint == "free":
            ET.SubElement(body, "freejoint", name="root")
        elif spec.root_joint in ("planar", "planar_xy"):
            second, rot_axis, rot = (
                ("root_z", "0 0 1", "root_pitch") if spec.root_joint == "planar"
                else ("root_y", "0 1 0", "root_yaw")
            )
            rot_joint_axis = "0 1 0" if spec.root_joint == "planar" else "0 0 1"
            for name, kind, axis in (
                ("root_x", "slide", "1 0 0"), (second, "slide", rot_axis), (rot, "hinge", rot_joint_axis)
            ):
                ET.SubElement(
                    body, "joint", name=name, type=kind, axis=axis, limited="false",
                    damping="0", armature="0", stiffness="0",
                )
        distance = 1.0 + 2.2 * max(spec.root_height, 0.3)
        height = 0.35 * distance if spec.root_joint != "planar_xy" else 1.2 * distance
        ET.SubElement(
            body, "camera", name="track", mode="trackcom", pos=_fmt((0, -distance, height)),
            xyaxes=_fmt((1, 0, 0, 0, height, distance)),
        )
    for joint in limb.joints:
        attrs = {
            "name": joint.name, "type": joint.type, "damping": f"{joint.damping:g}",
            "stiffness": f"{joint.stiffness:g}", "armature": f"{joint.armature:g}",
            "range": _fmt(joint.range),
        }
        if joint.type == "hinge":
            attrs["axis"] = _fmt(joint.axis)
        ET.SubElement(body, "joint", **attrs)
    length = math.dist(limb.end, (0, 0, 0))
    geom = {"name": f"{limb.name}_geom", "density": f"{limb.density:g}", "rgba": _fmt(limb.rgba),
            "size": f"{limb.radius:g}"}
    if length < 1e-9:
        geom["type"] = "sphere"
    else:
        geom.update(type="capsule", fromto=_fmt((0, 0, 0, *limb.end)))
    ET.SubElement(body, "geom", **geom)
    if limb.end_effector:
        ET.SubElement(body, "site", name=f"{limb.name}_end", pos=_fmt(limb.end), size="0.01")
    for child in limb.children:
        _add_limb(body, child, spec, is_root=False)


def build_mjcf(
    spec: CharacterSpec,
    terrain: TerrainSpec | None = None,
    offscreen: tuple[int, int] = (84, 84),
) -> str:
    """Return the MJCF text of ``spec`` standing on ``terrain``.

    Args:
        spec: The character.
        terrain: The ground; flat when None.
        offscreen: (height, width) of the largest image that will be rendered, which sizes the
            offscreen buffer so no pixels are wasted.
    """
    terrain = terrain or TerrainSpec()
    root = ET.Element("mujoco", model=spec.name)
    ET.SubElement(root, "compiler", angle="degree", autolimits="true")
    option = {"timestep": f"{spec.timestep:g}", "integrator": "implicitfast"}
    if spec.medium.density > 0 or spec.medium.viscosity > 0:
        option.update(density=f"{spec.medium.density:g}", viscosity=f"{spec.medium.viscosity:g}")
    ET.SubElement(root, "option", **option)
    ET.SubElement(root, "size", memory="8M")
    visual = ET.SubElement(root, "visual")
    ET.SubElement(visual, "global", offwidth=str(offscreen[1]), offheight=str(offscreen[0]))
    ET.SubElement(visual, "quality", shadowsize="0", offsamples="0", numslices="12", numstacks="6")
    ET.SubElement(visual, "headlight", ambient=".45 .45 .45", diffuse=".6 .6 .6", specular="0 0 0")
    ET.SubElement(visual, "map", znear="0.02", zfar="60")
    asset = ET.SubElement(root, "asset")
    # The noise and stripes textures a look may put on the ground (unused by the default look).
    for texture in ET.fromstring(f"<asset>{procedural_texture_xml()}</asset>"):
        if texture.get("name") != "vg_checker":  # the ground's own checker is its default
            asset.append(texture)

    default = ET.SubElement(root, "default")
    contact = spec.contact
    # Character geoms collide with the terrain (type 1); with each other only when asked.
    contype, conaffinity = ("3", "3") if contact.self_collision else ("2", "1")
    ET.SubElement(
        default, "geom", contype=contype, conaffinity=conaffinity, condim=str(contact.condim),
        friction=_fmt(contact.friction), solref=_fmt(contact.solref),
    )
    ET.SubElement(default, "motor", ctrllimited="true")

    worldbody = ET.SubElement(root, "worldbody")
    ET.SubElement(
        worldbody, "light", name="sun", directional="true", pos="0 0 6", dir="0.3 0.3 -1",
        diffuse=".5 .5 .5", castshadow="false",
    )
    ET.SubElement(  # a directional key light that looks may switch on
        worldbody, "light", name="key", directional="true", pos="0 0 6", dir="0 0 -1",
        diffuse=".5 .5 .5", castshadow="false", active="false",
    )
    add_terrain(root, worldbody, terrain)
    _add_limb(worldbody, spec.root, spec, is_root=True)

    actuator = ET.SubElement(root, "actuator")
    for joint in spec.actuated_joints():
        ctrl = _fmt(joint.ctrl_range)
        if joint.type == "hinge":
            ET.SubElement(
                actuator, "motor", name=joint.name, joint=joint.name, gear=f"{joint.gear:g}",
                ctrlrange=ctrl,
            )
        else:
            for (_, axis), name in zip(_BALL_AXES, ball_motor_names(joint.name), strict=True):
                gear = _fmt([joint.gear * float(a) for a in axis.split()] + [0, 0, 0])
                ET.SubElement(
                    actuator, "motor", name=name, joint=joint.name, gear=gear, ctrlrange=ctrl
                )
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")

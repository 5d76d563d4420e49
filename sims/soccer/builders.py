"""MJCF for the tabletop pitch, built in code from small builder functions.

Each builder returns an XML fragment; :func:`build_mjcf` assembles them. Variants (pitch size,
team sizes, colours, image size) are parameters, never copied XML.

Geometry notes:
- Players and the ball move in the plane (slide joints on x and y, plus a yaw hinge for players),
  so nothing can jump the boards: the ball stays on the table by construction, the boards keep it
  on the pitch, and the goal pockets are closed at the back.
- Collision shapes are spheres at ball height (group 3, never rendered): sphere-sphere and
  sphere-box contacts are MuJoCo's cheapest. What the cameras see are cylinders and boxes.
- Rendering settings follow shared/GPU.md: offscreen buffer sized to the observation, no
  multisampling, no shadows, low-poly primitives, the headlight as the only light. The textures,
  materials and key light that :mod:`visiongym.sims.appearance` may switch on are compiled in but
  unused by the default look.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from visiongym.sims.appearance import procedural_texture_xml
from visiongym.sims.camera import look_at_axes
from visiongym.sims.errors import UsageError
from visiongym.sims.soccer.humans import human_geoms_xml, human_height

TEAM_COLOURS = ((0.85, 0.15, 0.15), (0.15, 0.3, 0.9))
COLLISION_GROUP = 3  # hidden by MuJoCo's default geomgroup flags
#: Half-width of the painted halfway line, metres.
LINE_HALF_WIDTH = 0.008


@dataclass(frozen=True)
class PitchSpec:
    """Dimensions of the pitch in metres. Team A defends -x and attacks +x."""

    length: float = 2.4
    width: float = 1.6
    goal_width: float = 0.4
    goal_depth: float = 0.15
    board_height: float = 0.08
    board_thickness: float = 0.06
    ball_radius: float = 0.03
    player_radius: float = 0.045
    player_height: float = 0.09

    def __post_init__(self) -> None:
        if not (0.5 <= self.length <= 20 and 0.3 <= self.width <= 20):
            raise UsageError(
                f"pitch {self.length}x{self.width} m out of range; length and width must lie in "
                "[0.5, 20] and [0.3, 20] metres"
            )
        if not 2 * self.ball_radius < self.goal_width < self.width:
            raise UsageError(
                f"goal_width={self.goal_width} must exceed the ball's diameter "
                f"({2 * self.ball_radius}) and be below the pitch width ({self.width})"
            )

    def capacity(self) -> int:
        """How many players a team may field: room for each to stand clear of the others."""
        cell = 4 * self.player_radius + 0.05
        return int((self.length / 2 / cell) * (self.width / cell))


@dataclass
class SceneSpec:
    """Everything that changes the compiled model."""

    pitch: PitchSpec = field(default_factory=PitchSpec)
    team_sizes: tuple[int, int] = (2, 2)
    offscreen: tuple[int, int] = (84, 84)  # (height, width) of the largest planned render
    ego_cameras: bool = True
    players: str = "robot"  # what the players look like: humans.PLAYER_LOOKS


def _vec(values) -> str:
    return " ".join(f"{v:.6g}" for v in values)


def look_at_xyaxes(position, target) -> str:
    """``xyaxes`` of a camera at ``position`` looking at ``target`` with +z up."""
    right, up, _ = look_at_axes(position, target)
    return _vec(np.concatenate([right, up]))


def visual_settings(height: int, width: int) -> str:
    return f"""
  <visual>
    <global offwidth="{width}" offheight="{height}" fovy="45"/>
    <quality shadowsize="0" offsamples="0" numslices="8" numstacks="4" numquads="1"/>
    <headlight ambient="0.5 0.5 0.5" diffuse="0.6 0.6 0.6" specular="0 0 0"/>
    <map znear="0.02" zfar="30"/>
  </visual>"""


def appearance_assets() -> str:
    """Textures and materials a look may put on the pitch, table and boards (unused by default)."""
    materials = "".join(
        f'<material name="vg_{surface}" texture="vg_checker" texrepeat="8 8" texuniform="true"/>'
        for surface in ("pitch", "table", "boards")
    )
    return f"<asset>{procedural_texture_xml()}{materials}</asset>"


def key_light(p: PitchSpec) -> str:
    """A directional key light, off by default (the head light is the only light then)."""
    return (f'<light name="key" directional="true" pos="0 0 {2 * p.length:.4g}" dir="0 0 -1" '
            'diffuse="0.5 0.5 0.5" castshadow="false" active="false"/>')


def table_and_pitch(p: PitchSpec) -> str:
    """The table top, the green pitch and its white markings, all visual only.

    The table is a thin box, not a plane: MuJoCo draws planes as a grid of quads, which made
    software rendering twice as slow for no visible gain.
    """
    hl, hw = p.length / 2, p.width / 2
    margin = p.goal_depth + p.board_thickness + 0.3
    line = LINE_HALF_WIDTH
    vis = 'contype="0" conaffinity="0"'
    return f"""
    <geom name="table" type="box" pos="0 0 -0.01" size="{hl + margin:.4g} {hw + margin:.4g} 0.01" rgba="0.45 0.32 0.2 1" {vis}/>
    <geom name="pitch" type="box" pos="0 0 0.0005" size="{hl:.4g} {hw:.4g} 0.0005" rgba="0.18 0.55 0.22 1" {vis}/>
    <geom name="line_centre" type="box" pos="0 0 0.0011" size="{line:.3g} {hw:.4g} 0.0001" rgba="0.95 0.95 0.95 1" {vis}/>
    <geom name="spot_centre" type="cylinder" pos="0 0 0.0011" size="{p.goal_width / 4:.4g} 0.0001" rgba="0.25 0.62 0.28 1" {vis}/>"""


def boards(p: PitchSpec) -> str:
    """Four boards around the pitch; the end boards leave the goal mouths open.

    Each board is a static body of its own (no joint: welded to the world). MuJoCo's broad phase
    bounds bodies, and six boards in the world body would make one box round the whole pitch that
    every moving body overlaps, so every step would test each mover against every board. The
    contacts, and so the physics, are the same either way.
    """
    hl, hw, t, h = p.length / 2, p.width / 2, p.board_thickness, p.board_height
    colour = 'rgba="0.92 0.92 0.88 1"'
    parts = []
    for side, y in (("north", hw + t / 2), ("south", -hw - t / 2)):
        parts.append(
            f'<body name="board_{side}"><geom name="board_{side}" type="box" pos="0 {y:.5g} {h / 2:.4g}" '
            f'size="{hl + t:.5g} {t / 2:.4g} {h / 2:.4g}" {colour}/></body>'
        )
    segment = (p.width - p.goal_width) / 4  # half-length of each end segment
    for end, x in (("west", -hl - t / 2), ("east", hl + t / 2)):
        for half, sign in (("n", 1), ("s", -1)):
            y = sign * (p.goal_width / 2 + segment)
            parts.append(
                f'<body name="board_{end}_{half}"><geom name="board_{end}_{half}" type="box" '
                f'pos="{x:.5g} {y:.5g} {h / 2:.4g}" size="{t / 2:.4g} {segment:.5g} {h / 2:.4g}" {colour}/></body>'
            )
    return "\n    ".join(parts)


def goal(p: PitchSpec, side: str) -> str:
    """A goal pocket behind the goal line: posts, crossbar, side nets and back net."""
    sign = -1.0 if side == "west" else 1.0
    hl, gw, gd, t = p.length / 2, p.goal_width / 2, p.goal_depth, p.board_thickness / 3
    h = 1.6 * p.board_height
    post_r = 0.012
    x_mid = sign * (hl + gd / 2)
    x_back = sign * (hl + gd + t / 2)
    white = 'rgba="0.98 0.98 0.98 1"'
    net = 'rgba="0.85 0.85 0.85 1"'
    return f"""
    <body name="goal_{side}" pos="0 0 0">
      <geom name="goal_{side}_post_n" type="cylinder" pos="{sign * hl:.5g} {gw + post_r:.5g} {h / 2:.4g}" size="{post_r} {h / 2:.4g}" {white}/>
      <geom name="goal_{side}_post_s" type="cylinder" pos="{sign * hl:.5g} {-gw - post_r:.5g} {h / 2:.4g}" size="{post_r} {h / 2:.4g}" {white}/>
      <geom name="goal_{side}_bar" type="box" pos="{sign * hl:.5g} 0 {h:.4g}" size="{post_r} {gw + post_r:.5g} {post_r}" {white} contype="0" conaffinity="0"/>
      <geom name="goal_{side}_net_n" type="box" pos="{x_mid:.5g} {gw + t / 2 + post_r:.5g} {h / 2:.4g}" size="{gd / 2:.4g} {t / 2:.4g} {h / 2:.4g}" {net}/>
      <geom name="goal_{side}_net_s" type="box" pos="{x_mid:.5g} {-gw - t / 2 - post_r:.5g} {h / 2:.4g}" size="{gd / 2:.4g} {t / 2:.4g} {h / 2:.4g}" {net}/>
      <geom name="goal_{side}_net_back" type="box" pos="{x_back:.5g} 0 {h / 2:.4g}" size="{t / 2:.4g} {gw + t + post_r:.5g} {h / 2:.4g}" {net}/>
    </body>"""


def ball(p: PitchSpec) -> str:
    """A ball rolling in the plane; joint damping stands in for rolling resistance."""
    r = p.ball_radius
    return f"""
    <body name="ball" pos="0 0 {r:.4g}">
      <joint name="ball_x" type="slide" axis="1 0 0" damping="0.012"/>
      <joint name="ball_y" type="slide" axis="0 1 0" damping="0.012"/>
      <geom name="ball" type="sphere" size="{r:.4g}" mass="0.045" rgba="1 1 1 1"
            solref="0.02 0.12" friction="0.4 0 0"/>
      <geom name="ball_patch" type="sphere" pos="0 0 {0.45 * r:.4g}" size="{0.5 * r:.4g}"
            rgba="0.1 0.1 0.1 1" contype="0" conaffinity="0" mass="0"/>
    </body>"""


def player_colour(team: int, number: int) -> tuple[float, float, float]:
    """Cap colour that makes each player of a team look a little different (re-identification)."""
    hue_shift = (number * 0.37) % 1.0
    return (0.35 + 0.6 * hue_shift, 0.9 - 0.6 * hue_shift, 0.3 + 0.5 * ((number * 0.61) % 1.0))


def player(p: PitchSpec, index: int, team: int, number: int, ego_camera: bool, look: str = "robot") -> str:
    """A round robot: a coloured body, a cap with its own shade, a nose showing where it faces.

    With ``look="human"`` (the drawn model of the human look; the physics always uses the robot
    model) the robot's visual geoms are built in the hidden collision group and the humanoid is
    a body of its own (:func:`human`).
    """
    r, h = p.player_radius, p.player_height
    body_rgba = _vec((*TEAM_COLOURS[team], 1))
    cap_rgba = _vec((*player_colour(team, number), 1))
    human = look == "human"
    robot_group = f' group="{COLLISION_GROUP}"' if human else ""
    cam = ""
    if ego_camera:
        # Looks along the body's +x, slightly down; MuJoCo cameras look along their -z. A human
        # looks out of its eyes (its own head lies inside the near clipping plane).
        eye = (0.012, 0.95 * human_height()) if human else (r * 0.9, h * 1.1)
        cam = (
            f'<camera name="ego_{index}" pos="{eye[0]:.4g} 0 {eye[1]:.4g}" '
            f'xyaxes="0 -1 0 0.26 0 0.966" fovy="75"/>'
        )
    # Straight down from above the player, world-aligned whatever its yaw (mode "track"), showing
    # a square of half the pitch length around it: the view moves with the player.
    follow = 0.5 * p.length
    cam += (
        f'<camera name="follow_{index}" mode="track" pos="0 0 {2 * follow:.4g}" xyaxes="1 0 0 0 1 0" '
        f'projection="orthographic" fovy="{follow:.4g}"/>'
        # The same view turning with the player (fixed in its body, mode "fixed"): its facing is up
        # in the image, and the view is shifted ahead so the player sits a quarter of the view
        # above the bottom edge and sees three quarters of it in front.
        f'<camera name="heading_{index}" pos="{0.25 * follow:.4g} 0 {2 * follow:.4g}" xyaxes="0 -1 0 1 0 0" '
        f'projection="orthographic" fovy="{follow:.4g}"/>'
    )
    return f"""
    <body name="player_{index}" pos="0 0 0">
      <joint name="p{index}_x" type="slide" axis="1 0 0"/>
      <joint name="p{index}_y" type="slide" axis="0 1 0"/>
      <joint name="p{index}_yaw" type="hinge" axis="0 0 1" damping="0.002"/>
      <geom name="p{index}_collide" type="sphere" pos="0 0 {p.ball_radius:.4g}" size="{r:.4g}" mass="0.35"
            group="{COLLISION_GROUP}" rgba="0 0 0 0" friction="0.3 0 0" solref="0.02 1"/>
      <geom name="p{index}_body" type="cylinder" pos="0 0 {h * 0.4:.4g}" size="{r:.4g} {h * 0.4:.4g}"
            rgba="{body_rgba}" contype="0" conaffinity="0" mass="0.05"{robot_group}/>
      <geom name="p{index}_cap" type="cylinder" pos="0 0 {h * 0.88:.4g}" size="{r * 0.8:.4g} {h * 0.08:.4g}"
            rgba="{cap_rgba}" contype="0" conaffinity="0" mass="0.01"{robot_group}/>
      <geom name="p{index}_nose" type="box" pos="{r * 0.75:.4g} 0 {h * 0.55:.4g}" size="{r * 0.3:.4g} {r * 0.22:.4g} {h * 0.12:.4g}"
            rgba="0.05 0.05 0.05 1" contype="0" conaffinity="0" mass="0.01"{robot_group}/>
      {cam}
    </body>"""


def human(index: int, team: int, number: int) -> str:
    """Player ``index``'s humanoid (:mod:`.humans`): massless visual geoms on a mocap body, which
    the scene moves onto its player before each render. Added last, so every other id and the
    qpos layout are the robot model's."""
    return f"""
    <body name="human_{index}" mocap="true">
      {human_geoms_xml(index, team, number, TEAM_COLOURS[team])}
    </body>"""


def player_actuators(index: int, kv_linear: float = 4.0, kv_turn: float = 0.02) -> str:
    """Velocity servos: ``ctrl`` is a target velocity (m/s, rad/s); the servo pushes towards it."""
    return f"""
    <velocity name="p{index}_vx" joint="p{index}_x" kv="{kv_linear}" ctrlrange="-5 5" forcerange="-6 6"/>
    <velocity name="p{index}_vy" joint="p{index}_y" kv="{kv_linear}" ctrlrange="-5 5" forcerange="-6 6"/>
    <velocity name="p{index}_turn" joint="p{index}_yaw" kv="{kv_turn}" ctrlrange="-20 20" forcerange="-0.2 0.2"/>"""


#: Vertical field of view of the broadcast camera, degrees.
BROADCAST_FOVY = 50.0


def broadcast_pose(p: PitchSpec) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """``(position, target)`` of the broadcast camera: beside the table, looking down at the pitch
    just in front of the centre spot (looks orbit and move it about ``target``)."""
    distance = 0.95 * max(p.length, 1.5 * p.width)
    return (0.0, -(p.width / 2 + 0.55 * distance), 0.85 * distance), (0.0, -0.12 * p.width, 0.0)


def broadcast_camera(p: PitchSpec) -> str:
    """A TV-style perspective camera from the side of the table, looking down at the pitch."""
    position, target = broadcast_pose(p)
    return (
        f'<camera name="broadcast" pos="{_vec(position)}" xyaxes="{look_at_xyaxes(position, target)}" '
        f'fovy="{BROADCAST_FOVY:g}"/>'
    )


def top_camera(p: PitchSpec) -> str:
    """An orthographic camera straight above the centre spot; ``fovy`` is its height in metres."""
    extent = max(p.length + 2 * (p.goal_depth + p.board_thickness), p.width + 2 * p.board_thickness)
    return (
        f'<camera name="top" pos="0 0 {2 * extent:.4g}" xyaxes="1 0 0 0 1 0" '
        f'projection="orthographic" fovy="{extent * 1.04:.4g}"/>'
    )


def build_mjcf(spec: SceneSpec) -> str:
    """Assemble the full MJCF document for a pitch with two teams."""
    p = spec.pitch
    n_a, n_b = spec.team_sizes
    players_xml, actuators_xml, humans_xml = [], [], []
    for index in range(n_a + n_b):
        team = 0 if index < n_a else 1
        number = (index if team == 0 else index - n_a) + 1
        players_xml.append(player(p, index, team, number, spec.ego_cameras, spec.players))
        if spec.players == "human":
            humans_xml.append(human(index, team, number))
        actuators_xml.append(player_actuators(index))
    height, width = spec.offscreen
    return f"""<mujoco model="tabletop_soccer">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="0.01" integrator="implicitfast" gravity="0 0 -9.81">
    <flag gravity="disable"/>
  </option>
  <size memory="2M"/>
  {visual_settings(height, width)}
  {appearance_assets()}
  <default>
    <geom contype="1" conaffinity="1" condim="3" friction="0.2 0 0" solref="0.02 1"/>
  </default>
  <worldbody>
    {key_light(p)}
    {table_and_pitch(p)}
    {boards(p)}
    {goal(p, "west")}
    {goal(p, "east")}
    {broadcast_camera(p)}
    {top_camera(p)}
    {ball(p)}
    {"".join(players_xml)}
    {"".join(humans_xml)}
  </worldbody>
  <actuator>{"".join(actuators_xml)}
  </actuator>
</mujoco>
"""

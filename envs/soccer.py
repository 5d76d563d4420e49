"""Gymnasium environment for tabletop soccer (``visiongym/TabletopSoccer-v0``).

Three parts, as in dm_control: the scene (:class:`~visiongym.sims.soccer.SoccerScene`: physics,
kicks, referee, scripted players, cameras), the task of the scenario
(:mod:`visiongym.envs.soccer_tasks`: starting positions, reward terms, termination), and this env,
which glues them: it builds the spaces, turns the agent's action into the controlled player's
command (:mod:`visiongym.envs.soccer_actions`), lets the scripted players drive everyone else,
and builds the observation.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from visiongym.envs.appearance import LookStream
from visiongym.envs.soccer_actions import DISCRETE_ACTIONS, nearest_discrete_action
from visiongym.envs.soccer_players import (
    ACTION_TYPES,
    KICK_AIMS,
    OBS_MODES,
    StateVectors,
    action_to_command,
    aim_kicks,
    check_options,
    image_shape,
    make_scene,
)
from visiongym.envs.soccer_tasks import SCENARIOS, Scenario, make_task
from visiongym.sims.errors import UsageError, check_choice
from visiongym.sims.soccer import CAMERAS

__all__ = ["TabletopSoccerEnv", "OBS_MODES", "ACTION_TYPES", "KICK_AIMS", "DISCRETE_ACTIONS", "SCENARIOS",
           "Scenario"]



class TabletopSoccerEnv(gym.Env):
    """## Description

    Soccer on a tabletop, after "Soccer on Your Tabletop" (CVPR 2018): a small MuJoCo pitch on a
    table with boards, two goals, a ball and two teams of round robots that move in the plane and
    kick. The agent controls one player of team A, which attacks +x (the right of the broadcast
    view); every other player is driven by scripted roles (goalkeeper, chaser/shooter, defender).

    The env glues three parts, as dm_control does: the scene (``self.scene``, a
    :class:`~visiongym.sims.soccer.SoccerScene`: physics, kicks, referee, scripted players,
    cameras), the scenario's task (``self.task``, from :mod:`visiongym.envs.soccer_tasks`:
    :class:`~visiongym.envs.soccer_tasks.EmptyGoalTask`,
    :class:`~visiongym.envs.soccer_tasks.PenaltyTask` or
    :class:`~visiongym.envs.soccer_tasks.MatchTask`, which place players and ball, compute the
    reward terms and decide termination), and the spaces, action decoding
    (:mod:`visiongym.envs.soccer_actions`) and observation, which are the env's own.

    ## Action Space

    ``action_type="discrete"`` (for DQN): ``Discrete(10)``: 0 no-op, 1-8 move E, NE, N, NW, W,
    SW, S, SE (world frame, E = +x; the player turns to face where it moves), 9 kick.

    ``action_type="continuous"``: ``Box(-1, 1, (4,))`` = (vx, vy, turn, kick): velocity as a
    fraction of top speed in the world frame, turn rate as a fraction of the top turn rate, and a
    kick when ``kick > 0``. A kick is an impulse on the ball when the player is within reach of it
    and facing it (70 degree cone), with a 0.3 s cool-down. The ball leaves along the player's
    facing direction (``kick_aim="facing"``), or, with ``kick_aim="goal"``, towards the centre of
    the opponents' goal, like the auto-aimed "shot" of Google Research Football: the agent still
    has to reach the ball and face it, but not to aim (the discrete moves turn in 45 degree steps).
    ``kick_aim="on_target"`` keeps the facing direction but pulls a shot that would miss the goal
    to just inside the nearer post (95% of the half mouth): the agent picks the side by the way
    it faces, which is what beats a goalkeeper (a shot at the centre is saved).

    ## Observation Space

    ``obs_mode="state"``: ``Box(-5, 5, (14 + 4 * (n_a - 1) + 4 * n_b + 2,), float32)``.
    Positions are divided by half the pitch length, velocities by the player top speed.

    | index | field |
    |---|---|
    | 0-1 | ball position (x, y) |
    | 2-3 | ball velocity |
    | 4-5 | controlled player position |
    | 6-7 | controlled player velocity |
    | 8-9 | controlled player heading (cos, sin) |
    | 10-11 | ball relative to the controlled player |
    | 12-13 | opponents' goal centre relative to the controlled player |
    | next 4 per teammate | teammate position, velocity (team A order, controlled player skipped) |
    | next 4 per opponent | opponent position, velocity |
    | -2 | with ``clock=True``, fraction of the episode time limit left (else 1; see Episode End) |
    | -1 | goal difference, clipped to [-5, 5] / 5 |

    ``obs_mode="pixels"``: ``Box(0, 255, (H, W, 3), uint8)`` from ``camera`` (default the
    ``broadcast`` camera at 84x84; ``top`` is orthographic from above; ``ego`` looks out of the
    controlled player's head; ``follow`` looks straight down on a square half the pitch length
    wide centred on the controlled player, north up, so the ball's offset from the image centre
    is its position relative to the player; ``heading`` is the same square turning with the
    player, its facing up and the player a quarter of the view above the bottom edge).
    ``obs_mode="pixels_state"``: ``Dict(pixels=..., state=...)``.

    ## Rewards

    Computed by the task. ``scoring``: +1 when team A scores, -1 when it concedes. Optional
    shaping (``shaping=True`` or a weight) adds two potential-based terms, which cannot be
    farmed: ``ball_progress`` (change in the ball's distance to the opponents' goal, in pitch
    lengths) and ``ball_approach`` (half-weighted change in the controlled player's distance to
    the ball). They are zero on a restart step. A ball pinned against a board is dropped back
    into play by the referee, so jamming it in a corner earns nothing either. Every term appears in ``info`` as
    ``reward_<name>``.

    ## Starting State

    Placed by the task, after the scene's kick-off formation. ``empty_goal``: the player
    somewhere in the middle third, the ball just ahead of it.
    ``penalty``: the ball on the penalty spot, the attacker just behind it and in reach
    (facing it from up to 34 degrees off the line to the goal), the keeper on its line.
    Matches: kick-off formation with small noise. All draws come from ``self.np_random``.

    ## Episode End

    Decided by the task. Academy scenarios (``empty_goal``, ``penalty``) terminate on a goal
    (``terminate_on_goal``); ``penalty`` also terminates once the keeper has played the ball (a
    save, or the attacker ran the ball into him) or the attacker's shot has come to rest.
    Matches restart from kick-off after a goal. Time limits come from registration (``max_episode_steps``;
    ``gymnasium.make(..., max_episode_steps=N)`` overrides it). With ``clock=True`` the state's
    time-left entry counts down against that limit (``make`` hands it over through
    :class:`visiongym.envs.wrappers.time_limit.ShareTimeLimit`; an env built without ``make``
    reads 1 there until :meth:`set_time_limit` is called).

    ## Arguments

    - ``scenario``: one of ``empty_goal``, ``penalty``, ``1v1``, ``2v2``, ``3v3``, ``5v5``.
    - ``obs_mode``: ``state``, ``pixels`` or ``pixels_state``.
    - ``action_type``: ``discrete`` or ``continuous``.
    - ``image_size``: int or (height, width), 16 to 1024 (default 84).
    - ``camera``: ``broadcast``, ``top``, ``ego``, ``follow`` or ``heading``.
    - ``shaping``: False, True or a weight for the shaping terms.
    - ``kick_aim``: ``facing`` (default), ``goal`` (the controlled player's kicks are aimed
      at the opponents' goal centre) or ``on_target`` (along the facing direction, kept inside
      the posts).
    - ``terminate_on_goal``: default True in academy scenarios, False in matches.
    - ``ground_truth``: put boxes, masks, depth and identities of the observation camera's
      frame in ``info["ground_truth"]`` (costs three renders a step).
    - ``pitch_scale``: multiplies the pitch's length and width (0.5 makes a tiny pitch).
    - ``team_size``: overrides the scenario's team sizes for matches (int or (a, b)).
    - ``skill``: scripted players' speed scale in [0, 1].
    - ``render_mode``: ``human`` (pygame window with a HUD) or ``rgb_array``.
    - ``render_size``: (height, width) of rendered frames (default 360x480).
    - ``appearance``: the look of every rendered frame (observations, ``render()``, ground
      truth): ``"default"`` (the built-in look; draws nothing), ``"random"`` (a new look each
      episode from the training distribution ``visiongym.sims.appearance.TRAIN``),
      ``"held_out"``, a single-factor shift name (``light_dim``, ``camera_high``, ...),
      ``key=value,...`` text or an ``AppearanceSpec``. Looks are drawn at reset from a child of
      ``self.np_random``, so an episode's states and rewards do not depend on its look. Keys,
      bounds and the named distributions: ``docs/vision.md``.
    - ``players``: ``robot`` (default) or ``human``: the players drawn as humanoids in team kits
      with shirt numbers, posed from gait clips as they run and kick (``docs/soccer.md``).
      Pictures only: states, rewards and state observations are the same bit for bit; ground
      truth gains skeleton keypoints, surface points and per-player depth.
    - ``clock``: False (default) keeps the state's time-left entry at 1, as every env made by
      ``gymnasium.make`` read until now (its limit lives in the ``TimeLimit`` wrapper, which the env
      could not see), so agents trained on it act as they did; True counts it down from 1 to 0
      over the time limit, as the multi-agent env's entry does against ``max_cycles``.

    ## Version History

    - v0: initial release.
    - v0: ``appearance`` added; the default look is unchanged (same bytes), so no version bump.
    - v0: ``players`` added; the default (``robot``) is unchanged (same bytes), so no version bump.
    - v0: ``clock`` added; the default (False) is the observation of before (same bytes), so no
      version bump.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 20}

    def __init__(
        self,
        scenario: str = "2v2",
        obs_mode: str = "state",
        action_type: str = "discrete",
        image_size: int | tuple[int, int] = 84,
        camera: str = "broadcast",
        shaping: bool | float = False,
        kick_aim: str = "facing",
        terminate_on_goal: bool | None = None,
        ground_truth: bool = False,
        pitch_scale: float = 1.0,
        team_size: int | tuple[int, int] | None = None,
        skill: float = 1.0,
        render_mode: str | None = None,
        render_size: tuple[int, int] = (360, 480),
        appearance: Any = "default",
        players: str = "robot",
        clock: bool = False,
    ) -> None:
        check_options(scenario, obs_mode, action_type, camera, kick_aim, cameras=CAMERAS)
        if not isinstance(clock, bool):
            raise UsageError(f"clock={clock!r} must be True or False")
        if render_mode is not None:
            check_choice("render_mode", render_mode, self.metadata["render_modes"])
        image_size = image_shape(image_size)
        self.scenario_name = scenario
        self.scenario = SCENARIOS[scenario]
        self.obs_mode = obs_mode
        self.action_type = action_type
        self.image_size = image_size
        self.camera = camera
        self.ground_truth = ground_truth
        self.render_mode = render_mode
        self.render_size = tuple(render_size)
        self.scene = make_scene(scenario, image_size, pitch_scale=pitch_scale, team_size=team_size, skill=skill,
                                ego_cameras=camera == "ego", appearance=appearance, players=players)
        self._looks = LookStream()
        n_a = self.scene.team_sizes[0]
        if n_a == 0:
            raise UsageError("team A needs at least one player: the agent controls one of them")
        roles = self.scene.roles
        self.controlled = next((i for i in range(n_a) if roles[i] == "chaser"), 0)
        self.kick_aim = kick_aim
        aim_kicks(self.scene, self.controlled, kick_aim)
        self.task = make_task(scenario, (self.controlled,), shaping=float(shaping),
                              terminate_on_goal=terminate_on_goal)
        self._state_vectors = StateVectors(self.scene, (self.controlled,))

        state_space = spaces.Box(-5.0, 5.0, (self._state_vectors.size,), np.float32)
        pixel_space = spaces.Box(0, 255, (*image_size, 3), np.uint8)
        if obs_mode == "state":
            self.observation_space = state_space
        elif obs_mode == "pixels":
            self.observation_space = pixel_space
        else:
            self.observation_space = spaces.Dict({"pixels": pixel_space, "state": state_space})
        if action_type == "discrete":
            self.action_space = spaces.Discrete(len(DISCRETE_ACTIONS))
        else:
            self.action_space = spaces.Box(-1.0, 1.0, (4,), np.float32)

        self._viewer = None
        self._last_reward = 0.0
        self._last_action: Any = None
        self._episode_return = 0.0
        self._steps = 0
        self.clock = clock
        self._time_limit: int | None = None

    def set_time_limit(self, steps: int | None) -> None:
        """The episode limit the state's time-left entry counts against with ``clock=True`` (None:
        unknown, the entry stays 1). ``gymnasium.make`` sets it from ``max_episode_steps``; it does
        not truncate episodes itself (the ``TimeLimit`` wrapper does)."""
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
            raise UsageError(f"time limit {steps!r} must be a positive number of steps or None")
        self._time_limit = steps

    # ------------------------------------------------------------------ Gymnasium API
    def step(self, action):
        commands = self.scene.scripted_commands(self.np_random)
        commands[self.controlled] = self._action_to_command(action)
        goal = self.scene.step(commands)
        self._steps += 1
        reward, terminated, truncated, terms = self.task.reward(self.scene, goal)
        self._last_reward, self._last_action = reward, action
        self._episode_return += reward
        info = {
            "goal": int(goal),
            "is_success": goal > 0,
            "score": self.scene.score(),
            **terms,
            "restart": bool(self.scene.last_restart),
        }
        if self.ground_truth:
            info["ground_truth"] = self._ground_truth()
        if self.render_mode == "human":
            self.render()
        return self._observation(), reward, terminated, truncated, info

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if self.scene.appearance_spec is not None:
            self.scene.draw_appearance(self._looks.generator(self.np_random))
        self.scene.reset(self.np_random)
        self.task.reset(self.scene, self.np_random)
        self._last_reward, self._last_action, self._episode_return = 0.0, None, 0.0
        self._steps = 0
        info = {"score": self.scene.score()}
        if self.ground_truth:
            info["ground_truth"] = self._ground_truth()
        if self.render_mode == "human":
            self.render()
        return self._observation(), info

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array' or 'human'")
            return None
        frame = self.scene.render("broadcast", *self.render_size)
        if self.render_mode == "rgb_array":
            return frame
        if self._viewer is None:
            from visiongym.envs.viewer import Viewer

            self._viewer = Viewer("visiongym - TabletopSoccer", self.metadata["render_fps"])
        self._viewer.show(frame, self.hud())
        return None

    def close(self):
        if self._viewer is not None:
            self._viewer.close()
            self._viewer = None
        self.scene.close()

    # ------------------------------------------------------------------ helpers
    def hud(self) -> dict[str, str]:
        """What the viewer prints over the frame: score, clock, last reward, last action."""
        goals_a, goals_b = self.scene.score()
        action = self._last_action
        if action is not None and self.action_type == "discrete":
            action = DISCRETE_ACTIONS[int(action)]
        elif action is not None:
            action = "[" + " ".join(f"{float(a):+.2f}" for a in np.ravel(action)) + "]"
        return {
            "score": f"A {goals_a} - {goals_b} B",
            "clock": f"{self.scene.time():5.1f} s",
            "reward": f"{self._last_reward:+.2f} (return {self._episode_return:+.2f})",
            "action": str(action if action is not None else "-"),
            "scenario": self.scenario_name,
        }

    @property
    def shaping(self) -> float:
        """Weight of the shaping reward terms (0 without shaping)."""
        return self.task.shaping

    @property
    def terminate_on_goal(self) -> bool:
        """Whether a goal ends the episode."""
        return self.task.terminate_on_goal

    def scripted_action(self):
        """The controlled player's action from its scripted role, in this env's action space."""
        command = self.scene.scripted_commands(self.np_random)[self.controlled]
        if self.action_type == "continuous":
            return command.astype(np.float32)
        return nearest_discrete_action(command, float(self.scene.player_yaws()[self.controlled]))

    def _action_to_command(self, action) -> np.ndarray:
        return action_to_command(action, self.action_type, float(self.scene.player_yaws()[self.controlled]))

    def _state(self) -> np.ndarray:
        limit = self._time_limit if self.clock else None
        return self._state_vectors(1.0 - self._steps / limit if limit else 1.0)[self.controlled]

    def _pixels(self) -> np.ndarray:
        return self.scene.render(self.camera, *self.image_size, player=self.controlled)

    def _observation(self):
        if self.obs_mode == "state":
            return self._state()
        if self.obs_mode == "pixels":
            return self._pixels()
        return {"pixels": self._pixels(), "state": self._state()}

    def _ground_truth(self) -> dict[str, np.ndarray]:
        return self.scene.render_ground_truth(self.camera, *self.image_size, player=self.controlled)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_viewer"] = None
        return state


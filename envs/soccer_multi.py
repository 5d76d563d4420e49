"""Multi-agent tabletop soccer: a PettingZoo ``ParallelEnv`` (and its AEC form) over the soccer scene.

The same scene (:class:`~visiongym.sims.soccer.SoccerScene`), tasks
(:mod:`visiongym.envs.soccer_tasks`) and per-player glue (:mod:`visiongym.envs.soccer_players`:
state vectors, action decoding, kick aims) as the single-agent env
(:mod:`visiongym.envs.soccer`), with one agent per controlled player. Players nobody controls
stay scripted. Usage::

    from visiongym.envs import soccer_multi
    env = soccer_multi.parallel_env(scenario="2v2", obs_mode="state")
    observations, infos = env.reset(seed=0)
    while env.agents:
        actions = {agent: env.action_space(agent).sample() for agent in env.agents}
        observations, rewards, terminations, truncations, infos = env.step(actions)

``soccer_multi.env(...)`` is the AEC form (PettingZoo's ``parallel_to_aec``);
``soccer_multi.parallel_env_from_id("visiongym/TabletopSoccer-2v2-v0")`` takes a single-agent id's
scenario and time limit. The agent ids, the state-vector table and the pixel views:
``docs/soccer_multi.md``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from visiongym.envs.appearance import LookStream
from visiongym.envs.registration import ENVIRONMENTS
from visiongym.envs.soccer_actions import DISCRETE_ACTIONS
from visiongym.envs.soccer_players import (
    OBS_MODES,
    StateVectors,
    action_to_command,
    aim_kicks,
    check_options,
    image_shape,
    make_scene,
)
from visiongym.envs.soccer_tasks import make_task, sum_terms
from visiongym.sims.errors import UsageError, check_choice
from visiongym.sims.soccer.cameras import PLAYER_CAMERAS

__all__ = ["SoccerParallelEnv", "parallel_env", "env", "raw_env", "parallel_env_from_id", "soccer_env_ids",
           "agent_id", "OBS_MODES", "CONTROLLED"]

#: Named groups of controlled players; a list of agent ids or scene indices also works.
CONTROLLED = ("both", "team_a", "team_b")
_TEAM_NAMES = ("team_a", "team_b")
_SOCCER_ENTRY = "visiongym.envs.soccer:TabletopSoccerEnv"
_IDLE = (0.0, 0.0, 0.0, 0.0)


def agent_id(team: int, rank: int) -> str:
    """The id of team ``team``'s (0 = A, 1 = B) player ``rank`` (0-based shirt order): ``team_a_0``."""
    return f"{_TEAM_NAMES[team]}_{rank}"


def soccer_env_ids() -> dict[str, tuple[dict, int | None]]:
    """The registered single-agent soccer ids -> (their kwargs, their time limit)."""
    return {env_id: (dict(kwargs), max_steps) for env_id, entry, max_steps, kwargs in ENVIRONMENTS
            if entry == _SOCCER_ENTRY}


def _default_max_cycles(scenario: str) -> int | None:
    for kwargs, max_steps in soccer_env_ids().values():
        if kwargs.get("scenario") == scenario:
            return max_steps
    return None


class SoccerParallelEnv(ParallelEnv):
    """## Description

    Tabletop soccer (:class:`~visiongym.envs.soccer.TabletopSoccerEnv`) with one agent per
    controlled player, as a PettingZoo ``ParallelEnv``: every live agent acts every step. Players
    no agent controls are driven by the scripted roles at ``skill``.

    ## Agents

    ``team_a_k`` is team A's player ``k`` (scene index ``k``, shirt number ``k + 1``), ``team_b_k``
    team B's (scene index ``n_a + k``). ``possible_agents`` lists the controlled ones, team A
    first, in shirt order; ``agent_players`` maps each to its scene index.
    ``controlled``: ``"both"`` (default), ``"team_a"``, ``"team_b"`` or a list of agent ids or
    scene indices.

    ## Frames

    Every agent observes and acts in its team frame: the pitch as if its team attacked +x (for
    team B the world turned by 180 degrees), so one policy plays either side.

    ## Action Space

    As the single-agent env, in the team frame: ``Discrete(10)`` (0 no-op, 1-8 move E, NE, ...,
    SE, 9 kick) or, with ``action_type="continuous"``, ``Box(-1, 1, (4,))`` = (vx, vy, turn, kick).
    An action of ``None`` makes that agent play its scripted role (at ``scene.skill``) for the
    step, so a controlled team can be handed to the scripted players episode by episode.

    ## Observation Space

    ``state``: ``Box(-5, 5, (14 + 4 * (n - 1) + 2,), float32)``, the single-agent env's vector
    in the agent's team frame (table: :class:`~visiongym.envs.soccer_players.StateVectors`).
    ``pixels``: ``Box(0, 255, (H, W, 3), uint8)`` from the agent's own ``camera``: ``heading``
    (default; top-down, turning with the player), ``follow`` (top-down, north up in the team
    frame) or ``ego`` (out of its head). All agents' views of a step are drawn by one renderer
    in one pass and read back at once. ``pixels_state``: ``Dict(pixels=..., state=...)``.

    ## Rewards

    Per agent, from its team's point of view, computed by the scenario's task: ``scoring`` +1
    to every player of a team that scores, -1 to every player of the team that concedes; with
    ``shaping``, the potential-based ``ball_progress`` and ``ball_approach`` of each player.
    Every term is in the agent's ``infos`` as ``reward_<name>``.

    ## Episode End

    The task decides termination (matches go on after a goal; academy drills end). At
    ``max_cycles`` steps every agent is truncated. All agents end together; ``agents`` is then
    empty until ``reset``.

    ## Arguments

    ``scenario``, ``obs_mode``, ``action_type``, ``controlled``, ``image_size``, ``camera``,
    ``shaping``, ``kick_aim`` (for every controlled player), ``terminate_on_goal``,
    ``pitch_scale``, ``team_size`` (e.g. 11 with ``pitch_scale=2`` for 11 a side), ``skill``,
    ``max_cycles`` (default: the single-agent id's time limit of the scenario), ``render_mode``
    (``rgb_array``: the broadcast view), ``render_size``, ``appearance``, ``players``
    (``robot`` or ``human``: what the players look like; physics and state are the same).

    ## Version History

    - v0: initial release.
    """

    metadata = {"name": "visiongym_soccer_v0", "render_modes": ["rgb_array"], "render_fps": 20,
                "is_parallelizable": True}

    def __init__(
        self,
        scenario: str = "2v2",
        obs_mode: str = "state",
        action_type: str = "discrete",
        controlled: str | Sequence[str | int] = "both",
        image_size: int | tuple[int, int] = 84,
        camera: str = "heading",
        shaping: bool | float = False,
        kick_aim: str = "facing",
        terminate_on_goal: bool | None = None,
        pitch_scale: float = 1.0,
        team_size: int | tuple[int, int] | None = None,
        skill: float = 1.0,
        max_cycles: int | None = -1,
        render_mode: str | None = None,
        render_size: tuple[int, int] = (360, 480),
        appearance: Any = "default",
        players: str = "robot",
    ) -> None:
        check_options(scenario, obs_mode, action_type, camera, kick_aim, cameras=PLAYER_CAMERAS)
        if render_mode is not None:
            check_choice("render_mode", render_mode, self.metadata["render_modes"])
        self.scenario_name = scenario
        self.obs_mode = obs_mode
        self.action_type = action_type
        self.image_size = image_shape(image_size)
        self.camera = camera
        self.render_mode = render_mode
        self.render_size = tuple(render_size)
        self.max_cycles = _default_max_cycles(scenario) if max_cycles == -1 else max_cycles
        self.scene = make_scene(scenario, self.image_size, pitch_scale=pitch_scale, team_size=team_size,
                                skill=skill, ego_cameras=camera == "ego", appearance=appearance,
                                players=players)
        scene = self.scene
        n_a = scene.team_sizes[0]
        ids = [agent_id(int(scene.teams[p]), p if p < n_a else p - n_a) for p in range(scene.n_players)]
        players = self._controlled_players(controlled, ids)
        self.possible_agents = [ids[p] for p in players]
        #: agent id -> scene index of its player.
        self.agent_players = {ids[p]: p for p in players}
        self.agent_name_mapping = self.agent_players  # PettingZoo's conventional name
        self.agents: list[str] = []
        self._flipped = {p: bool(scene.teams[p] == 1) for p in players}
        self._infos = {ids[p]: {"player": p, "team": int(scene.teams[p])} for p in players}
        self._scripted = len(players) < scene.n_players
        #: (agent, player, on team B, its constant infos) per agent, in agent order.
        self._plan = [(ids[p], p, self._flipped[p], self._infos[ids[p]]) for p in players]
        #: agent id -> (its player, on team B).
        self._controls = {ids[p]: (p, self._flipped[p]) for p in players}
        self._agent_set = frozenset(self.possible_agents)
        for player in players:
            aim_kicks(scene, player, kick_aim)
        self.task = make_task(scenario, players, shaping=float(shaping), terminate_on_goal=terminate_on_goal)
        self._state_vectors = StateVectors(scene, players)

        state_space = spaces.Box(-5.0, 5.0, (self._state_vectors.size,), np.float32)
        pixel_space = spaces.Box(0, 255, (*self.image_size, 3), np.uint8)
        if action_type == "discrete":
            action_space = spaces.Discrete(len(DISCRETE_ACTIONS))
        else:
            action_space = spaces.Box(-1.0, 1.0, (4,), np.float32)
        self.observation_spaces = {}
        for agent in self.possible_agents:
            if obs_mode == "state":
                self.observation_spaces[agent] = state_space
            elif obs_mode == "pixels":
                self.observation_spaces[agent] = pixel_space
            else:
                self.observation_spaces[agent] = spaces.Dict({"pixels": pixel_space, "state": state_space})
        # One object per agent, each seeded on its own (PettingZoo's seed test samples them).
        self.observation_spaces = {agent: copy.deepcopy(space) for agent, space in self.observation_spaces.items()}
        self.action_spaces = {agent: copy.deepcopy(action_space) for agent in self.possible_agents}

        self._looks = LookStream()
        self._np_random: np.random.Generator | None = None
        self._steps = 0

    # ------------------------------------------------------------------ PettingZoo API
    def observation_space(self, agent: str) -> spaces.Space:
        """The observation space of ``agent`` (the same object on every call)."""
        space = self.observation_spaces.get(agent)  # called for every agent every step: one look-up
        return self.observation_spaces[self._known(agent)] if space is None else space

    def action_space(self, agent: str) -> spaces.Space:
        """The action space of ``agent`` (the same object on every call)."""
        space = self.action_spaces.get(agent)
        return self.action_spaces[self._known(agent)] if space is None else space

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None or self._np_random is None:
            self._np_random, _ = seeding.np_random(seed)
        scene = self.scene
        if scene.appearance_spec is not None:
            scene.draw_appearance(self._looks.generator(self._np_random))
        scene.reset(self._np_random)
        self.task.reset(scene, self._np_random)
        self._steps = 0
        self.agents = list(self.possible_agents)
        score = scene.score()
        infos = {agent: {**self._infos[agent], "score": score[::-1] if self._flipped[self.agent_players[agent]]
                         else score} for agent in self.agents}
        return self._observations(), infos

    def step(self, actions: dict[str, Any]):
        if type(actions) is not dict or not self.agents or actions.keys() != self._agent_set:
            self._check_actions(actions)  # not the common case: one action for each agent, all live
        scene = self.scene
        yaws = scene.player_yaws().tolist()
        # Rows of plain floats, which the scene takes without an array round trip.
        commands = self._scripted_rows() if self._scripted else [_IDLE] * scene.n_players
        controls, action_type, handed_over = self._controls, self.action_type, False
        for agent, action in actions.items():
            if action is None:  # the agent plays its scripted role this step (self-play opponents)
                handed_over = True
                continue
            player, flipped = controls[agent]
            command = action_to_command(action, action_type, yaws[player], flipped)
            commands[player] = command if type(command) is tuple else tuple(command.tolist())
        if handed_over and not self._scripted:
            scripted = self._scripted_rows()
            for agent, action in actions.items():
                if action is None:
                    player = controls[agent][0]
                    commands[player] = scripted[player]
        goal = scene.step(commands)
        self._steps += 1
        task = self.task
        task.after_step(scene)
        terms = task.rewards(scene, goal)
        terminated = task.terminated(scene, goal)
        truncated = bool(self.max_cycles is not None and self._steps >= self.max_cycles)
        observations = self._observations()
        score = scene.score()
        restart = scene.last_restart
        # Per frame (False: team A's, True: team B's) the score and goal as that team sees them.
        seen = {False: (score, goal), True: (score[::-1], -goal)}
        rewards, infos = {}, {}
        for agent, player, flipped, base in self._plan:  # every agent is live: all end together
            player_terms = terms[player]
            rewards[agent] = sum_terms(player_terms)
            team_score, team_goal = seen[flipped]
            infos[agent] = {**base, "score": team_score, "goal": team_goal, **player_terms, "restart": restart}
        terminations = dict.fromkeys(self.agents, terminated)
        truncations = dict.fromkeys(self.agents, truncated)
        if terminated or truncated:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def render(self):
        if self.render_mode is None:
            from gymnasium import logger

            logger.warn("render() called without a render_mode; pass render_mode='rgb_array'")
            return None
        return self.scene.render("broadcast", *self.render_size)

    def close(self):
        self.scene.close()

    # ------------------------------------------------------------------ helpers
    @property
    def np_random(self) -> np.random.Generator:
        """The generator every random draw of an episode comes from (seeded by ``reset``)."""
        if self._np_random is None:
            self._np_random, _ = seeding.np_random()
        return self._np_random

    def _controlled_players(self, controlled, ids: list[str]) -> list[int]:
        scene = self.scene
        if isinstance(controlled, str):
            check_choice("controlled", controlled, CONTROLLED)
            teams = {"both": (0, 1), "team_a": (0,), "team_b": (1,)}[controlled]
            players = [p for p in range(scene.n_players) if scene.teams[p] in teams]
        else:
            players = []
            for item in controlled:
                if isinstance(item, str):
                    check_choice("controlled agent", item, ids)
                    player = ids.index(item)
                elif isinstance(item, (int, np.integer)) and 0 <= item < scene.n_players:
                    player = int(item)
                else:
                    raise UsageError(f"controlled player {item!r} unknown; choose agent ids among "
                                     f"{', '.join(ids)} or scene indices 0 to {scene.n_players - 1}")
                if player in players:
                    raise UsageError(f"controlled lists player {ids[player]!r} twice")
                players.append(player)
            players.sort()
        if not players:
            raise UsageError(f"controlled={controlled!r} selects no player; this scene has: {', '.join(ids)}")
        return players

    def _known(self, agent: str) -> str:
        if agent not in self.agent_players:
            raise UsageError(f"agent {agent!r} unknown; the agents are: {', '.join(self.possible_agents)}")
        return agent

    def _check_actions(self, actions: dict[str, Any]) -> None:
        if not isinstance(actions, dict):
            raise UsageError(f"actions must be a dict of agent id -> action; got {type(actions).__name__}")
        live = self.agents
        if live and actions.keys() == self._agent_set:  # live agents are all or none
            return
        for agent in actions:
            if agent not in self.agent_players:
                raise UsageError(f"action for unknown agent {agent!r}; the agents are: {', '.join(self.possible_agents)}")
            if agent not in live:
                raise UsageError(f"action for agent {agent!r}, which has finished this episode; the live agents "
                                 f"are: {', '.join(live) or 'none (call reset() to start the next episode)'}")
        if not live:
            raise UsageError("every agent has finished this episode; call reset() before step()")
        if len(actions) != len(live):
            missing = [agent for agent in live if agent not in actions]
            raise UsageError(f"no action for live agent(s) {', '.join(missing)}; every live agent needs one: "
                             f"{', '.join(live)}")

    def _scripted_rows(self) -> list[tuple[float, float, float, float]]:
        return list(map(tuple, self.scene.scripted_commands(self._np_random).tolist()))

    def _time_left(self) -> float:
        return 1.0 - self._steps / self.max_cycles if self.max_cycles else 1.0

    def _observations(self) -> dict[str, Any]:
        # Rows of one fresh array, in agent order (the state vectors' player order).
        if self.obs_mode == "state":
            return dict(zip(self.possible_agents, self._state_vectors.array(self._time_left()), strict=True))
        frames = self._frames()
        if self.obs_mode == "pixels":
            return frames
        states = self._state_vectors.array(self._time_left())
        return {agent: {"pixels": frames[agent], "state": state}
                for agent, state in zip(self.possible_agents, states, strict=True)}

    def _frames(self) -> dict[str, np.ndarray]:
        players = list(self.agent_players.values())
        frames = self.scene.render_players(self.camera, *self.image_size, players=players)
        out = {}
        for agent, frame in zip(self.possible_agents, frames, strict=True):
            if self.camera == "follow" and self._flipped[self.agent_players[agent]]:
                frame = frame[::-1, ::-1]  # north up in the team frame: the world view turned by 180 degrees
            out[agent] = np.ascontiguousarray(frame)
        return out


def parallel_env(**kwargs) -> SoccerParallelEnv:
    """The multi-agent soccer ``ParallelEnv``; keyword arguments as :class:`SoccerParallelEnv`."""
    return SoccerParallelEnv(**kwargs)


raw_env = parallel_env


def env(**kwargs):
    """The AEC form (agents act in turn, the scene steps once all have), through PettingZoo's converter."""
    return parallel_to_aec(parallel_env(**kwargs))


def parallel_env_from_id(env_id: str, **kwargs) -> SoccerParallelEnv:
    """The ``ParallelEnv`` of a single-agent soccer id: its scenario, kwargs and time limit.

    ``parallel_env_from_id("visiongym/TabletopSoccer-2v2-v0")`` is a 2v2 match of 1200 steps with
    both teams controlled; ``kwargs`` override (``controlled="team_a"``, ``obs_mode="pixels"``...).
    """
    ids = soccer_env_ids()
    check_choice("env_id", env_id, ids)
    registered, max_steps = ids[env_id]
    return SoccerParallelEnv(**{"max_cycles": max_steps, **registered, **kwargs})


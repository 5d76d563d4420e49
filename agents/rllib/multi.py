"""Multi-agent soccer on RLlib: the PettingZoo env, agents mapped to policies, matches as evaluation.

``--multi-agent`` turns a single-agent soccer id (``visiongym/TabletopSoccer-2v2-v0``) into the
parallel env of :mod:`visiongym.envs.soccer_multi` with the same scenario and time limit; every
controlled player is an agent (``team_a_0``, ``team_b_1``, ...). ``--policy-mapping shared`` maps
them all to one policy (each agent observes and acts in its own team's frame, so one policy plays
either side); ``per_team`` gives team A and team B a policy each. Evaluation plays team A's policy
against scripted opponents and reports wins, draws, losses and the goal difference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from visiongym.agents.common.checkpoints import EVAL_SEED_OFFSET, RunEvaluator
from visiongym.agents.common.evaluation import EvaluationResult, Policy
from visiongym.agents.rllib.envs import import_ray, is_image
from visiongym.sims.errors import UsageError

__all__ = ["POLICY_MAPPINGS", "make_parallel_env", "team_of", "shared_policy", "team_policy",
           "MultiAgentSetup", "MatchResult", "play_matches", "evaluate_checkpoint", "eval_agent_modules"]

SHARED = "shared"


def team_of(agent_id: str) -> str:
    """``team_a_1`` -> ``team_a``."""
    return agent_id.rsplit("_", 1)[0]


def shared_policy(agent_id: str, episode: Any = None, **kwargs: Any) -> str:
    """RLlib ``policy_mapping_fn``: every agent acts with the one shared policy."""
    return SHARED


def team_policy(agent_id: str, episode: Any = None, **kwargs: Any) -> str:
    """RLlib ``policy_mapping_fn``: each team has its own policy, named after the team."""
    return team_of(agent_id)


POLICY_MAPPINGS: dict[str, Callable[..., str]] = {"shared": shared_policy, "per_team": team_policy}
"""``--policy-mapping`` -> RLlib's ``policy_mapping_fn`` (module-level, so workers import it)."""


def make_parallel_env(env_id: str, env_kwargs: dict[str, Any] | None = None, **overrides: Any):
    """The PettingZoo parallel soccer env of a single-agent soccer id (its scenario and time limit)."""
    try:
        from visiongym.envs import soccer_multi
    except ImportError as error:  # pragma: no cover - the env ships with the suite
        raise UsageError(f"--multi-agent needs visiongym.envs.soccer_multi ({error})") from error
    if env_id not in soccer_multi.soccer_env_ids():
        raise UsageError(f"--multi-agent trains a soccer env; {env_id!r} is not one; choose one of: "
                         f"{', '.join(soccer_multi.soccer_env_ids())}")
    try:
        return soccer_multi.parallel_env_from_id(env_id, **{**(env_kwargs or {}), **overrides})
    except TypeError as error:
        raise UsageError(f"env {env_id!r} rejected env_kwargs {env_kwargs}: {error}") from error


class MultiAgentSetup:
    """The multi-agent side of an RLlib run: agents, their policies, configuration and evaluation."""

    def __init__(self, config: Any, env_kwargs: dict[str, Any]) -> None:
        self.config, self.env_kwargs = config, env_kwargs
        if config.policy_mapping not in POLICY_MAPPINGS:
            raise UsageError(f"policy mapping {config.policy_mapping!r} unknown; choose one of: "
                             f"{', '.join(POLICY_MAPPINGS)}")
        probe = make_parallel_env(config.env, env_kwargs)
        self.agents = list(probe.possible_agents)
        spaces = {agent: probe.observation_space(agent) for agent in self.agents}
        probe.close()
        if any(is_image(space) or not hasattr(space, "shape") for space in spaces.values()):
            raise UsageError(f"--multi-agent with --engine rllib trains state observations; {config.env} with "
                             f"env_kwargs {env_kwargs} observes {next(iter(spaces.values()))}; use obs_mode=state")
        self.mapping = POLICY_MAPPINGS[config.policy_mapping]
        self.agent_modules = {agent: self.mapping(agent) for agent in self.agents}
        self.module_ids = sorted(set(self.agent_modules.values()))

    def configure(self, algo_config: Any, model_config: dict[str, Any]) -> Any:
        """``algo_config`` with the policies, the mapping and one module spec per policy."""
        import_ray("ray.rllib")
        from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
        from ray.rllib.core.rl_module.rl_module import RLModuleSpec

        specs = {mid: RLModuleSpec(model_config=dict(model_config)) for mid in self.module_ids}
        return (algo_config.multi_agent(policies=set(self.module_ids), policy_mapping_fn=self.mapping)
                .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs=specs)))

    def meta(self) -> dict[str, Any]:
        return {"agents": self.agents, "agent_modules": self.agent_modules,
                "policy_mapping": self.config.policy_mapping}

    def evaluate(self, evaluator: RunEvaluator, policies: dict[str, Policy], step: int, meta: dict[str, Any],
                 policy_state: Callable[[], dict[str, Any]]) -> dict[str, float]:
        """Team A's policy against scripted opponents: evaluations.csv, TensorBoard, ``best.pt``."""
        c = self.config
        agent_modules = eval_agent_modules(c.env, self.env_kwargs, self.meta())
        result = play_matches(c.env, self.env_kwargs, policies, agent_modules, c.eval_episodes,
                              seed=c.seed + EVAL_SEED_OFFSET)
        return evaluator.record(result.summary(), step, meta, policy_state)


@dataclass
class MatchResult(EvaluationResult):
    """Matches of the controlled team: ``successes`` are its wins, ``returns`` its mean reward per
    player, and ``metrics`` hold draws, losses and goals for and against."""

    def report(self) -> str:
        s = self.summary()
        return (
            f"matches          {s['episodes']}\n"
            f"win/draw/loss    {s['success_rate']:.1%} / {s['draw_rate']:.1%} / {s['loss_rate']:.1%} "
            f"(win 95% CI {s['success_ci_low']:.1%}–{s['success_ci_high']:.1%})\n"
            f"goal difference  {s['goal_difference']:+.2f} a match ({s['goals_for']:.2f} for, "
            f"{s['goals_against']:.2f} against)\n"
            f"mean return      {s['mean_return']:.3f} ± {s['return_ci95']:.3f} a player (95% CI)\n"
            f"match length     {s['mean_length']:.1f} steps"
        )


def play_matches(env_id: str, env_kwargs: dict[str, Any], policies: dict[str, Policy],
                 agent_modules: dict[str, str], episodes: int, seed: int, team: str = "team_a") -> MatchResult:
    """Play ``episodes`` matches of ``team`` (its agents acting with their policies, greedily) against
    the other team's scripted players; match ``i`` is seeded ``seed + i``."""
    kwargs = {key: value for key, value in env_kwargs.items() if key != "controlled"}
    env = make_parallel_env(env_id, kwargs, controlled=team)
    missing = [agent for agent in env.possible_agents if agent not in agent_modules]
    if missing:
        raise UsageError(f"no policy for {', '.join(missing)}: the run trained {', '.join(agent_modules)}")
    result = MatchResult()
    columns = {"goals_for": [], "goals_against": [], "goal_difference": [], "draw_rate": [], "loss_rate": []}
    try:
        for episode in range(episodes):
            observations, infos = env.reset(seed=seed + episode)
            for policy in policies.values():
                policy.reset()
            total, length = 0.0, 0
            while env.agents:
                actions = {agent: policies[agent_modules[agent]](observations[agent]) for agent in env.agents}
                observations, rewards, _, _, infos = env.step(actions)
                total += float(np.mean(list(rewards.values())))
                length += 1
            own, other = (int(goals) for goals in next(iter(infos.values()))["score"])
            result.returns.append(total)
            result.lengths.append(length)
            result.successes.append(own > other)
            for key, value in (("goals_for", own), ("goals_against", other), ("goal_difference", own - other),
                               ("draw_rate", own == other), ("loss_rate", own < other)):
                columns[key].append(float(value))
    finally:
        env.close()
    result.metrics = columns
    return result


def evaluate_checkpoint(payload: dict[str, Any], episodes: int, seed: int, env_kwargs: dict[str, Any],
                        device: Any = "cpu", team: str = "team_a") -> MatchResult:
    """``visiongym.agents.evaluate`` on a multi-agent RLlib run: ``team`` against scripted opponents."""
    from visiongym.agents.rllib.policy import module_policies
    from visiongym.vision.runtime import pick_device

    device = pick_device(device)
    meta = payload["meta"]
    agent_modules = eval_agent_modules(meta["env_id"], env_kwargs, meta)
    return play_matches(meta["env_id"], env_kwargs, module_policies(payload, device), agent_modules, episodes,
                        seed, team)


def eval_agent_modules(env_id: str, env_kwargs: dict[str, Any], meta: dict[str, Any]) -> dict[str, str]:
    """Agent -> policy for evaluation: a shared policy plays any player of either team (each acts in
    its team's frame), even one no agent controlled in training; per-team policies their own team."""
    if meta.get("policy_mapping") != "shared":
        return dict(meta["agent_modules"])
    env = make_parallel_env(env_id, {key: v for key, v in env_kwargs.items() if key != "controlled"})
    agents: Sequence[str] = env.possible_agents
    env.close()
    return dict.fromkeys(agents, SHARED)

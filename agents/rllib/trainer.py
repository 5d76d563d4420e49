"""Train PPO with Ray RLlib (new API stack) into the suite's run folder.

    python -m visiongym.agents.train ppo --engine rllib --env visiongym/TabletopSoccer-EmptyGoal-v0
    python -m visiongym.agents.train ppo --engine rllib --env visiongym/TabletopSoccer-2v2-v0 --multi-agent \\
        --policy-mapping per_team --num-env-runners 2
    python -m visiongym.agents.train ppo --engine rllib --ray-address auto ...   # join a running cluster

Ray starts locally (``ray.init(num_cpus=--num-cpus)``) unless ``--ray-address`` names a cluster, or
a Ray is already running in this process (tests start one). Each env runner builds its env from
:func:`visiongym.agents.rllib.envs.env_config`'s plain dict; the learner runs in this process (on
the GPU when ``--device`` resolves to one).

The run folder is the SB3 trainer's: ``config.yaml``, TensorBoard (``charts/*``, ``losses/*``,
``eval/*``), ``evaluations.csv``, videos, and in ``checkpoints/`` RLlib's own checkpoint
(``rllib/``, replaced atomically, what ``--resume`` restores) beside ``last.pt``/``best.pt``: the
RLModules' weights with their spaces, which ``visiongym.agents.evaluate`` loads without Ray running.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from visiongym.agents.common.checkpoints import RunEvaluator, checkpoint_meta
from visiongym.agents.common.envs import parse_env_kwargs
from visiongym.agents.common.run import Run, open_run
from visiongym.agents.config import PPOConfig
from visiongym.agents.rllib.envs import (
    MULTI_AGENT,
    SINGLE_AGENT,
    env_config,
    import_ray,
    is_image,
    register_envs,
    single_agent_env,
)
from visiongym.agents.rllib.policy import RLlibPolicy, build_module, module_record
from visiongym.sims.errors import UsageError
from visiongym.vision.runtime import load_checkpoint, pick_device, seed_everything

__all__ = ["RLlibTrainer", "SB3_PPO_DEFAULTS", "start_ray"]

SB3_PPO_DEFAULTS: dict[str, Any] = {"learning_rate": 3e-4, "n_steps": 2048, "batch_size": 64, "n_epochs": 10,
                                    "gamma": 0.99, "gae_lambda": 0.95, "clip_range": 0.2, "ent_coef": 0.0,
                                    "vf_coef": 0.5, "max_grad_norm": 0.5}
"""The PPO settings an unset option takes: Stable-Baselines3's, so both engines train the same PPO."""

CHECKPOINT_DIR = "rllib"
"""RLlib's checkpoint folder inside ``checkpoints/``."""


def start_ray(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Connect to ``address``, or start a local Ray with ``num_cpus``; returns whether this call
    started (and so should stop) it. A Ray already initialised in this process is used as it is."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    if address is not None:
        ray.init(address=address, log_to_driver=False)
    else:
        # address "local": a new Ray here, never the cluster an earlier `ray start` left on record
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    return True


def _value(config: PPOConfig, name: str) -> Any:
    value = getattr(config, name)
    return SB3_PPO_DEFAULTS[name] if value is None else value


def _lifetime_steps(result: dict[str, Any]) -> int:
    steps = result.get("num_env_steps_sampled_lifetime")
    if steps is None:
        steps = result.get("env_runners", {}).get("num_env_steps_sampled_lifetime", 0)
    return int(steps)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


class RLlibTrainer:
    """``RLlibTrainer(config).train()`` -> run folder (``ppo --engine rllib``)."""

    def __init__(self, config: PPOConfig) -> None:
        self.config, self.run, self.resuming = open_run(config)
        import_ray("ray.rllib")  # the install hint before anything else happens
        self.env_kwargs = parse_env_kwargs(self.config.env_kwargs)
        self.multi = None
        if self.config.multi_agent:
            from visiongym.agents.rllib.multi import MultiAgentSetup

            self.multi = MultiAgentSetup(self.config, self.env_kwargs)

    # --- the RLlib algorithm -------------------------------------------------------------------

    def model_config(self, image: bool) -> dict[str, Any]:
        c = self.config
        model = {"fcnet_hiddens": list(c.net_arch or (64, 64)), "fcnet_activation": c.activation or "tanh"}
        if image:
            model["fcnet_activation"] = c.activation or "relu"
        return model

    def algorithm_config(self) -> Any:
        """RLlib's ``PPOConfig`` for this run."""
        import_ray("ray.rllib")
        from ray.rllib.algorithms.ppo import PPOConfig as RLlibPPOConfig

        c = self.config
        runners = max(1, c.num_env_runners)
        # SB3's rollout (n_steps per env) from every runner, shared out among the learners
        batch = _value(c, "n_steps") * c.num_envs * runners // max(1, c.num_learners)
        training = {
            "lr": _value(c, "learning_rate"), "gamma": _value(c, "gamma"), "lambda_": _value(c, "gae_lambda"),
            "clip_param": _value(c, "clip_range"), "entropy_coeff": _value(c, "ent_coef"),
            "vf_loss_coeff": _value(c, "vf_coef"), "grad_clip": _value(c, "max_grad_norm"),
            "grad_clip_by": "global_norm", "use_kl_loss": False, "num_epochs": _value(c, "n_epochs"),
            "minibatch_size": min(_value(c, "batch_size"), batch), "train_batch_size_per_learner": batch,
            **parse_env_kwargs(c.hyperparameters),
        }
        device = pick_device(c.device)
        algo_config = (
            RLlibPPOConfig()
            .environment(MULTI_AGENT if self.multi else SINGLE_AGENT, env_config=env_config(c, self.env_kwargs))
            .env_runners(num_env_runners=c.num_env_runners, num_envs_per_env_runner=c.num_envs,
                         num_cpus_per_env_runner=1, rollout_fragment_length="auto")
            .learners(num_learners=c.num_learners, num_gpus_per_learner=1 if device.type == "cuda" else 0)
            .debugging(seed=c.seed)
        )
        try:
            algo_config = algo_config.training(**training)
        except TypeError as error:
            raise UsageError(f"--hyperparameters {' '.join(c.hyperparameters)}: RLlib's PPOConfig.training() "
                             f"refused them ({error})") from error
        if self.multi:
            return self.multi.configure(algo_config, self.model_config(image=False))
        return algo_config.rl_module(model_config=self.model_config(self.image))

    def build_algo(self) -> Any:
        """Ray (started or joined), the env creators registered, and RLlib's algorithm built."""
        c = self.config
        # --threads 0 (torch's choice) means one thread here: the driver's learner and env runner
        # push small MLP batches, which extra threads only slow down (45x slower sampling measured
        # with torch's default on a busy 2-core machine); Ray gives each env runner one thread.
        torch.set_num_threads(c.threads or 1)
        seed_everything(c.seed)
        if self.multi is None:
            probe = single_agent_env(env_config(c, self.env_kwargs))  # spaces, and env errors here, not in a worker
            self.image = is_image(probe.unwrapped.observation_space) or is_image(probe.observation_space)
            probe.close()
        else:
            self.image = False
        self.started_ray = start_ray(c.ray_address, c.num_cpus)
        register_envs()
        try:
            self.algo = self.algorithm_config().build_algo()
        except ValueError as error:
            if "conv_filters" in str(error):
                raise UsageError(f"RLlib's default CNN does not take {c.env}'s images ({error}); use "
                                 "obs_mode=state, image_size=64 or 84, or --engine sb3") from error
            raise
        return self.algo

    def build(self) -> None:
        self.build_algo()
        c = self.config
        if self.run is None:
            self.run = Run.create(c)
        self.step = 0
        if self.resuming:
            self.algo.restore_from_path(str(self._restore_path().resolve()))
            self.step = int(load_checkpoint(self.run.checkpoints / "last.pt")["meta"]["step"])
        self.evaluator = RunEvaluator(self.run, c, self.env_kwargs)

    @property
    def _checkpoint_path(self) -> Path:
        return self.run.checkpoints / CHECKPOINT_DIR

    def _restore_path(self) -> Path:
        """RLlib's checkpoint, or the one it replaced if a save was cut off between the renames."""
        for path in (self._checkpoint_path, self.run.checkpoints / f".{CHECKPOINT_DIR}.old"):
            if (path / "rllib_checkpoint.json").is_file():
                return path
        raise UsageError(f"run {str(self.run.path)!r} has no RLlib checkpoint ({self._checkpoint_path}) to resume")

    # --- policies, checkpoints, evaluation ----------------------------------------------------

    def module_ids(self) -> list[str]:
        return self.multi.module_ids if self.multi else ["default_policy"]

    def policy_state(self) -> dict[str, Any]:
        """Each module's weights (CPU tensors), as ``last.pt``/``best.pt`` hold them."""
        return {"modules": {mid: {key: value.detach().cpu().clone() for key, value in
                                  self.algo.get_module(mid).state_dict().items()}
                            for mid in self.module_ids()}}

    def meta(self) -> dict[str, Any]:
        records = {mid: module_record(self.algo.get_module(mid)) for mid in self.module_ids()}
        extra = self.multi.meta() if self.multi else {}
        return checkpoint_meta(self.config, self.env_kwargs, engine="rllib", modules=records, image=self.image,
                               multi_agent=self.multi is not None, **extra)

    def policies(self, state: dict[str, Any] | None = None) -> dict[str, RLlibPolicy]:
        """Detached copies of the modules (evaluation runs them in this process, outside Ray)."""
        state = state or self.policy_state()
        meta = self.meta()
        return {mid: RLlibPolicy(build_module(meta["modules"][mid], state["modules"][mid]), image=self.image)
                for mid in self.module_ids()}

    def evaluate(self) -> dict[str, float]:
        state = self.policy_state()
        policies = self.policies(state)
        if self.multi:
            return self.multi.evaluate(self.evaluator, policies, self.step, self.meta(), lambda: state)
        (policy,) = policies.values()
        return self.evaluator.evaluate(policy, self.step, self.meta(), lambda: state)

    def checkpoint(self) -> Path:
        """RLlib's checkpoint (a folder: written beside, then swapped in by renames), then ``last.pt``."""
        self.run.checkpoints.mkdir(parents=True, exist_ok=True)
        fresh = self.run.checkpoints / f".{CHECKPOINT_DIR}.tmp"
        old = self.run.checkpoints / f".{CHECKPOINT_DIR}.old"
        for leftover in (fresh, old):
            shutil.rmtree(leftover, ignore_errors=True)
        self.algo.save_to_path(str(fresh.resolve()))  # RLlib reads a relative path as a URI
        if self._checkpoint_path.exists():
            os.replace(self._checkpoint_path, old)
        os.replace(fresh, self._checkpoint_path)
        shutil.rmtree(old, ignore_errors=True)
        return self.evaluator.save("last.pt", self.policy_state(), self.meta(), self.step)

    # --- the loop ------------------------------------------------------------------------------

    def log(self, result: dict[str, Any], steps: int, seconds: float) -> None:
        runners, learners = result.get("env_runners", {}), result.get("learners", {})
        scalars: dict[str, float] = {"charts/SPS": steps / max(seconds, 1e-9)}
        timers = result.get("timers", {})
        for name, key in (("sample_s", "env_runner_sampling_timer"), ("learn_s", "learner_update_timer")):
            if _finite(timers.get(key)):
                scalars[f"perf/{name}"] = float(timers[key])
        if _finite(runners.get("episode_return_mean")):
            scalars["charts/episodic_return"] = float(runners["episode_return_mean"])
            scalars["charts/episodic_length"] = float(runners.get("episode_len_mean", np.nan))
        for mid, value in (runners.get("module_episode_returns_mean") or {}).items():
            if self.multi and _finite(value):
                scalars[f"charts/episodic_return/{mid}"] = float(value)
        names = {"policy_loss": "policy_loss", "vf_loss": "value_loss", "entropy": "entropy",
                 "vf_explained_var": "explained_variance", "default_optimizer_learning_rate": "learning_rate"}
        for mid in self.module_ids():
            stats = learners.get(mid, {})
            prefix = f"losses/{mid}/" if self.multi else "losses/"
            for key, name in names.items():
                if _finite(stats.get(key)):
                    scalars[f"{prefix}{name}"] = float(stats[key])
        self.run.log(scalars, self.step)

    def train(self) -> Path:
        from tqdm import tqdm

        c = self.config
        bar = None
        try:
            self.build()
            start = time.time()
            bar = tqdm(total=c.total_steps, initial=min(self.step, c.total_steps), disable=not c.progress,
                       unit="step", desc=f"rllib ppo {c.env}")
            while self.step < c.total_steps:
                before, tick = self.step, time.time()
                result = self.algo.train()
                self.step = _lifetime_steps(result)
                bar.update(min(self.step, c.total_steps) - min(before, c.total_steps))
                self.log(result, self.step - before, time.time() - tick)
                if c.eval_interval and self.step // c.eval_interval > before // c.eval_interval:
                    self.evaluate()
                if c.checkpoint_interval and self.step // c.checkpoint_interval > before // c.checkpoint_interval:
                    self.checkpoint()
                if c.max_minutes is not None and time.time() - start > 60 * c.max_minutes:
                    print(f"max_minutes={c.max_minutes} reached at step {self.step}; stopping")
                    break
        except KeyboardInterrupt:
            print(f"interrupted at step {self.step}; saving a checkpoint")
            self.checkpoint()
            print(f"saved; continue with: python -m visiongym.agents.train --resume {self.run.path}")
        else:
            self.checkpoint()
        finally:
            if bar is not None:
                bar.close()
            self.close()
        return self.run.path

    def close(self) -> None:
        algo = getattr(self, "algo", None)
        if algo is not None:
            algo.stop()
            self.algo = None
        if self.run is not None:
            self.run.close()
        if getattr(self, "started_ray", False):
            import_ray().shutdown()
            self.started_ray = False

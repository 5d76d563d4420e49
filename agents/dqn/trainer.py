"""The DQN training loop: collect from vector envs, store frames, update, evaluate, checkpoint.

Reads like a CleanRL script split into methods so DRQN can swap the network, the memory and
the acting. Resuming is exact: checkpoints are taken at *segment boundaries* where every env's
episode is cut (flagged truncated, so the cut bootstraps correctly) and the envs are reset from a
seed derived from ``(seed, step)``. A resumed run resets them with the same seed and therefore
continues exactly like an uninterrupted one (CPU; GPU kernels may add float noise).
"""

from __future__ import annotations

import time
import typing
import warnings
from collections import deque
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from tqdm.auto import tqdm

from visiongym.agents.common.checkpoints import RunEvaluator, checkpoint_meta
from visiongym.agents.common.envs import (
    make_vector_env,
    parse_env_kwargs,
    wrapper_options,
)
from visiongym.agents.common.frames import (
    FrameStacker,
    check_pixel_space,
    frame_dtype,
    frame_shape,
    is_vector_space,
    to_frames,
)
from visiongym.agents.common.replay import FrameStackReplay, PrioritizedFrameStackReplay
from visiongym.agents.common.run import Run, open_run
from visiongym.agents.config import DQNConfig, config_to_dict
from visiongym.agents.dqn.learner import DQNLearner
from visiongym.agents.dqn.loading import describe
from visiongym.agents.dqn.networks import QNetwork, build_network, encoder_kwargs, stacked_space
from visiongym.agents.dqn.policy import DQNPolicy
from visiongym.sims.errors import UsageError
from visiongym.vision.encoders import PRETRAINED, VECTOR_ENCODERS, list_models
from visiongym.vision.runtime import (
    load_checkpoint,
    pick_device,
    save_checkpoint,
    seed_everything,
    tune_cpu_allocator,
)

__all__ = ["DQNTrainer", "check_discrete", "segment_seed", "FEATURE_CACHE"]

FEATURE_CACHE: tuple[str, ...] = typing.get_args(typing.get_type_hints(DQNConfig)["feature_cache"])
"""The ``--feature-cache`` choices, those of :attr:`DQNConfig.feature_cache` (:meth:`DQNTrainer.use_feature_cache`)."""


def segment_seed(seed: int, step: int) -> int:
    """The env seed used after the segment boundary at ``step`` (step 0: the run's seed)."""
    if step == 0:
        return seed
    return int(np.random.SeedSequence([seed, step]).generate_state(1)[0])


def check_discrete(space: gym.Space, algo: str, env_id: str) -> int:
    """Number of actions, or a ``ValueError`` for an action space ``algo`` cannot use."""
    if not isinstance(space, gym.spaces.Discrete):
        raise UsageError(
            f"{algo} needs a discrete action space, but {env_id} has {space}; use "
            "--env-kwargs action_type=discrete, or an algorithm for continuous actions: ppo, sac, a2c"
        )
    return int(space.n)


def _crossed(before: int, after: int, interval: int) -> bool:
    return interval > 0 and after // interval > before // interval


class DQNTrainer:
    """Train a :class:`DQNConfig`; ``DQNTrainer(config).train()`` returns the run folder."""

    stateful_acting = False
    """True when :meth:`greedy_actions` must run every step (a recurrent state to carry)."""
    vector_observations = True
    """Whether flat vector observations (with ``--encoder mlp``) are accepted besides images."""
    feature_cache = True
    """Whether this loop can keep a frozen encoder's codes in replay (``--feature-cache``)."""

    config: DQNConfig

    def __init__(self, config: DQNConfig) -> None:
        self.config, self.run, self.resuming = open_run(config)
        if not self.resuming:
            self._validate(config)
        self.env_kwargs = parse_env_kwargs(self.config.env_kwargs)

    # -- setup -------------------------------------------------------------------------------

    def _validate(self, config: DQNConfig) -> None:
        if config.encoder not in list_models():
            raise UsageError(f"encoder {config.encoder!r} unknown; choose one of: {', '.join(list_models())}")
        for name in ("total_steps", "num_envs", "batch_size", "frame_stack", "n_step", "buffer_size"):
            if getattr(config, name) < 1:
                raise UsageError(f"{name}={getattr(config, name)} must be >= 1")
        if config.pipeline == "on" and config.prioritized:
            raise UsageError("--pipeline on draws each batch one update ahead, before the priorities of the "
                             "previous one are written; use --pipeline auto or off with --prioritized")
        defaults = DQNConfig()
        for name in ("priority_alpha", "priority_beta", "priority_eps"):
            if not config.prioritized and getattr(config, name) != getattr(defaults, name):
                raise UsageError(f"--{name.replace('_', '-')} needs --prioritized (it shapes prioritized replay)")
        if config.prioritized and not 0.0 <= config.priority_beta <= 1.0:
            raise UsageError(f"priority_beta={config.priority_beta} must be in [0, 1]")
        if config.feature_cache not in FEATURE_CACHE:
            raise UsageError(f"feature_cache={config.feature_cache!r} unknown; choose one of: {', '.join(FEATURE_CACHE)}")
        if not 0.0 <= config.epsilon_end <= config.epsilon_start <= 1.0:
            raise UsageError(
                f"need 0 <= epsilon_end ({config.epsilon_end}) <= epsilon_start ({config.epsilon_start}) <= 1"
            )

    def build_network(self, observation_space: gym.spaces.Box, n_actions: int) -> torch.nn.Module:
        c = self.config
        return QNetwork(observation_space, n_actions, c.encoder, c.features_dim, c.dueling,
                        encoder_kwargs(config_to_dict(c)))

    def use_feature_cache(self) -> bool:
        """Whether replay keeps the frozen encoder's codes (``--feature-cache``; see :class:`DQNConfig`).

        Raises:
            UsageError: ``--feature-cache on`` where codes in place of frames would change training.
        """
        c = self.config
        if c.feature_cache == "off":
            return False
        reasons = []
        if c.encoder not in PRETRAINED:
            reasons.append(f"--encoder {c.encoder} is trained from scratch (the cache is for "
                           f"{' or '.join(PRETRAINED)})")
        elif not c.freeze_encoder:
            reasons.append("--no-freeze-encoder trains the encoder")
        if c.augment_pad:
            reasons.append(f"--augment-pad {c.augment_pad} shifts each batch's pixels (use 0)")
        if c.augment_colour:
            reasons.append(f"--augment-colour {c.augment_colour} changes each batch's pixels (use 0)")
        if not self.feature_cache:
            reasons.append(f"{c.algo} encodes one frame a step through its own network")
        if reasons and c.feature_cache == "on":
            raise UsageError("--feature-cache on stores a frozen encoder's codes, which must give the same batches "
                             "as the pixels; here " + "; ".join(reasons) + " (or use --feature-cache auto|off)")
        return not reasons

    @torch.no_grad()
    def observe(self, observations: np.ndarray) -> torch.Tensor:
        """A vector step's observations as the replay buffer and frame stacks hold them: frames,
        or with the feature cache each frame's code from the frozen encoder (one pass for all envs)."""
        frames = to_frames(observations, self.device, self.config.grayscale)
        if not self.cache:
            return frames
        return self.network.encoder.frame_codes(self.network.prepare(frames))

    def learner_kwargs(self) -> dict[str, Any]:
        c = self.config
        # DrQ shifts and colour jitter change pixels; vectors (and cached codes) are used as they are
        vector = self.vector or self.cache
        augment_pad = 0 if vector else c.augment_pad
        return {"learning_rate": c.learning_rate, "adam_eps": c.adam_eps, "double": c.double,
                "max_grad_norm": c.max_grad_norm, "augment_pad": augment_pad, "tau": c.tau, "amp": c.amp,
                "augment_colour": 0.0 if vector else c.augment_colour,
                "frame_channels": 1 if vector else self.frame_shape[0],
                "generator": self.generator}

    def build_learner(self) -> DQNLearner:
        return DQNLearner(self.network, **self.learner_kwargs())

    def build_replay(self) -> FrameStackReplay:
        c = self.config
        memory, extra = FrameStackReplay, {}
        if c.prioritized:
            memory, extra = PrioritizedFrameStackReplay, {"alpha": c.priority_alpha, "eps": c.priority_eps}
        return memory(
            c.buffer_size,
            c.num_envs,
            self.stored_shape,
            stack=c.frame_stack,
            n_step=c.n_step,
            gamma=c.gamma,
            device=self.device,
            frame_dtype=frame_dtype(self.stored_shape),
            generator=self.generator,
            **extra,
        )

    def setup(self) -> None:
        """Device, seeds, envs, network, learner and memory; restores them on resume."""
        c = self.config
        self.device = pick_device(c.device)
        self.pipeline = self.use_pipeline()
        self.in_flight = self.envs_broken = False
        if c.threads:
            torch.set_num_threads(c.threads)
        elif self.pipeline:  # the helper thread's passes get the other half of the cores
            torch.set_num_threads(max(1, torch.get_num_threads() // 2))
        if c.tune_allocator:
            tune_cpu_allocator()
        seed_everything(c.seed)
        self.envs = make_vector_env(c.env, self.env_kwargs, c.num_envs, c.vectorization, detector_device=self.device,
                                    **wrapper_options(c))
        # async vector envs step in their own processes: overlap that with the update (the batched
        # detector wrapper passes step_async/step_wait through)
        self.overlap = isinstance(self.envs.unwrapped, gym.vector.AsyncVectorEnv)
        self.n_actions = check_discrete(self.envs.single_action_space, c.algo, c.env)
        space = self.envs.single_observation_space
        check_pixel_space(space, c.algo, vectors=self.vector_observations)
        self.vector = is_vector_space(space)
        if self.vector != (c.encoder in VECTOR_ENCODERS):
            seen = f"vectors of {space.shape[0]} numbers" if self.vector else "images"
            wanted = "--encoder " + " or ".join(VECTOR_ENCODERS) if self.vector else "an image encoder"
            raise UsageError(f"{c.env} observes {seen} ({space}); --encoder {c.encoder} does not fit, use {wanted}")
        self.frame_shape = frame_shape(space, c.grayscale)
        self.observation_space = stacked_space(self.frame_shape, c.frame_stack)
        # A resumed run rebuilds its network from the checkpoint's description, as loading does.
        saved = self._read_last() if self.resuming else None
        if saved is not None:
            self.network = build_network(describe(saved["meta"])["network"]).to(self.device)
        else:
            self.network = self.build_network(self.observation_space, self.n_actions).to(self.device)
        if c.channels_last:
            self.network.use_channels_last()
        self.cache = self.use_feature_cache()
        # what replay and the frame stacks hold: frames, or (feature cache) each frame's flat code
        self.stored_shape = (self.network.encoder.code_size,) if self.cache else self.frame_shape
        self.generator = torch.Generator(self.device).manual_seed(c.seed)
        self.learner = self.build_learner()
        if c.compile and self.compile_supported():
            self.learner.compile()
        elif c.compile:
            # On the CPU compilation needs a C++ toolchain and rarely pays off for these small nets.
            warnings.warn(f"--compile is a GPU option; ignored on {self.device}", stacklevel=2)
        self.replay = self.build_replay()  # refuses a buffer that does not fit, before training
        self.rng = np.random.default_rng(c.seed)
        self.step, self.updates, self.updates_due = 0, 0, 0.0
        self.recent_returns: deque[float] = deque(maxlen=20)
        if self.run is None:
            self.run = Run.create(c)
        if saved is not None:
            self._restore(saved)
        self.evaluator = RunEvaluator(self.run, c, self.env_kwargs)
        self.meta = checkpoint_meta(c, self.env_kwargs, network=self.network.spec, frame_shape=list(self.frame_shape),
                                    frame_stack=c.frame_stack, grayscale=c.grayscale, n_actions=self.n_actions)

    def compile_supported(self) -> bool:
        """Whether ``--compile`` compiles here: on CUDA (on the CPU it needs a C++ toolchain and
        rarely pays off for these small networks)."""
        return self.device.type == "cuda"

    def use_pipeline(self) -> bool:
        """Whether updates run pipelined (:meth:`DQNLearner.pipelined_update`) on this device."""
        c = self.config
        if c.pipeline == "off":
            return False
        if self.device.type != "cpu":
            if c.pipeline == "on":
                warnings.warn(f"--pipeline is a CPU option; ignored on {self.device}", stacklevel=2)
            return False
        return not c.prioritized

    # -- acting and collection ---------------------------------------------------------------

    def epsilon(self) -> float:
        c = self.config
        fraction = min(1.0, self.step / max(1, c.exploration_steps))
        return c.epsilon_start + fraction * (c.epsilon_end - c.epsilon_start)

    def start_segment(self) -> None:
        """Reset every env from the segment seed and restart the frame stacks."""
        observations, _ = self.envs.reset(seed=segment_seed(self.config.seed, self.step))
        self.frames = self.observe(observations)
        self.stacker = FrameStacker(self.config.num_envs, self.stored_shape, self.config.frame_stack, self.device)
        self.stacker.reset(self.frames)
        self.first = np.ones(self.config.num_envs, dtype=bool)
        self.final = np.zeros(self.config.num_envs, dtype=bool)
        self.episode_return = np.zeros(self.config.num_envs)
        self.episode_length = np.zeros(self.config.num_envs, dtype=np.int64)
        self.reset_memory(np.ones(self.config.num_envs, dtype=bool))

    def reset_memory(self, envs: np.ndarray) -> None:
        """Hook for recurrent agents: forget the state of the flagged envs."""

    @torch.no_grad()
    def greedy_actions(self) -> np.ndarray:
        return self.network(self.stacker.observation()).argmax(1).cpu().numpy()

    def act(self, epsilon: float) -> np.ndarray:
        explore = self.rng.random(self.config.num_envs) < epsilon
        random_actions = self.rng.integers(self.n_actions, size=self.config.num_envs)
        if explore.all() and not self.stateful_acting:
            return random_actions  # no network pass when every env explores (as SB3 does)
        return np.where(explore, random_actions, self.greedy_actions())

    def collect(self) -> dict[str, float]:
        """One vector step; stores the rows and returns finished-episode figures."""
        self.send_actions()
        return self.receive()

    def send_actions(self) -> None:
        """Choose the ε-greedy actions and start the vector step.

        With ``--vectorization async`` the envs then step in their processes while this one
        updates the network (:meth:`train` calls :meth:`learn` between this and :meth:`receive`).
        The step counter moves here, so the update schedule is the same in both orders.
        """
        self.sent_epsilon = self.epsilon()
        self.sent_actions = self.act(self.sent_epsilon)
        if self.overlap:
            self.envs.step_async(self.sent_actions)
        self.in_flight = True
        self.step += self.config.num_envs

    def receive(self) -> dict[str, float]:
        """Finish the vector step :meth:`send_actions` started; store its rows."""
        actions = self.sent_actions
        if self.overlap:
            observations, rewards, terminated, truncated, infos = self.envs.step_wait()
        else:
            observations, rewards, terminated, truncated, infos = self.envs.step(actions)
        self.in_flight = False
        final = self.final
        rewards = np.where(final, 0.0, rewards)
        self.replay.add(self.frames, actions, rewards, terminated & ~final, truncated & ~final, self.first, final)
        done = (terminated | truncated) & ~final
        self.episode_return += rewards
        self.episode_length += ~final
        logs: dict[str, float] = {}
        if done.any():
            success = infos.get("is_success", np.zeros(len(done), bool))
            for index in np.flatnonzero(done):
                self.recent_returns.append(float(self.episode_return[index]))
                logs = {
                    "charts/episodic_return": float(self.episode_return[index]),
                    "charts/episodic_length": float(self.episode_length[index]),
                    "charts/success": float(bool(success[index])),
                }
            self.episode_return[done] = 0.0
            self.episode_length[done] = 0
        self.frames = self.observe(observations)
        self.first, self.final = final.copy(), done
        self.stacker.push(self.frames, self.first)
        self.reset_memory(self.first)
        logs["charts/epsilon"] = self.sent_epsilon
        return logs

    def end_segment(self) -> None:
        """Cut every episode here: flag it truncated and store the current frame as its last.

        Also drops a batch the pipelined learner drew ahead (rewinding the generator), so the
        checkpoint that follows resumes exactly like the run that goes on.
        """
        self.learner.discard_prefetch()
        self.replay.mark_truncated(~self.final)
        zeros = np.zeros(self.config.num_envs)
        self.replay.add(self.frames, zeros, zeros, zeros.astype(bool), zeros.astype(bool), self.first,
                        np.ones(self.config.num_envs, dtype=bool))

    # -- learning ----------------------------------------------------------------------------

    def learn(self) -> dict[str, torch.Tensor]:
        """The gradient steps due after this vector step (and target updates)."""
        c = self.config
        if self.step < c.learning_starts or not self.replay.can_sample():
            return {}
        self.updates_due += c.num_envs / c.train_frequency
        metrics: dict[str, torch.Tensor] = {}
        while self.updates_due >= 1:
            self.updates_due -= 1
            if self.pipeline:
                metrics = self.learner.pipelined_update(lambda: self.replay.sample(c.batch_size))
                self.updates += 1
                continue
            if c.prioritized:  # importance-sampling exponent annealed to 1 over the run
                beta = c.priority_beta + (1.0 - c.priority_beta) * min(1.0, self.step / c.total_steps)
                batch = self.replay.sample(c.batch_size, beta=beta)
            else:
                batch = self.replay.sample(c.batch_size)
            metrics = self.learner.update(batch)
            if batch.indices is not None:
                self.replay.update_priorities(batch.indices, self.learner.last_td_errors)
            self.updates += 1
        return metrics

    # -- evaluation and checkpoints ----------------------------------------------------------

    def policy(self, epsilon: float | None = None) -> DQNPolicy:
        """The current greedy (or ε-greedy) policy for one env."""
        c = self.config
        eps = c.eval_epsilon if epsilon is None else epsilon
        return DQNPolicy(self.network, self.frame_shape, c.frame_stack, c.grayscale, eps, seed=c.seed)

    def evaluate(self) -> dict[str, float]:
        """Evaluate the greedy policy (:class:`RunEvaluator`: csv, charts, video, best.pt)."""
        return self.evaluator.evaluate(self.policy(), self.step, self.meta,
                                       lambda: {"policy": self.network.state_dict()})

    def checkpoint(self) -> Path:
        """Write ``last.pt`` (and ``replay.pt``) atomically. Call right after a segment boundary."""
        c = self.config
        state: dict[str, Any] = {
            "policy": self.network.state_dict(),
            "learner": self.learner.state_dict(),
            "counters": {"step": self.step, "updates": self.updates, "updates_due": self.updates_due},
            "numpy_rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "generator": self.generator.get_state(),
        }
        if c.save_replay:
            save_checkpoint(self.run.checkpoints / "replay.pt", "replay", self.replay.state_dict(),
                            env_id=c.env, step=self.step)
        return self.evaluator.save("last.pt", state, self.meta, self.step)

    def _read_last(self) -> dict[str, Any]:
        return load_checkpoint(self.run.checkpoints / "last.pt", kind=self.config.algo, map_location=self.device,
                               env_id=self.config.env)

    def _restore(self, payload: dict[str, Any]) -> None:
        """Training state from ``last.pt`` (read by :meth:`_read_last`): learner, counters, generators, replay."""
        c = self.config
        state = payload["state"]
        self.learner.load_state_dict(state["learner"])
        counters = state["counters"]
        self.step, self.updates = int(counters["step"]), int(counters["updates"])
        self.updates_due = float(counters["updates_due"])
        self.rng.bit_generator.state = state["numpy_rng"]
        torch.set_rng_state(state["torch_rng"].cpu())
        self.generator.set_state(state["generator"].cpu() if self.device.type == "cpu" else state["generator"])
        replay_path = self.run.checkpoints / "replay.pt"
        if c.save_replay and replay_path.is_file():
            replay = load_checkpoint(replay_path, kind="replay", map_location=self.device, env_id=c.env)
            self.replay.load_state_dict(replay["state"])

    # -- the loop ----------------------------------------------------------------------------

    def train(self) -> Path:
        """Run to ``total_steps``; Ctrl-C saves a checkpoint first. Returns the run folder."""
        self.setup()
        c = self.config
        self.start_segment()
        last_saved = self.step
        bar = tqdm(total=c.total_steps, initial=self.step, disable=not c.progress, unit="step",
                   dynamic_ncols=True, desc=f"{c.algo} {c.env}")
        window_start, window_step = time.time(), self.step
        metrics: dict[str, torch.Tensor] = {}
        try:
            while self.step < c.total_steps:
                before = self.step
                if self.overlap:  # the envs step in their processes while the network updates
                    self.send_actions()
                    metrics = self.learn() or metrics
                    logs = self.receive()
                else:
                    logs = self.collect()
                    metrics = self.learn() or metrics
                if _crossed(before, self.step, c.target_update_interval) and self.updates:
                    self.learner.update_target()
                bar.update(self.step - before)
                if _crossed(before, self.step, 1_000):
                    sps = (self.step - window_step) / max(1e-9, time.time() - window_start)
                    window_start, window_step = time.time(), self.step
                    self.run.log({**logs, **metrics, "charts/SPS": sps, "charts/updates": self.updates},
                                 self.step)
                    recent = np.mean(self.recent_returns) if self.recent_returns else float("nan")
                    bar.set_postfix(sps=f"{sps:.0f}", ret=f"{recent:.2f}", eps=f"{self.epsilon():.2f}")
                elif len(logs) > 1:
                    self.run.log(logs, self.step)
                if _crossed(before, self.step, c.eval_interval):
                    summary = self.evaluate()
                    bar.write(f"step {self.step}: eval return {summary['mean_return']:.3f}, "
                              f"success {summary['success_rate']:.0%}")
                if _crossed(before, self.step, c.checkpoint_interval):
                    self.end_segment()
                    self.checkpoint()
                    last_saved = self.step
                    self.start_segment()
        except KeyboardInterrupt:
            if self.in_flight:  # finish the vector step in progress, or drop it if the envs were stopped too
                try:
                    self.receive()
                except Exception:  # noqa: BLE001 - env workers that got the Ctrl-C as well
                    self.step -= c.num_envs
                    self.in_flight, self.envs_broken = False, True
            bar.write(f"interrupted at step {self.step}; saving a checkpoint")
            self.end_segment()
            self.checkpoint()
            bar.close()
            print(f"saved; continue with: python -m visiongym.agents.train --resume {self.run.path}")
            self.close()
            return self.run.path
        bar.close()
        if last_saved != self.step:
            self.end_segment()
            self.checkpoint()
        self.close()
        return self.run.path

    def close(self) -> None:
        if getattr(self, "learner", None) is not None:
            self.learner.close()
        if self.envs_broken:
            self.envs.close(terminate=True)
        else:
            self.envs.close()
        if self.run is not None:
            self.run.close()

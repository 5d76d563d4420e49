"""Train a Stable-Baselines3 / sb3-contrib algorithm with the suite's run folder and tooling.

Same command, same run folder as our DQN: config.yaml, TensorBoard (our ``charts/*`` and
``eval/*`` beside SB3's own ``train/*`` and ``rollout/*``), evaluations.csv, atomic
checkpoints (``last.pt``/``best.pt`` policy weights, loadable with ``weights_only=True``, plus
SB3's ``sb3_model.zip`` and replay buffer for ``--resume``), evaluation videos. Images go through
``VecFrameStack`` + ``VecTransposeImage`` and our encoder (``features_extractor_class``); vector
observations go to an MLP (``net_arch``) and, for on-policy algorithms by default, through
``VecNormalize``, whose statistics are saved with every checkpoint (``vecnormalize.pkl`` for
``--resume``, the observation statistics in ``last.pt``/``best.pt`` for evaluation and play).
"""

from __future__ import annotations

import inspect
import os
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from visiongym.agents.algorithms import get_algorithm
from visiongym.agents.common.checkpoints import RunEvaluator, checkpoint_meta
from visiongym.agents.common.envs import (
    batched_detector,
    make_env,
    parse_env_kwargs,
    wrapper_options,
)
from visiongym.agents.common.run import Run, open_run
from visiongym.agents.config import SB3Config, config_to_dict, encoder_kwargs
from visiongym.agents.sb3.policy import (
    ACTIVATIONS,
    ObservationNormalizer,
    SB3Policy,
    algorithm_class,
)
from visiongym.agents.sb3.spaces import space_to_dict
from visiongym.sims.errors import UsageError
from visiongym.vision.encoders import get_model_class, list_models
from visiongym.vision.runtime import (
    pick_device,
    seed_everything,
    tune_cpu_allocator,
)

__all__ = ["SB3Trainer"]


def _is_image(space: gym.Space) -> bool:
    return isinstance(space, gym.spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3


def _check_actions(algo: str, space: gym.Space, env_id: str) -> None:
    kind = get_algorithm(algo).actions
    if kind == "discrete" and not isinstance(space, gym.spaces.Discrete):
        raise UsageError(
            f"{algo} needs a discrete action space, but {env_id} has {space}; use "
            "--env-kwargs action_type=discrete, or ppo, sac or a2c for continuous actions"
        )
    if kind == "continuous" and not isinstance(space, gym.spaces.Box):
        raise UsageError(
            f"{algo} needs a continuous (Box) action space, but {env_id} has {space}; use "
            "--env-kwargs action_type=continuous, or dqn, ppo or a2c for discrete actions"
        )


def _atomic_sb3_save(save, path: Path) -> None:
    """SB3 ``save(path)`` through a temporary file and one rename."""
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    save(tmp)
    os.replace(tmp, path)


#: Config fields passed to the SB3 algorithm when set (None keeps SB3's default).
_OPTIONAL_HYPERPARAMETERS = (
    "gamma", "gae_lambda", "n_epochs", "clip_range", "ent_coef", "vf_coef", "max_grad_norm", "target_kl",
)


def _linear_schedule(start: float):
    """SB3 schedule: ``start`` at the beginning of training, 0 at the end (RL Zoo's ``lin_``)."""

    def schedule(progress_remaining: float) -> float:
        return progress_remaining * start

    return schedule


class SB3Trainer:
    """``SB3Trainer(config).train()`` -> run folder."""

    def __init__(self, config: SB3Config) -> None:
        self.config, self.run, self.resuming = open_run(config)
        if self.config.encoder not in list_models():
            raise UsageError(f"encoder {self.config.encoder!r} unknown; choose one of: {', '.join(list_models())}")
        self.env_kwargs = parse_env_kwargs(self.config.env_kwargs)
        self.algo_class = algorithm_class(self.config.algo)
        self.on_policy = get_algorithm(self.config.algo).on_policy

    def make_venv(self):
        from stable_baselines3.common.vec_env import (
            DummyVecEnv,
            SubprocVecEnv,
            VecFrameStack,
            VecMonitor,
            VecTransposeImage,
        )

        c = self.config
        wrappers, detector = batched_detector(wrapper_options(c), c.num_envs)
        thunks = [make_env(c.env, self.env_kwargs, **wrappers) for _ in range(c.num_envs)]
        venv = SubprocVecEnv(thunks, start_method="spawn") if c.vectorization == "async" and c.num_envs > 1 else DummyVecEnv(thunks)
        if detector is not None:  # one detector pass over every env's frame a step
            from visiongym.agents.sb3.detected import VecDetectedObjects

            venv = VecDetectedObjects(venv, detector, c.detector_players, device=pick_device(c.device),
                                      int8=c.detector_int8)
        venv = VecMonitor(venv)
        self.raw_observation_space = venv.observation_space
        self.image = _is_image(venv.observation_space)
        self.frame_stack = c.frame_stack if self.image else 1
        if self.image and self.frame_stack > 1:
            venv = VecFrameStack(venv, self.frame_stack, channels_order="last")
        if self.image:
            venv = VecTransposeImage(venv)
        venv = self._normalize(venv)
        venv.seed(c.seed)
        return venv

    def normalization(self) -> tuple[bool, bool]:
        """(normalise observations, normalise rewards) for this config and observation space."""
        mode = self.config.normalize
        if mode == "auto":
            vector = isinstance(self.raw_observation_space, gym.spaces.Box) and not self.image
            mode = "both" if vector and self.on_policy else "none"
        if mode in ("observation", "both") and not isinstance(self.raw_observation_space, gym.spaces.Box):
            raise UsageError(
                f"normalize={self.config.normalize!r} needs a Box observation space, but {self.config.env} has "
                f"{self.raw_observation_space}; use --normalize reward or none"
            )
        if mode in ("observation", "both") and self.image:
            raise UsageError(
                f"normalize={self.config.normalize!r}: image observations are scaled by the encoder; "
                "use --normalize reward or none"
            )
        return mode in ("observation", "both"), mode in ("reward", "both")

    def _normalize(self, venv):
        from stable_baselines3.common.vec_env import VecNormalize

        norm_obs, norm_reward = self.normalization()
        if not (norm_obs or norm_reward):
            return venv
        gamma = self.config.gamma if self.config.gamma is not None else 0.99
        if self.resuming and self._normalize_path.is_file():
            venv = VecNormalize.load(str(self._normalize_path), venv)
            venv.training = True
            return venv
        return VecNormalize(venv, norm_obs=norm_obs, norm_reward=norm_reward, gamma=gamma)

    def observation_normalizer(self) -> ObservationNormalizer | None:
        """A frozen copy of the running observation statistics (None without them)."""
        from stable_baselines3.common.vec_env import VecNormalize

        if not isinstance(self.venv, VecNormalize) or not self.venv.norm_obs:
            return None
        rms = self.venv.obs_rms
        return ObservationNormalizer(rms.mean.copy(), rms.var.copy(), self.venv.clip_obs, self.venv.epsilon)

    def policy_setup(self) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """(SB3 policy name, policy_kwargs, the same kwargs as saved in checkpoint meta)."""
        c = self.config
        recurrent = get_algorithm(c.algo).recurrent
        if isinstance(self.raw_observation_space, gym.spaces.Dict):
            return ("MultiInputLstmPolicy" if recurrent else "MultiInputPolicy"), {}, {}
        if not self.image:
            kwargs, meta = {}, {}
            if c.net_arch is not None:
                kwargs["net_arch"] = meta["net_arch"] = list(c.net_arch)
            if c.activation is not None:
                kwargs["activation_fn"] = ACTIVATIONS[c.activation]
                meta["activation"] = c.activation
            if c.log_std_init is not None:
                kwargs["log_std_init"] = meta["log_std_init"] = c.log_std_init
            return ("MlpLstmPolicy" if recurrent else "MlpPolicy"), kwargs, meta
        extra = encoder_kwargs(config_to_dict(c))  # a pretrained encoder's checkpoint and freeze
        kwargs = {
            "features_extractor_class": get_model_class(c.encoder),
            "features_extractor_kwargs": {"features_dim": c.features_dim, **extra},
            "normalize_images": False,  # our encoders normalise uint8 themselves
        }
        meta = {"encoder": c.encoder, "features_dim": c.features_dim, "normalize_images": False}
        if extra:
            meta["encoder_kwargs"] = extra
        return ("CnnLstmPolicy" if recurrent else "CnnPolicy"), kwargs, meta

    def hyperparameters(self) -> dict[str, Any]:
        """Keyword arguments of the SB3 algorithm: the config fields that were set, then
        ``--hyperparameters``; a field the algorithm does not take is refused by name."""
        c = self.config
        hyper: dict[str, Any] = {}
        if c.batch_size is not None:  # check_options refuses it for a2c
            hyper["batch_size"] = c.batch_size
        if c.n_steps is not None:  # and for the off-policy algorithms
            hyper["n_steps"] = c.n_steps
        if not self.on_policy:
            hyper["buffer_size"] = c.buffer_size
        accepted = set(inspect.signature(self.algo_class.__init__).parameters)
        for name in _OPTIONAL_HYPERPARAMETERS:
            value = getattr(c, name)
            if value is None:
                continue
            if name not in accepted:
                raise UsageError(
                    f"--{name.replace('_', '-')} does not apply to {c.algo}; it takes: "
                    f"{', '.join(sorted(n for n in _OPTIONAL_HYPERPARAMETERS if n in accepted))}"
                )
            hyper[name] = value
        rate = c.learning_rate
        if c.lr_schedule == "linear":
            if rate is None:
                raise UsageError("--lr-schedule linear needs --learning-rate (the rate at the start)")
            hyper["learning_rate"] = _linear_schedule(rate)
        elif rate is not None:
            hyper["learning_rate"] = rate
        hyper.update(parse_env_kwargs(c.hyperparameters))
        return hyper

    @property
    def _normalize_path(self) -> Path:
        return self.run.checkpoints / "vecnormalize.pkl"

    @property
    def _model_path(self) -> Path:
        return self.run.checkpoints / "sb3_model.zip"

    @property
    def _replay_path(self) -> Path:
        return self.run.checkpoints / "sb3_replay.pkl"

    def build(self) -> None:
        c = self.config
        if c.threads:
            torch.set_num_threads(c.threads)
        if c.tune_allocator:
            tune_cpu_allocator()
        self.device = pick_device(c.device)
        seed_everything(c.seed)
        self.venv = self.make_venv()
        _check_actions(c.algo, self.venv.action_space, c.env)
        self.policy_name, policy_kwargs, meta_kwargs = self.policy_setup()
        if self.run is None:
            self.run = Run.create(c)
        if self.resuming:
            self.model = self.algo_class.load(self._model_path, env=self.venv, device=self.device)
            if not self.on_policy and self._replay_path.is_file():
                self.model.load_replay_buffer(self._replay_path)
        else:
            self.model = self.algo_class(
                self.policy_name, self.venv, seed=c.seed, device=self.device, verbose=0,
                policy_kwargs=policy_kwargs, **self.hyperparameters(),
            )
        from stable_baselines3.common.logger import configure

        self.model.set_logger(configure(str(self.run.path), ["tensorboard"]))
        action_space = self.venv.action_space
        self.meta = checkpoint_meta(
            c, self.env_kwargs,
            policy=self.policy_name,
            policy_kwargs=meta_kwargs,
            observation_space=space_to_dict(self.venv.observation_space),
            action_space=space_to_dict(action_space),
            frame_stack=self.frame_stack,
            image=self.image,
            n_actions=int(action_space.n) if isinstance(action_space, gym.spaces.Discrete) else None,
        )
        self.evaluator = RunEvaluator(self.run, c, self.env_kwargs)

    def policy(self) -> SB3Policy:
        return SB3Policy(self.model.policy, self.frame_stack, self.image, normalizer=self.observation_normalizer())

    def _policy_state(self) -> dict[str, Any]:
        """What a policy checkpoint holds: the weights and the observation statistics."""
        state: dict[str, Any] = {"policy": self.model.policy.state_dict()}
        normalizer = self.observation_normalizer()
        if normalizer is not None:
            state["observation_normalizer"] = normalizer.state_dict()
        return state

    def evaluate(self) -> dict[str, float]:
        """Evaluate the deterministic policy (:class:`RunEvaluator`: csv, charts, video, best.pt)."""
        return self.evaluator.evaluate(self.policy(), self.model.num_timesteps, self.meta, self._policy_state)

    def checkpoint(self) -> Path:
        """Policy weights (``last.pt``), then SB3's model zip, VecNormalize statistics and replay
        buffer, each atomically."""
        from stable_baselines3.common.vec_env import VecNormalize

        self.run.checkpoints.mkdir(parents=True, exist_ok=True)
        _atomic_sb3_save(self.model.save, self._model_path)
        if isinstance(self.venv, VecNormalize):
            _atomic_sb3_save(self.venv.save, self._normalize_path)
        if not self.on_policy and self.config.save_replay:
            _atomic_sb3_save(self.model.save_replay_buffer, self._replay_path)
        return self.evaluator.save("last.pt", self._policy_state(), self.meta, self.model.num_timesteps)

    def make_callback(self):
        """The callback of SB3's ``learn``: our charts, evaluations and checkpoints."""
        return _RunCallback(self)

    def train(self) -> Path:
        self.build()
        c = self.config
        self.start_time = time.time()
        remaining = c.total_steps - self.model.num_timesteps
        try:
            if remaining > 0:
                self.model.learn(remaining, callback=self.make_callback(), reset_num_timesteps=not self.resuming,
                                 progress_bar=c.progress)
        except KeyboardInterrupt:
            print(f"interrupted at step {self.model.num_timesteps}; saving a checkpoint")
            self.checkpoint()
            print(f"saved; continue with: python -m visiongym.agents.train --resume {self.run.path}")
        else:
            self.checkpoint()
        self.venv.close()
        self.run.close()
        return self.run.path


def _make_callback_class():
    from stable_baselines3.common.callbacks import BaseCallback

    class RunCallback(BaseCallback):
        """Our charts, periodic evaluation (best model, video) and checkpoints inside SB3's loop."""

        def __init__(self, trainer: SB3Trainer) -> None:
            super().__init__()
            self.trainer = trainer
            self.window_time, self.window_step = time.time(), 0

        def _on_training_start(self) -> None:
            self.window_time, self.window_step = time.time(), self.model.num_timesteps

        def _on_step(self) -> bool:
            trainer, c = self.trainer, self.trainer.config
            after = self.model.num_timesteps
            before = after - self.training_env.num_envs
            scalars: dict[str, float] = {}
            for info in self.locals.get("infos", []):
                if "episode" in info:
                    scalars["charts/episodic_return"] = float(info["episode"]["r"])
                    scalars["charts/episodic_length"] = float(info["episode"]["l"])
                    scalars["charts/success"] = float(bool(info.get("is_success", False)))
            if after // 1000 > before // 1000:
                scalars["charts/SPS"] = (after - self.window_step) / max(1e-9, time.time() - self.window_time)
                self.window_time, self.window_step = time.time(), after
            if scalars:
                trainer.run.log(scalars, after)
            if c.eval_interval and after // c.eval_interval > before // c.eval_interval:
                trainer.evaluate()
            if c.checkpoint_interval and after // c.checkpoint_interval > before // c.checkpoint_interval:
                trainer.checkpoint()
            if c.max_minutes is not None and time.time() - trainer.start_time > 60 * c.max_minutes:
                print(f"max_minutes={c.max_minutes} reached at step {after}; stopping")
                return False
            return True

    return RunCallback


def _RunCallback(trainer: SB3Trainer):  # noqa: N802 - reads as a class at the call site
    return _make_callback_class()(trainer)

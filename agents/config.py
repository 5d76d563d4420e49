"""Typed training configs, one dataclass per algorithm; tyro turns them into the CLI.

Each field's docstring is its ``--help`` text. The shared fields live in :class:`TrainConfig`.
Defaults of the DQN family follow the small-budget settings of data-efficient DQN / DrQ(ε)
(n-step 10, learning starts 1,600, ε → 0.01 over 2,500 steps, one update per env step,
Adam 1e-4 with eps 1.5e-4, Double + Dueling, random shifts of 4 pixels).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from visiongym.agents.algorithms import ALGORITHMS, Algorithm, get_algorithm, names
from visiongym.sims.errors import MissingFileError, UsageError
from visiongym.vision.encoders import ENCODERS, PRETRAINED
from visiongym.vision.runs import (
    CONFIG_FILE,
    THREADS_DEFAULT,
    RunOptions,
    config_dict,
    read_run_config,
)

__all__ = [
    "TrainConfig",
    "DQNConfig",
    "DRQNConfig",
    "SB3Config",
    "PPOConfig",
    "ENGINE_ONLY",
    "CONFIGS",
    "OPTION_ALGORITHMS",
    "check_options",
    "check_encoder_options",
    "encoder_kwargs",
    "config_to_dict",
    "config_from_dict",
    "load_config",
]

EncoderName = ENCODERS.choices()
"""The ``--encoder`` choices: every encoder in the registry of visiongym.vision.encoders."""


@dataclass
class TrainConfig(RunOptions):
    """Options every algorithm shares (``device``, ``threads`` and ``progress`` are the suite's
    :class:`visiongym.vision.runs.RunOptions`)."""

    env: str = "visiongym/CatchBall-v0"
    """Gymnasium env id; the visiongym/ envs are registered when the suite is imported."""
    env_kwargs: tuple[str, ...] = ()
    """Env arguments as KEY=VALUE pairs, e.g. scenario=empty_goal obs_mode=pixels image_size=64."""
    seed: int = 1
    """One seed for Python, NumPy, torch and the envs; recorded in the run folder."""
    total_steps: int = 100_000
    """Environment steps to train for (summed over the vector envs)."""
    num_envs: int = 1
    """Envs collected from in parallel (Gymnasium vector API)."""
    vectorization: Literal["sync", "async"] = "sync"
    """Sync runs the envs in this process; async gives each its own process (our DQN and DRQN
    then step the envs while the network updates, so an update does not see the vector step in
    flight)."""
    atari_wrappers: bool = True
    """Standard pixel preprocessing for image envs that visiongym does not register, as SB3's
    AtariWrapper and CleanRL's dqn_atari.py do it: ALE ids (ALE/Pong-v5, PongNoFrameskip-v4) get
    every step below, other uint8 (H, W, C) image envs get --screen-size and --grayscale-obs; frames
    are then stacked by --frame-stack. Our envs are never touched. --no-atari-wrappers trains on the
    raw env."""
    noop_max: int = 30
    """Atari: up to this many no-op actions after each reset, a random number drawn from the env's
    seed (0: none)."""
    frame_skip: int = 4
    """Atari: repeat each action this many frames and sum the rewards; the emulator is then made
    with frameskip=1 (ALE v5 ids skip 4 themselves), so frames are not skipped twice."""
    max_pool: bool = True
    """Atari: observe the pixel-wise maximum of the last two skipped frames (sprites flicker)."""
    screen_size: int = 84
    """Image envs not ours: frames resized to this many pixels square (cv2 INTER_AREA)."""
    grayscale_obs: bool = True
    """Image envs not ours: one grey channel (Atari: ALE's grey screen, obs_type=grayscale)."""
    terminal_on_life_loss: bool = True
    """Atari, training only: a lost life ends the learner's episode but not the game (SB3's
    terminal_on_life_loss, CleanRL's EpisodicLifeEnv); evaluation plays whole games."""
    clip_reward: bool = True
    """Atari, training only: rewards clipped to their sign (-1, 0, +1); evaluation reports raw
    scores."""
    fire_reset: bool = True
    """Atari: press FIRE after each reset in games that have a FIRE action (Breakout waits for it)."""
    flicker: float = 0.0
    """Probability that an observation is blanked (FlickerObservation wrapper; 0 disables it)."""
    hide_ball: float = 0.0
    """Probability that the soccer ball is left out of a pixel observation (OccludeBall wrapper;
    0 disables it)."""
    detector: Path | None = None
    """Detector checkpoint (visiongym.vision.detect.train): the agent sees the detected object list
    (ball, players, goals) instead of pixels, one batched detector pass over all training envs a
    step (one env: the DetectedObjects wrapper); make the env with obs_mode=pixels, ideally at the
    detector's image size. Our dqn then needs --encoder mlp."""
    detector_players: int = 1
    """Player slots per team in the detected object list (--detector)."""
    detector_int8: bool = False
    """Run --detector's convolutions in 8-bit integers on the CPU (post-training quantization,
    calibrated on the first 64 frames it sees): a faster forward pass, the object lists agreeing with
    float on 97-100% of slots (BENCHMARKS.md). CPU only; grid detectors only."""
    eval_interval: int = 10_000
    """Environment steps between evaluations (0 disables periodic evaluation)."""
    eval_episodes: int = 10
    """Episodes per evaluation."""
    video: bool = True
    """Write a video of the first episode of each evaluation to the run's videos/ folder."""
    checkpoint_interval: int = 25_000
    """Environment steps between checkpoints (checkpoints/last.pt, written atomically)."""
    runs_dir: Path = Path("runs")
    """Folder that holds the run folders."""
    run_name: str | None = None
    """Run folder name; default <env>__<algo>__<seed>__<time>."""
    resume: Path | None = None
    """Continue the run in this folder from its last checkpoint; its saved config is used, with
    only total_steps taken from the command line when given."""
    tune_allocator: bool = True
    """Let glibc keep freed memory for reuse (mallopt) instead of page-faulting fresh blocks in
    every update: 1.1-1.4x faster CPU training in benchmarks/dqn_vs_sb3.py; Linux/glibc only, a
    no-op elsewhere."""
    save_replay: bool = True
    """Save the replay buffer (off-policy algorithms) with each checkpoint so --resume continues
    where it stopped."""
    eval_info_keys: tuple[str, ...] = ()
    """Numeric info keys averaged per step over each evaluation and written to evaluations.csv
    as mean_<key>, e.g. x_velocity. Envs that put a dict of floats in info["task_metrics"] (such
    as LearnToMove-v0: forward_speed, imitation_score) get those columns without asking."""

    algo: ClassVar[str] = ""


@dataclass
class DQNConfig(TrainConfig):
    """Our DQN from pixels: Double, Dueling, n-step, DrQ random shifts, uint8 frame replay."""

    encoder: EncoderName = "nature_cnn"
    """Encoder from visiongym.vision.encoders; autoencoder is the encoder of a pretrained
    autoencoder, detector the backbone of a pretrained grid detector (both need
    --encoder-checkpoint); mlp is for vector observations (obs_mode=state, --detector)."""
    encoder_checkpoint: Path | None = None
    """Checkpoint of the pretrained encoder: an autoencoder (visiongym.vision.autoencoders.train) for
    --encoder autoencoder, a grid detector (visiongym.vision.detect.train) for --encoder detector,
    trained at the env's image size; it encodes each stacked frame."""
    freeze_encoder: bool = True
    """Keep the pretrained encoder's weights fixed (only the projection after it and the Q head
    train); --no-freeze-encoder fine-tunes them too. Its batch-norm statistics stay those of
    pretraining either way."""
    feature_cache: Literal["auto", "on", "off"] = "auto"
    """With a frozen pretrained encoder (--encoder autoencoder or detector): the replay buffer keeps
    each frame's code instead of its pixels, so a frame passes the frozen trunk once, when it is
    observed, instead of in every batch that draws it again. The Q-values are the same up to float
    rounding, and the saved network still reads pixels (evaluation and play are unchanged). auto:
    on where that is exact (a frozen encoder, no --augment-pad or --augment-colour, not drqn); on:
    the same, refused where it is not exact; off: pixels in the replay buffer."""
    features_dim: int = 512
    """Encoder output size."""
    frame_stack: int = 4
    """Frames stacked into one observation (the buffer stores single frames)."""
    grayscale: bool = False
    """Convert RGB frames to one grey channel (colour often matters in soccer: off by default)."""
    buffer_size: int = 100_000
    """Replay capacity in frames (all envs together); refused if it will not fit in memory."""
    batch_size: int = 32
    """Transitions per gradient step."""
    learning_rate: float = 1e-4
    """Adam learning rate."""
    adam_eps: float = 1.5e-4
    """Adam epsilon."""
    gamma: float = 0.99
    """Discount factor."""
    n_step: int = 10
    """Reward steps summed before bootstrapping (1 is classic DQN)."""
    double: bool = True
    """Double-DQN targets (online argmax, target evaluation)."""
    dueling: bool = True
    """Dueling value/advantage head."""
    augment_pad: int = 4
    """DrQ random shift in pixels applied to sampled observations (0 disables it)."""
    augment_colour: float = 0.0
    """Photometric jitter of sampled observations (RAD-style brightness, contrast and colour-cast
    gains, one draw per transition): its strength, 0 off, 0.5 spans about 0.6-1.65x brightness."""
    prioritized: bool = False
    """Prioritized experience replay (proportional, Schaul et al. 2016); DQN only, not DRQN."""
    priority_alpha: float = 0.5
    """How strongly priorities shape sampling (0 is uniform)."""
    priority_beta: float = 0.4
    """Importance-sampling exponent at the start; annealed linearly to 1 by the end of the run."""
    priority_eps: float = 1e-3
    """Added to |TD error| to form a priority, so no transition stops being replayed."""
    max_grad_norm: float = 10.0
    """Gradient clipping threshold (global L2 norm)."""
    tau: float = 1.0
    """Target update rate: 1.0 is a hard copy, e.g. 0.005 a Polyak average."""
    target_update_interval: int = 2_000
    """Environment steps between target updates (use 1 with Polyak averaging)."""
    learning_starts: int = 1_600
    """Environment steps of random-ish play before the first update."""
    train_frequency: int = 1
    """Environment steps per gradient step (1: one update per env step)."""
    epsilon_start: float = 1.0
    """Initial exploration rate."""
    epsilon_end: float = 0.01
    """Final exploration rate."""
    exploration_steps: int = 2_500
    """Environment steps over which epsilon decays linearly."""
    eval_epsilon: float = 0.0
    """Exploration rate during evaluation."""
    amp: bool = False
    """Mixed precision (float16 autocast) for the update; only used on CUDA."""
    compile: bool = False
    """torch.compile the Q-network for the updates (CUDA only; ignored with a warning elsewhere)."""
    channels_last: bool = True
    """Channels-last (NHWC) conv weights and image batches: faster convolutions on CPUs (oneDNN)
    and on tensor-core GPUs; the results are the same up to float rounding."""
    pipeline: Literal["auto", "on", "off"] = "auto"
    """CPU speed-up: a helper thread runs the s' passes and prepares the next batch while the
    main thread runs the online pass and backward (1.46-1.57x the SPS on a 2-core CPU,
    benchmarks/dqn_vs_sb3.py). Each batch is drawn one update ahead, so it misses the newest
    vector step. auto: on for CPU training without --prioritized (and, unless --threads is given,
    torch's threads are halved so the two share the cores); on: the same, refused with
    --prioritized; off: one thread does the whole update in the classic order. Ignored on a GPU."""

    algo: ClassVar[str] = "dqn"


@dataclass
class DRQNConfig(DQNConfig):
    """DRQN: an LSTM after the encoder, one frame a step, sequence replay with burn-in."""

    frame_stack: int = 1
    """Frames per observation (DRQN sees one; memory comes from the LSTM)."""
    features_dim: int = 256
    """Encoder output size fed to the LSTM."""
    lstm_hidden: int = 256
    """LSTM hidden size."""
    sequence_length: int = 16
    """Steps per training sequence (after burn-in)."""
    burn_in: int = 8
    """Steps replayed only to warm up the LSTM state before the trained part (R2D2)."""
    n_step: int = 3
    """Reward steps summed before bootstrapping."""
    batch_size: int = 16
    """Sequences per gradient step."""
    train_frequency: int = 4
    """Environment steps per gradient step."""

    algo: ClassVar[str] = "drqn"


@dataclass
class SB3Config(TrainConfig):
    """A Stable-Baselines3 algorithm with our encoder as its features extractor."""

    encoder: EncoderName = "nature_cnn"
    """Encoder from visiongym.vision.encoders for image observations (vectors use SB3's MLP);
    autoencoder and detector are pretrained ones (need --encoder-checkpoint)."""
    encoder_checkpoint: Path | None = None
    """Checkpoint of the pretrained encoder (--encoder autoencoder: an autoencoder, --encoder
    detector: a grid detector), trained at the env's image size."""
    freeze_encoder: bool = True
    """Keep the pretrained encoder's weights fixed; --no-freeze-encoder fine-tunes them too."""
    features_dim: int = 512
    """Encoder output size."""
    frame_stack: int = 4
    """Frames stacked for image observations (1 disables stacking)."""
    learning_rate: float | None = None
    """Learning rate (default: the SB3 algorithm's own)."""
    n_steps: int | None = None
    """Rollout length per env for on-policy algorithms (default: SB3's)."""
    batch_size: int | None = None
    """Minibatch size (default: SB3's)."""
    buffer_size: int = 100_000
    """Replay capacity for off-policy algorithms."""
    normalize: Literal["auto", "none", "observation", "reward", "both"] = "auto"
    """VecNormalize running statistics: auto normalises observations and rewards for on-policy
    algorithms (ppo, a2c, recurrent-ppo) on vector observations, as RL Zoo does for MuJoCo, and
    nothing otherwise. The statistics are saved with every checkpoint and used by --resume,
    visiongym.agents.evaluate and visiongym.envs.play."""
    net_arch: tuple[int, ...] | None = None
    """Hidden layer sizes of the MLP policy and value/Q networks for vector observations, e.g.
    256 256 (default: SB3's, 64 64 for ppo/a2c, 256 256 for sac)."""
    activation: Literal["tanh", "relu", "elu"] | None = None
    """Activation of those MLPs (default: SB3's, tanh for ppo/a2c, relu for sac)."""
    log_std_init: float | None = None
    """Initial log standard deviation of a Gaussian policy (continuous actions; default SB3's 0)."""
    gamma: float | None = None
    """Discount factor (default: SB3's 0.99)."""
    gae_lambda: float | None = None
    """GAE lambda of ppo/a2c (default: SB3's, 0.95 for ppo)."""
    n_epochs: int | None = None
    """PPO epochs over each rollout (default: SB3's 10)."""
    clip_range: float | None = None
    """PPO policy clip range (default: SB3's 0.2)."""
    ent_coef: float | None = None
    """Entropy coefficient (ppo/a2c; for sac a fixed value instead of SB3's automatic tuning)."""
    vf_coef: float | None = None
    """Value loss coefficient of ppo/a2c (default: SB3's 0.5)."""
    max_grad_norm: float | None = None
    """Gradient clipping of ppo/a2c (default: SB3's 0.5)."""
    target_kl: float | None = None
    """PPO: stop an update's epochs early when the KL divergence passes this (default: off)."""
    max_minutes: float | None = None
    """Wall-clock budget: stop (with a checkpoint) after this many minutes even if total_steps is
    not reached; --resume continues the run."""
    lr_schedule: Literal["constant", "linear"] = "constant"
    """Learning rate over the run: constant, or linear decay to 0 at total_steps (RL Zoo's lin_)."""
    hyperparameters: tuple[str, ...] = ()
    """Further algorithm arguments as KEY=VALUE pairs, e.g. ent_coef=0.01 gamma=0.98."""
    multi_agent: bool = False
    """ppo: train on the multi-agent soccer env of --env (visiongym.envs.soccer_multi, e.g.
    visiongym/TabletopSoccer-2v2-v0, state vectors). --engine sb3: one policy shared by every player
    of the learning team, the other team driven by an opponent from the pool
    (visiongym.agents.selfplay); --engine rllib: every controlled player an RLlib agent, mapped by
    --policy-mapping."""
    self_play: bool = False
    """ppo --multi-agent: frozen snapshots of the learner join the scripted opponents; a new one is
    frozen whenever its win rate against the newest passes --pool-threshold."""
    pool_scripted_levels: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
    """--multi-agent: skills (in [0, 1]) of the scripted opponent teams in the pool."""
    pool_scripted_fraction: float = 0.5
    """--self-play: share of matches played against a scripted level (the rest against snapshots)."""
    pool_latest_fraction: float = 0.5
    """--self-play: share of the snapshot matches played against the newest snapshot."""
    pool_threshold: float = 0.6
    """--self-play: win rate (draws count half) against the newest snapshot that freezes a new one."""
    pool_window: int = 50
    """--multi-agent: recent matches per opponent that the win rates are taken over."""
    pool_min_matches: int = 20
    """--self-play: matches against the newest snapshot needed before the next promotion."""
    pool_max_snapshots: int = 10
    """--self-play: opponents are drawn from the newest this many snapshots (older ones stay on disk)."""
    pool_check_interval: int = 10_000
    """--self-play: environment steps between promotion checks."""
    swap_sides: bool = True
    """--multi-agent: the learner plays team B (in its mirrored team frame) in half the matches."""
    eval_opponent: str = "scripted:1"
    """--multi-agent: the opponent of the periodic evaluation matches (scripted:<skill> or
    snapshot:<k>); the default is the scripted team at the env's default skill."""

    algo: ClassVar[str] = "ppo"


ENGINE_ONLY: dict[str, tuple[str, ...]] = {
    "sb3": ("encoder", "encoder_checkpoint", "freeze_encoder", "features_dim", "frame_stack", "normalize",
            "log_std_init", "target_kl", "lr_schedule", "detector", "detector_players", "detector_int8",
            "vectorization",
            "self_play", "pool_scripted_levels", "pool_scripted_fraction", "pool_latest_fraction", "pool_threshold",
            "pool_window", "pool_min_matches", "pool_max_snapshots", "pool_check_interval", "swap_sides",
            "eval_opponent"),
    "rllib": ("ray_address", "num_env_runners", "num_learners", "num_cpus", "policy_mapping"),
}
"""Options of :class:`PPOConfig` that only one engine reads; set away from its default with the
other engine, each is refused by name (:func:`check_options`)."""


@dataclass
class PPOConfig(SB3Config):
    """PPO, trained by Stable-Baselines3 (with our encoder) or by Ray RLlib (--engine rllib)."""

    engine: Literal["sb3", "rllib"] = "sb3"
    """Who trains: sb3 (Stable-Baselines3 in this process) or rllib (Ray RLlib's PPO on the new API
    stack: env runners collect in Ray actors, a learner updates; needs pip install 'visiongym[rllib]').
    RLlib runs observe vectors, or images of a size RLlib's default CNN takes (42, 64 or 84 px), one
    frame each, unnormalised; unset PPO hyperparameters take SB3's values with either engine, and
    --hyperparameters go to RLlib's PPOConfig.training()."""
    policy_mapping: Literal["shared", "per_team"] = "shared"
    """RLlib --multi-agent: every player acts with one shared policy, or each team with its own."""
    ray_address: str | None = None
    """RLlib: join this running Ray cluster (e.g. auto, or ray://head:10001); default starts a local
    Ray with --num-cpus."""
    num_env_runners: int = 0
    """RLlib: Ray actors that collect experience (0: the driver collects between its updates)."""
    num_learners: int = 0
    """RLlib: learner actors that update in parallel on shards of each batch (DDP; one GPU each when
    --device resolves to cuda); 0 updates in this process."""
    num_cpus: int | None = None
    """RLlib, local Ray only: CPUs Ray may use (default: all of this machine's)."""


def _config_class(algo: Algorithm) -> type[TrainConfig]:
    """The config class of ``algo``: ours are written out above, each SB3 one is an :class:`SB3Config`
    subclass of its own (so tyro shows it as its own subcommand)."""
    base = globals()[algo.config]
    if algo.family != "sb3":
        return base
    cls = dataclasses.make_dataclass(
        f"{algo.name.replace('-', '_').title().replace('_', '')}Config",
        [],
        bases=(base,),
        namespace={"algo": algo.name, "__doc__": f"{algo.description[0].upper()}{algo.description[1:]}."},
    )
    cls.__module__ = __name__
    return cls


CONFIGS: dict[str, type[TrainConfig]] = {name: _config_class(algo) for name, algo in ALGORITHMS.items()}
"""Algorithm name -> config class, in the order of :data:`visiongym.agents.algorithms.ALGORITHMS`."""


_OFF_POLICY = names(on_policy=False)

OPTION_ALGORITHMS: dict[str, tuple[str, ...]] = {
    "save_replay": _OFF_POLICY,
    "buffer_size": _OFF_POLICY,
    "n_steps": names(family="sb3", on_policy=True),
    "batch_size": tuple(name for name in ALGORITHMS if name != "a2c"),
    "log_std_init": tuple(name for name in names(family="sb3") if ALGORITHMS[name].actions != "discrete"),
    "prioritized": ("dqn",),
    "priority_alpha": ("dqn",),
    "priority_beta": ("dqn",),
    "priority_eps": ("dqn",),
    **dict.fromkeys(("multi_agent", "self_play", "pool_scripted_levels", "pool_scripted_fraction",
                     "pool_latest_fraction", "pool_threshold", "pool_window", "pool_min_matches",
                     "pool_max_snapshots", "pool_check_interval", "swap_sides", "eval_opponent"), ("ppo",)),
}
"""Options that only some algorithms use -> those algorithms. Every other option is used by every
algorithm whose config has it (SB3's optional hyperparameters are checked against the SB3 class)."""


def check_options(config: TrainConfig) -> None:
    """Refuse an option ``config.algo`` cannot use, set away from its default, naming the takers.

    Raises:
        UsageError: e.g. ``--n-steps does not apply to sac; it is an option of: ppo, a2c, recurrent-ppo``.
    """
    defaults = {item.name: item.default for item in dataclasses.fields(type(config))}
    for name, takers in OPTION_ALGORITHMS.items():
        if name in defaults and config.algo not in takers and getattr(config, name) != defaults[name]:
            flag = name.replace("_", "-")
            if isinstance(defaults[name], bool):
                flag = flag if defaults[name] is False else f"no-{flag}"
            raise UsageError(
                f"--{flag} does not apply to {config.algo}; it is an option of: {', '.join(takers)}"
            )
    if config.detector is None and config.detector_int8:
        raise UsageError("--detector-int8 needs --detector (a detector checkpoint)")
    if config.detector is None and config.detector_players != 1:
        raise UsageError(f"--detector-players {config.detector_players} needs --detector (a detector checkpoint)")
    _check_engine_options(config, defaults)
    colour = getattr(config, "augment_colour", 0.0)
    if not 0.0 <= colour <= 2.0:
        raise UsageError(f"--augment-colour {colour} is outside [0, 2] (0 off, 0.5 about 0.6-1.65x brightness)")
    check_encoder_options(config)


def _check_engine_options(config: TrainConfig, defaults: dict[str, Any]) -> None:
    """Refuse an option of one engine set away from its default while the other one trains."""
    engine = getattr(config, "engine", None)
    if engine is None:
        return
    for other, fields in ENGINE_ONLY.items():
        if other == engine:
            continue
        for name in fields:
            if name in defaults and getattr(config, name) != defaults[name]:
                raise UsageError(f"--{name.replace('_', '-')} applies to --engine {other}, not --engine {engine}")
    for name in ("num_env_runners", "num_learners"):
        if engine == "rllib" and getattr(config, name) < 0:
            raise UsageError(f"--{name.replace('_', '-')} {getattr(config, name)} must be >= 0")
    if engine == "rllib" and config.num_cpus is not None and config.ray_address is not None:
        raise UsageError(f"--num-cpus {config.num_cpus} sizes a local Ray; a cluster (--ray-address "
                         f"{config.ray_address}) has its own CPUs")


def check_encoder_options(config: TrainConfig) -> None:
    """Refuse a pretrained encoder without its checkpoint, a checkpoint without one, and
    ``--no-freeze-encoder`` for an encoder that is trained from scratch anyway.

    Raises:
        UsageError: e.g. ``--encoder detector and --encoder-checkpoint go together (...)``.
    """
    encoder = getattr(config, "encoder", None)
    checkpoint = getattr(config, "encoder_checkpoint", None)
    if encoder is None:
        return
    if encoder in PRETRAINED and checkpoint is None:
        raise UsageError(f"--encoder {encoder} and --encoder-checkpoint go together (got encoder={encoder!r}, "
                         "encoder_checkpoint=None)")
    if encoder not in PRETRAINED and checkpoint is not None:
        first, *others = PRETRAINED
        raise UsageError(f"--encoder {first} and --encoder-checkpoint go together, as do "
                         + ", ".join(f"--encoder {name} and --encoder-checkpoint" for name in others)
                         + f" (got encoder={encoder!r}, encoder_checkpoint={str(checkpoint)!r})")
    if encoder not in PRETRAINED and not getattr(config, "freeze_encoder", True):
        raise UsageError(f"--no-freeze-encoder fine-tunes a pretrained encoder ({', '.join(PRETRAINED)}); "
                         f"--encoder {encoder} trains from scratch anyway")
    if checkpoint is not None and not Path(checkpoint).is_file():
        raise MissingFileError(f"encoder checkpoint {str(checkpoint)!r} not found")


def encoder_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    """Extra encoder arguments from a config dict: a pretrained encoder's file, and whether it is
    fine-tuned (``freeze`` False; left out when frozen, the encoders' default).

    A config without ``encoder_checkpoint`` (saved before the option existed) gives ``{}``.
    """
    checkpoint = config.get("encoder_checkpoint")
    if checkpoint is None:
        return {}
    kwargs: dict[str, Any] = {"checkpoint": str(checkpoint)}
    if not config.get("freeze_encoder", True):
        kwargs["freeze"] = False
    return kwargs


def config_to_dict(config: TrainConfig) -> dict[str, Any]:
    """Plain YAML/torch-safe dict (paths as strings, tuples as lists) with the algorithm name."""
    return {"algo": config.algo, **config_dict(config)}


LEGACY_DEFAULTS = {"pipeline": "off", "atari_wrappers": False, "feature_cache": "off"}
"""Fields added after runs were saved, with the value that reproduces how those runs trained
(a resumed run continues as it started)."""

LEGACY_VALUES = {"threads": {None: THREADS_DEFAULT}}
"""Values first-release configs saved that now read differently (``threads: null`` was torch's
choice, now 0)."""


def config_from_dict(data: dict[str, Any]) -> TrainConfig:
    """Inverse of :func:`config_to_dict`; unknown algorithms and fields raise ``ValueError``.

    A field the saved dict lacks takes its :data:`LEGACY_DEFAULTS` value, else its default.
    """
    data = dict(data)
    algo = data.pop("algo", None)
    cls = CONFIGS[get_algorithm(algo).name]
    types = {item.name: item for item in dataclasses.fields(cls)}
    for name, value in LEGACY_DEFAULTS.items():
        if name in types:
            data.setdefault(name, value)
    unknown = set(data) - set(types)
    if unknown:
        raise UsageError(f"config fields {sorted(unknown)} unknown for {algo}")
    for name, value in list(data.items()):
        if name in LEGACY_VALUES and value in LEGACY_VALUES[name]:
            data[name] = value = LEGACY_VALUES[name][value]
        if isinstance(value, list):
            data[name] = tuple(value)
        if name in ("runs_dir", "resume", "encoder_checkpoint", "detector") and value is not None:
            data[name] = Path(value)
    return cls(**data)


def load_config(folder: Path) -> TrainConfig:
    """Read the config of a run folder (its ``config.yaml``, written by :class:`visiongym.agents.common.run.Run`)."""
    data = read_run_config(folder)
    if data is None:
        raise MissingFileError(f"{str(folder)!r} is not a run folder (no {CONFIG_FILE})")
    return config_from_dict(data)



"""RLlib PPO throughput with 0, 1 and 2 env runners: sampling and the learner, measured apart.

    python benchmarks/rllib_scaling.py                       # 2v2 soccer, multi-agent, state obs
    python benchmarks/rllib_scaling.py --runners 0 1 2 4 --steps 4096 --no-multi-agent \\
        --env visiongym/TabletopSoccer-EmptyGoal-v0

For each runner count it builds the same PPO as ``python -m visiongym.agents.train ppo --engine
rllib`` (our :class:`~visiongym.agents.rllib.trainer.RLlibTrainer` config) on a local Ray and prints:

- sampling: env steps per second of the env runners alone (every runner samples ``--steps`` env
  steps at once with the current policy, nothing sent back); with 0 runners the driver samples.
- train(): whole PPO iterations, their env steps per second, and the shares spent sampling
  (with the episodes' transfer to the learner) and updating.
- env alone: the env stepped with random actions in this process, no RLlib (the ceiling of a runner).
- learner: env steps (and agent steps) the learner updates on per second: the train batch over
  ``learner_update_timer``, with ``--n-epochs`` passes of ``--batch-size`` minibatches.

The figures feed the cluster plan in docs/agents/rllib.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import datetime, timezone

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def raw_env_sps(args: argparse.Namespace, steps: int = 2000) -> float:
    """Env steps per second of the env alone, random actions, no RLlib (what a runner could reach)."""
    from visiongym.agents.common.envs import make_env

    if args.multi_agent:
        from visiongym.agents.rllib.multi import make_parallel_env

        env = make_parallel_env(args.env)
        env.reset(seed=0)
        tick = time.perf_counter()
        for _ in range(steps):
            if not env.agents:
                env.reset()
            env.step({agent: env.action_space(agent).sample() for agent in env.agents})
    else:
        env = make_env(args.env)()
        env.reset(seed=0)
        tick = time.perf_counter()
        for _ in range(steps):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
    seconds = time.perf_counter() - tick
    env.close()
    return steps / seconds


def measure(args: argparse.Namespace, runners: int) -> dict[str, float]:
    from visiongym.agents.config import CONFIGS
    from visiongym.agents.rllib.trainer import RLlibTrainer

    config = CONFIGS["ppo"](engine="rllib", env=args.env, multi_agent=args.multi_agent, num_env_runners=runners,
                            n_steps=args.n_steps, num_envs=args.num_envs, batch_size=args.batch_size, n_epochs=args.n_epochs, threads=1,
                            seed=0, progress=False, eval_interval=0)
    trainer = RLlibTrainer(config)
    algo = trainer.build_algo()
    try:
        group = algo.env_runner_group
        steps = args.steps

        def sample(runner):
            runner.sample(num_timesteps=steps)
            return None

        sample_once = (lambda: algo.env_runner.sample(num_timesteps=steps)) if runners == 0 else (
            lambda: group.foreach_env_runner(sample, local_env_runner=False))
        sample_once()  # warm-up: actors started, first episodes reset
        tick = time.perf_counter()
        for _ in range(args.repeats):
            sample_once()
        sampling = args.repeats * steps * max(1, runners) / (time.perf_counter() - tick)  # steps: all its envs

        algo.train()  # warm-up iteration
        env_steps = agent_steps = seconds = sample_s = learn_s = 0.0
        for _ in range(args.iterations):
            tick = time.perf_counter()
            result = algo.train()
            seconds += time.perf_counter() - tick
            env_steps += result["env_runners"]["num_env_steps_sampled"]
            agent_steps += sum((result["env_runners"].get("num_agent_steps_sampled") or {"": 0}).values()) or \
                result["env_runners"]["num_env_steps_sampled"]
            sample_s += result["timers"]["env_runner_sampling_timer"]
            learn_s += result["timers"]["learner_update_timer"]
        return {"runners": runners, "sampling_sps": sampling, "train_sps": env_steps / seconds,
                "sample_share": sample_s / seconds, "learn_share": learn_s / seconds,
                "learner_sps": env_steps / learn_s, "learner_agent_sps": agent_steps / learn_s,
                "batch": env_steps / args.iterations}
    finally:
        trainer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="visiongym/TabletopSoccer-2v2-v0")
    parser.add_argument("--multi-agent", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--runners", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=2048, help="env steps each runner samples per repeat")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=2, help="timed train() iterations")
    parser.add_argument("--n-steps", type=int, default=1024, help="rollout per runner and env (train batch)")
    parser.add_argument("--num-envs", type=int, default=1, help="envs per runner (RLlib vectorises them)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--n-epochs", type=int, default=10)
    parser.add_argument("--num-cpus", type=int, default=None, help="local Ray's CPUs (default: all)")
    args = parser.parse_args()

    from visiongym.agents.rllib.envs import import_ray

    ray = import_ray()
    ray.init(address="local", num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False)
    print(f"# {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}; {args.env} {'multi-agent' if args.multi_agent else 'single-agent'}, "
          f"state obs, {args.num_envs} env(s) a runner, PPO minibatch {args.batch_size} x {args.n_epochs} epochs, "
          "1 torch thread a process")
    print(f"env alone (random actions, no RLlib): {raw_env_sps(args):.0f} env-steps/s")
    print(f"{'runners':>7} {'sampling env-steps/s':>21} {'train() env-steps/s':>20} {'sampling %':>10} "
          f"{'learning %':>10} {'learner env-steps/s':>20} {'learner agent-steps/s':>22} {'batch':>6}")
    try:
        for runners in args.runners:
            row = measure(args, runners)
            print(f"{row['runners']:>7} {row['sampling_sps']:>21.0f} {row['train_sps']:>20.0f} "
                  f"{100 * row['sample_share']:>9.0f}% {100 * row['learn_share']:>9.0f}% "
                  f"{row['learner_sps']:>20.0f} {row['learner_agent_sps']:>22.0f} {row['batch']:>6.0f}", flush=True)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()

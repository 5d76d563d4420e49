#!/usr/bin/env bash
# The agents' GPU figures in one prepared run for the lent device (see ../shared/GPU.md):
#   ../shared/device/prepare.sh            # once, on the dev machine
#   run: carry [".device"], command "bash benchmarks/gpu_check.sh", timeout_s 540
# Writes JSON and logs under $OUT (default ./gpu_out). Each step has its own time limit so one
# slow step cannot eat the device time of the others.
set -u
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
if [ -f .device/env.sh ]; then source .device/env.sh; fi
PY=${PY:-python3}
nvidia-smi --query-gpu=name,memory.total --format=csv > "$OUT/gpu.txt" 2>&1
LEARN="--num-envs 4 --frame-stack 2 --batch-size 64 --features-dim 256 --image-size 48 --env-kwargs scenario=empty_goal obs_mode=pixels camera=follow shaping=5 kick_aim=goal max_episode_steps=200"
# 1. SPS vs SB3 on cuda (ours eager, then ours with AMP + compile)
timeout 200 $PY benchmarks/dqn_vs_sb3.py --device cuda --steps 6000 --threads 4 $LEARN \
    --agents sb3-dqn dqn-vanilla dqn --output "$OUT/dqn_vs_sb3_cuda.json" > "$OUT/dqn_vs_sb3_cuda.log" 2>&1
timeout 150 $PY benchmarks/dqn_vs_sb3.py --device cuda --steps 6000 --threads 4 $LEARN --amp --compile \
    --agents dqn-vanilla dqn --output "$OUT/dqn_vs_sb3_cuda_amp_compile.json" > "$OUT/dqn_vs_sb3_cuda_amp_compile.log" 2>&1
# 2. Wall-clock of the empty_goal learning-goal command on cuda (as far as the time allows)
timeout 170 $PY -m visiongym.agents.train dqn --env visiongym/TabletopSoccer-v0 \
    --env-kwargs scenario=empty_goal obs_mode=pixels camera=follow image_size=48 shaping=5 kick_aim=goal max_episode_steps=200 \
    --num-envs 4 --frame-stack 2 --features-dim 256 --buffer-size 100000 --learning-starts 1000 --batch-size 64 \
    --train-frequency 4 --n-step 3 --target-update-interval 1000 --exploration-steps 10000 --augment-pad 2 \
    --learning-rate 5e-4 --eval-interval 10000 --eval-episodes 20 --total-steps 100000 --seed 1 --device cuda \
    --runs-dir "$OUT/runs" --run-name empty_goal_cuda_seed1 --no-progress --no-video > "$OUT/learning_goal_cuda.log" 2>&1
tail -n 5 "$OUT"/*.log

#!/usr/bin/env bash
# BL-SAC ablation of spec §10.2 on Pendulum-v1, at the spec's CPU setting (2×64 networks,
# lr 1e-3, 1000 random warm-up steps, 20k env steps, evaluation every 1k steps with 5
# deterministic episodes), SEEDS seeds per variant:
#   SAC twin / SAC single critic / BL-SAC single / BL-SAC twin (σ 0.1, N 8),
#   the grid σ ∈ {0.05, 0.1, 0.2} × N ∈ {1, 4, 16} on the twin variant,
#   and TD3-style smoothing (clamped Gaussian σ 0.2, c 0.5, N 1).
#
#   experiments/deep/bl_sac_grid.sh [SEEDS] [PARALLEL]     (defaults "0 1 2 3 4" and 2)
#
# Writes experiments/results/<date>-<host>/bl_sac_grid.md (+ .png) via seeds.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seeds="${1:-0 1 2 3 4}"
parallel="${2:-2}"
base="agent.hidden=[64,64];agent.learning_starts=1000;run.eval_every=1000;run.eval_episodes=5"
sac="$root/experiments/deep/sac_pendulum.toml;$base"
bl="$root/experiments/deep/bl_sac_pendulum.toml;$base"
variants=(
  "sac_twin=$sac"
  "sac_single=$sac;agent.n_critics=1"
  "bl_single=$bl;agent.n_critics=1"
  "bl_twin=$bl"
  "td3_smoothing=$bl;agent.band_limit.kernel=\"clamped_gaussian\";agent.band_limit.sigma=0.2;agent.band_limit.noise_clip=0.5;agent.band_limit.n_samples=1"
)
for sigma in 0.05 0.1 0.2; do
  for n in 1 4 16; do
    variants+=("bl_s${sigma}_n${n}=$bl;agent.band_limit.sigma=$sigma;agent.band_limit.n_samples=$n")
  done
done
exec "$root/experiments/deep/seeds.sh" bl_sac_grid "$seeds" "$parallel" "${variants[@]}"

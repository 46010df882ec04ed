#!/usr/bin/env bash
# Spec §10.6 (optional extra): exponential-smoothing IPS vs IPS, clipped IPS and SNIPS on a
# synthetic contextual bandit (d = 5, K = 10, n = 10⁴ logs, diffuse β₀ = 0.5 vs peaked β₀ = 5
# logging policy), exact risk on 10⁴ held-out contexts. Writes
# experiments/results/<date>-<host>/ips.md.
#
#   experiments/online/ips.sh [SEEDS]      (default 5; ~1 min)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
seeds="${1:-5}"
dest="experiments/results/$(date +%F)-$(hostname | cut -c1-12)"
mkdir -p "$dest"
{
  echo "# Exponential-smoothing IPS (spec §10.6)"
  echo
  echo "commit $(git rev-parse --short HEAD); \`experiments/online/ips.sh $seeds\`; softmax-linear policy, 300 full-batch gradient steps (lr 0.5, gradient norm ≤ 1, ρ = 1e-4); risk = expected cost on held-out contexts (lower is better)"
  echo
  cargo run -q --release -p mirrorflow-agent-online --example ips_sweep -- "$seeds"
} > "$dest/ips.md"
cat "$dest/ips.md"

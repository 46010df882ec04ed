#!/usr/bin/env bash
# Native env stepping vs gymnasium and EnvPool, measured in one sitting on this machine.
#
#   scripts/bench_envs.sh            # criterion bench + peers, then a table of ratios
#
# Peers run from a light venv (.venv-bench: gymnasium 1.4.0, envpool 1.2.5, numpy 2.4.6), made
# on first use; ../shared/bench/peers/env_throughput.py is the peer script (or PEERS_DIR=...).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
peers="${PEERS_DIR:-$root/../shared/bench/peers}"
venv="$root/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q gymnasium==1.4.0 envpool==1.2.5 numpy==2.4.6
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo bench -p mirrorflow-env-classic --bench step -- --noplot
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
"$venv/bin/python" "$peers/env_throughput.py" --modes single,envpool64 --seconds 3 --reps 3 2>/dev/null > "$target/peers_env.json"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$target" <<'PY'
import json, sys, os
target = sys.argv[1]
peers = json.load(open(os.path.join(target, "peers_env.json")))
peer = {(r["env"], r["mode"]): r["steps_per_s"]["median"] for r in peers["results"]}
print(f"{'env':<14} {'mirrorflow':<9} {'steps/s':>12} {'gym single':>12} {'ratio':>7} {'envpool64':>12} {'ratio':>7}")
for env in ["CartPole-v1", "Pendulum-v1"]:
    for mode in ["single", "shard64"]:
        est = json.load(open(os.path.join(target, "criterion", "env_step", f"{env}_{mode}", "new", "estimates.json")))
        sps = 100_000 / (est["median"]["point_estimate"] * 1e-9)
        g, e = peer[(env, "single")], peer[(env, "envpool64")]
        print(f"{env:<14} {mode:<9} {sps:>12,.0f} {g:>12,.0f} {sps/g:>6.0f}x {e:>12,.0f} {sps/e:>6.1f}x")
PY

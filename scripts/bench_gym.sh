#!/usr/bin/env bash
# gym:CartPole-v1 through mirrorflow's shards vs gymnasium's own vector envs, in one sitting.
#
#   scripts/bench_gym.sh [SECONDS] [REPS]          (defaults 5 and 3)
#
# mirrorflow: crates/gym/benches/throughput.rs, one shard of 8 envs stepped in one call into
# Python per step, in 1 and 2 processes (one interpreter each). Peers:
# ../shared/bench/peers/env_throughput.py (SyncVectorEnv 8 envs, AsyncVectorEnv 2 envs, the
# plain loop), run with the project venv's gymnasium (PEERS_DIR=... to point elsewhere).
# Writes experiments/results/<date>-<host>/gym_throughput.md. Medians over REPS.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-5}"
reps="${2:-3}"
peers="${PEERS_DIR:-$root/../shared/bench/peers}"
py="$root/.venv/bin/python"
[ -x "$py" ] || { echo "the project venv is missing: run scripts/test once" >&2; exit 2; }
cargo bench -q -p mirrorflow-gym --bench throughput --no-run
load0="$(cut -d' ' -f1-3 /proc/loadavg)"
tmp="$(mktemp -d)"
for r in $(seq "$reps"); do
  for p in 1 2; do
    cargo bench -q -p mirrorflow-gym --bench throughput -- --seconds "$seconds" --procs "$p" --seed "$r" >> "$tmp/mf.jsonl"
  done
done
"$py" "$peers/env_throughput.py" --envs CartPole-v1 --modes single,sync8,async2 \
  --seconds "$seconds" --reps "$reps" 2>/dev/null > "$tmp/peers.json"
load1="$(cut -d' ' -f1-3 /proc/loadavg)"
dest="experiments/results/$(date +%F)-$(hostname | cut -c1-12)"
mkdir -p "$dest"
python3 - "$tmp" "$(git rev-parse --short HEAD)" "$load0" "$load1" "$seconds" "$reps" > "$dest/gym_throughput.md" <<'PY'
import json, os, statistics as st, sys
tmp, commit, load0, load1, seconds, reps = sys.argv[1:]
mf = [json.loads(l) for l in open(os.path.join(tmp, "mf.jsonl"))]
peers = json.load(open(os.path.join(tmp, "peers.json")))
peer = {r["mode"]: r["steps_per_s"]["median"] for r in peers["results"]}
one = st.median(m["steps_per_s"] for m in mf if m["procs"] == 1)
two = st.median(m["steps_per_s"] for m in mf if m["procs"] == 2)
sync = peer["sync8"]
print(f"# gym:CartPole-v1 stepping: mirrorflow shards vs gymnasium vector envs\n")
print(f"commit {commit}; `scripts/bench_gym.sh {seconds} {reps}`; load before {load0}, after {load1}; "
      f"gymnasium {peers['versions'].get('gymnasium')}, numpy {peers['versions'].get('numpy')}\n")
print("| what | env steps/s (median) | vs SyncVectorEnv (8) |")
print("|---|---|---|")
print(f"| mirrorflow, 1 process, 1 shard × 8 envs | {one:,.0f} | {one / sync:.2f}× |")
print(f"| mirrorflow, 2 processes, 1 shard × 8 envs each | {two:,.0f} | {two / sync:.2f}× |")
print(f"| gymnasium SyncVectorEnv, 8 envs | {sync:,.0f} | 1.00× |")
print(f"| gymnasium AsyncVectorEnv, 2 envs | {peer['async2']:,.0f} | {peer['async2'] / sync:.2f}× |")
print(f"| gymnasium plain loop, 1 env | {peer['single']:,.0f} | {peer['single'] / sync:.2f}× |")
print(f"\n2 processes / 1 process: {two / one:.2f}×")
PY
cat "$dest/gym_throughput.md"

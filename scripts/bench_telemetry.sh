#!/usr/bin/env bash
# Telemetry overhead on a native-env run: env steps/s with rerun off vs file vs connect
# (a local rerun proxy saving what it receives), interleaved, medians of REPS runs.
#
#   scripts/bench_telemetry.sh [REPS] [ENV_STEPS]      (defaults 3 and 30000000)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
reps="${1:-3}"
steps="${2:-30000000}"
cargo build -q --release
out="$(mktemp -d)"
port=19876
.venv/bin/rerun --bind 127.0.0.1 --port "$port" --save "$out/received.rrd" >/dev/null 2>&1 &
viewer=$!
trap 'kill $viewer 2>/dev/null || true' EXIT
sleep 2
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$reps"); do
  for mode in off file "connect=rerun+http://127.0.0.1:$port/proxy"; do
    tag="${mode%%=*}"
    ./target/release/mirrorflow train experiments/runtime/determinism.toml --set "run.env_steps=$steps" --set runtime.checkpoint_every=0 \
      --rerun "$mode" --run-dir "$out/$tag-$r" >/dev/null 2>&1
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" "$reps" <<'PY'
import json, sys, os, statistics
out, reps = sys.argv[1], int(sys.argv[2])
sps = {}
for tag in ["off", "file", "connect"]:
    v = []
    for r in range(1, reps + 1):
        s = json.load(open(os.path.join(out, f"{tag}-{r}", "summary.json")))
        v.append(s["env_steps"] / s["wall_secs"])
    sps[tag] = statistics.median(v)
for tag in ["off", "file", "connect"]:
    print(f"rerun {tag:<8} {sps[tag] / 1e6:6.2f} M env steps/s   ratio to off {sps[tag] / sps['off']:.3f}")
PY

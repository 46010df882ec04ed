#!/usr/bin/env bash
# Exact MD-VI iterations on Garnet MDPs vs numpy/scipy, in one sitting.
#
#   scripts/bench_garnet.sh        # prints a table: ms/iteration, ratio to numpy's best backend
#
# Peers run from .venv-bench (numpy 2.4.6, scipy 1.17.1; made on first use) with
# ../shared/bench/peers/garnet_vi.py (or PEERS_DIR=...).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
peers="${PEERS_DIR:-$root/../shared/bench/peers}"
venv="$root/.venv-bench"
if ! "$venv/bin/python" -c "import numpy, scipy" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q numpy==2.4.6 scipy==1.17.1
fi
out="$(mktemp -d)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo bench -q -p mirrorflow-agent-regularized-vi --bench garnet 2>/dev/null | grep '^{' > "$out/rust.jsonl"
"$venv/bin/python" "$peers/garnet_vi.py" --reps 3 > "$out/peers.json"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" <<'PY'
import json, sys, os
d = sys.argv[1]
rust = [json.loads(l) for l in open(os.path.join(d, "rust.jsonl"))]
peers = json.load(open(os.path.join(d, "peers.json")))["results"]
best = {}
for r in peers:
    k = (r["S"], r["algo"])
    ms = r["ms_per_iter"]["median"]
    if k not in best or ms < best[k][0]:
        best[k] = (ms, r["backend"])
print(f"{'S':>7} {'algo':<4} {'thr':>3} {'mirrorflow ms':>13} {'GB/s':>6} {'numpy ms (backend)':>20} {'ratio':>7}")
for r in rust:
    ms, be = best[(r["S"], r["algo"])]
    print(f"{r['S']:>7} {r['algo']:<4} {r['threads']:>3} {r['ms_per_iter']:>13.3f} {r['gb_per_s']:>6.1f} {ms:>13.3f} ({be:>5}) {ms / r['ms_per_iter']:>6.1f}x")
PY

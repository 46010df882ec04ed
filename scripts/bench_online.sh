#!/usr/bin/env bash
# Online logistic regression on the same 1,000,000 × 100 stream: mirrorflow (FTRL-Proximal,
# OGD with AdaGrad; LIBSVM file, one pass, progressive validation) vs Vowpal Wabbit (native
# driver, text and cache) and River, in one sitting.
#
#   PEERS_PY=<venv with vowpalwabbit, river, numpy>/bin/python scripts/bench_online.sh [REPS]
#
# The stream and its LIBSVM form come from ../shared/bench/peers/online_learning.py (cached in
# the system temp folder). Writes experiments/results/<date>-<host>/online_throughput.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
reps="${1:-3}"
peers="${PEERS_DIR:-$root/../shared/bench/peers}"
py="${PEERS_PY:-python3}"
cargo bench -q -p mirrorflow-agent-online --bench stream --no-run
file="$("$py" "$peers/online_learning.py" --libsvm-only)"
tmp="$(mktemp -d)"
load0="$(cut -d' ' -f1-3 /proc/loadavg)"
cargo build -q --release --bin mirrorflow
cfg=experiments/online/ftrl_logistic.toml
for r in $(seq "$reps"); do
  cargo bench -q -p mirrorflow-agent-online --bench stream -- "$file" --learner ftrl --alpha "${FTRL_ALPHA:-0.1}" >> "$tmp/mf.jsonl"
  cargo bench -q -p mirrorflow-agent-online --bench stream -- "$file" --learner ftrl --alpha "${FTRL_ALPHA:-0.1}" --cache | sed 's/"learner":"ftrl"/"learner":"ftrl_cache"/' >> "$tmp/mf.jsonl"
  cargo bench -q -p mirrorflow-agent-online --bench stream -- "$file" --learner ogd --eta "${OGD_ETA:-0.5}" >> "$tmp/mf.jsonl"
  # the CLI job, cache on: one process, then two (launch --local 2, weights averaged every 10 000)
  for procs in 1 2; do
    d="$tmp/cli-$procs-$r"
    if [ "$procs" = 1 ]; then verb=(train); else verb=(launch --local 2); fi
    ./target/release/mirrorflow "${verb[@]}" "$cfg" --set "env.path=\"$file\"" --set env.cache=true \
      --set 'telemetry.rerun=["off"]' --run-dir "$d" >/dev/null 2>&1
    python3 -c "import json,sys; s=json.load(open('$d/summary.json')); print(json.dumps({'learner': 'cli$procs', 'examples_per_s': s['env_steps'] / s['wall_secs'], 'loop_examples_per_s': s['system/sps'], 'logloss': s['online/progressive_logloss'], 'accuracy': s['online/progressive_accuracy']}))" >> "$tmp/mf.jsonl"
  done
done
"$py" "$peers/online_learning.py" --variants vw_native_text,vw_native_cache --reps "$reps" 2>/dev/null > "$tmp/vw.json"
"$py" "$peers/online_learning.py" --variants river --reps 1 2>/dev/null > "$tmp/river.json"
load1="$(cut -d' ' -f1-3 /proc/loadavg)"
dest="experiments/results/$(date +%F)-$(hostname | cut -c1-12)"
mkdir -p "$dest"
python3 - "$tmp" "$(git rev-parse --short HEAD)" "$load0" "$load1" "$reps" > "$dest/online_throughput.md" <<'PY'
import json, os, statistics as st, sys
tmp, commit, load0, load1, reps = sys.argv[1:]
mf = [json.loads(l) for l in open(os.path.join(tmp, "mf.jsonl"))]
peers = json.load(open(os.path.join(tmp, "vw.json")))["results"] + json.load(open(os.path.join(tmp, "river.json")))["results"]
vw = {r["variant"]: r for r in peers}
cache = vw["vw_native_cache"]["examples_per_s"]["median"]
vw_ll = vw["vw_native_cache"]["final"]["logloss"]
print("# Online logistic regression, 1,000,000 × 100 stream: mirrorflow vs Vowpal Wabbit and River\n")
print(f"commit {commit}; `scripts/bench_online.sh {reps}`; one core each; load before {load0}, after {load1}\n")
print("| learner | examples/s (median) | vs VW (cache) | progressive log-loss | vs VW log-loss | accuracy |")
print("|---|---|---|---|---|---|")
one = None
for name in ["ftrl", "ftrl_cache", "ogd", "cli1", "cli2"]:
    rows = [m for m in mf if m["learner"] == name]
    eps = st.median(m["examples_per_s"] for m in rows)
    ll, acc = rows[-1]["logloss"], rows[-1]["accuracy"]
    if name == "cli1":
        one = eps
    label = {"ftrl": "mirrorflow FTRL-Proximal (α 0.1, β 1), LIBSVM text",
             "ftrl_cache": "mirrorflow FTRL-Proximal, binary example cache",
             "ogd": "mirrorflow OGD + AdaGrad (η 0.5), LIBSVM text",
             "cli1": "`mirrorflow train` FTRL-Proximal, cache, 1 process (whole job)",
             "cli2": "`mirrorflow launch --local 2` FTRL-Proximal, cache, 2 processes"}[name]
    if name == "cli2":
        loop = st.median(m["loop_examples_per_s"] for m in rows) / st.median(m["loop_examples_per_s"] for m in mf if m["learner"] == "cli1")
        label += f" ({eps / one:.2f}× one process end to end, {loop:.2f}× in the learning loop)"
    print(f"| {label} | {eps:,.0f} | {eps / cache:.2f}× | {ll:.5f} | {100 * (ll / vw_ll - 1):+.2f} % | {acc:.4f} |")
for v, label in [("vw_native_cache", "Vowpal Wabbit, native, binary cache"), ("vw_native_text", "Vowpal Wabbit, native, text"), ("river", "River LogisticRegression")]:
    r = vw[v]
    eps = r["examples_per_s"]["median"]
    print(f"| {label} | {eps:,.0f} | {eps / cache:.2f}× | {r['final']['logloss']:.5f} | {100 * (r['final']['logloss'] / vw_ll - 1):+.2f} % | {r['final']['accuracy']:.4f} |")
PY
cat "$dest/online_throughput.md"

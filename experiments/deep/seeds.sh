#!/usr/bin/env bash
# Seeds × variants of a deep experiment, every run through the CLI (release build), then a
# table (final deterministic eval, area under the eval curve, stability) and a plot.
#
#   experiments/deep/seeds.sh NAME SEEDS PARALLEL VARIANT...
#   VARIANT = label=config.toml[;key=value...]    (the --set overrides, ';'-separated)
#
# e.g. experiments/deep/seeds.sh sac_vs_bl "0 1 2" 2 \
#        sac=experiments/deep/sac_pendulum.toml bl_sac=experiments/deep/bl_sac_pendulum.toml
#
# Each run uses one compute thread (RAYON_NUM_THREADS=1, faster than two for 256-wide nets on
# burn's flex backend, see agents/sac/README.md) and PARALLEL runs go at once. Writes
# experiments/results/<date>-<host>/NAME.md and NAME.png. Columns:
#   final   = the last evaluation (10 deterministic episodes at the end of training)
#   auc     = mean of all evaluations (area under the eval curve / its length)
#   stab    = std of the training episodic returns over the last 20 % of env steps
# each as median and mean ± std over seeds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
name="$1"; seeds="$2"; parallel="$3"; shift 3
# MIRRORFLOW_BIN: a prebuilt binary to use instead of building this checkout (e.g. a copy, so
# that editing the tree during a long sweep does not rebuild or change the code under test)
bin="${MIRRORFLOW_BIN:-}"
if [ -z "$bin" ]; then
  cargo build -q --release
  bin=./target/release/mirrorflow
fi
export bin
out="${RUNS_DIR:-$(mktemp -d)}"
mkdir -p "$out"
echo "runs in $out"
jobs=()
for variant in "$@"; do
  label="${variant%%=*}"; rest="${variant#*=}"
  config="${rest%%;*}"
  sets=()
  if [ "$rest" != "$config" ]; then
    IFS=';' read -ra kv <<< "${rest#*;}"
    for s in "${kv[@]}"; do sets+=(--set "$s"); done
  fi
  for s in $seeds; do
    jobs+=("$label|$s|$config|${sets[*]:-}")
  done
done
run_one() {
  IFS='|' read -r label s config sets <<< "$1"
  dir="$2/$label-s$s"
  [ -f "$dir/summary.json" ] && return 0
  # shellcheck disable=SC2086
  RAYON_NUM_THREADS=1 "$bin" train "$config" --seed "$s" $sets \
    --rerun off --run-dir "$dir" > "$2/$label-s$s.log" 2>&1 || echo "run $label seed $s failed (see $2/$label-s$s.log)"
}
export -f run_one
printf '%s\n' "${jobs[@]}" | xargs -P "$parallel" -I{} bash -c 'run_one "$@"' _ {} "$out"
dest="experiments/results/$(date +%F)-$(hostname | cut -c1-12)"
mkdir -p "$dest"
labels=()
for variant in "$@"; do labels+=("${variant%%=*}"); done
python3 - "$out" "$name" "$(git rev-parse --short HEAD)" "$*" "${labels[@]}" > "$dest/$name.md" <<'PY'
import json, os, statistics as st, sys
out, name, commit, cmd, labels = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
def fmt(xs):
    if not xs: return "–"
    sd = st.pstdev(xs) if len(xs) > 1 else 0.0
    return f"{st.median(xs):.1f} ({st.mean(xs):.1f} ± {sd:.1f})"
print(f"# {name}\n\ncommit {commit}; `experiments/deep/seeds.sh {name} ... {cmd}`\n")
print("| variant | seeds | final eval: median (mean ± std) | AUC of eval curve | stability: std of last-20 % returns | wall s (median) |")
print("|---|---|---|---|---|---|")
for label in labels:
    finals, aucs, stabs, walls = [], [], [], []
    for d in sorted(os.listdir(out)):
        if not d.startswith(label + "-s") or not os.path.isdir(os.path.join(out, d)):
            continue
        p = os.path.join(out, d)
        if not os.path.exists(os.path.join(p, "summary.json")):
            continue
        s = json.load(open(os.path.join(p, "summary.json")))
        evals, rets = [], []
        total = s.get("env_steps", 0)
        for line in open(os.path.join(p, "metrics.jsonl")):
            m = json.loads(line)
            if "eval/mean_return" in m: evals.append(m["eval/mean_return"])
            if "charts/episodic_return" in m and m.get("timeline") == "env_steps" and m["step"] >= 0.8 * total:
                rets.append(m["charts/episodic_return"])
        if not evals: continue
        finals.append(evals[-1]); aucs.append(sum(evals) / len(evals))
        if len(rets) > 1: stabs.append(st.pstdev(rets))
        walls.append(s["wall_secs"])
    print(f"| {label} | {len(finals)} | {fmt(finals)} | {fmt(aucs)} | {fmt(stabs)} | {st.median(walls) if walls else 0:.0f} |")
PY
cat "$dest/$name.md"
./target/release/mirrorflow plot "$out"/*/ -o "$dest/$name.png" --metric eval/mean_return --group-by-dir > /dev/null 2>&1 || echo "(plot skipped)"
echo "wrote $dest/$name.md and $dest/$name.png"

#!/usr/bin/env bash
# Reproduction (spec §10.5): robustness of generalized implicit FTRL to the learning rate.
# Synthetic online binary classification (d = 20, T = 10⁴, a_t ~ N(0, I), y_t = sign⟨w*, a_t⟩
# with 10 % label flips), hinge and logistic losses, ψ_t = (√t/(2η₀))‖x‖² for 13 values
# η₀ ∈ 10^{−3…3}, 5 seeds; linearized vs implicit vs aProx FTRL (`[agent] kind = "giftrl"`)
# through the CLI on LIBSVM files. Writes experiments/results/<date>-<host>/implicit_robustness.md
# and one plot per loss (average online loss against η₀, `mirrorflow plot --x config:...`).
#
#   experiments/online/implicit_robustness.sh [SEEDS]      (default 5; ~1 min)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
seeds="${1:-5}"
cargo build -q --release
bin=./target/release/mirrorflow
out="$(mktemp -d)"
python3 - "$out" "$seeds" <<'PY'
import os, random, sys
out, seeds = sys.argv[1], int(sys.argv[2])
for seed in range(seeds):
    rng = random.Random(1000 + seed)
    w = [rng.gauss(0, 1) for _ in range(20)]
    with open(os.path.join(out, f"data{seed}.libsvm"), "w") as f:
        for _ in range(10_000):
            a = [rng.gauss(0, 1) for _ in range(20)]
            y = 1 if sum(x * v for x, v in zip(a, w)) > 0 else -1
            if rng.random() < 0.1:
                y = -y
            f.write(f"{y:+d} " + " ".join(f"{i + 1}:{v:.6f}" for i, v in enumerate(a)) + "\n")
PY
etas="0.001 0.00316 0.01 0.0316 0.1 0.316 1 3.16 10 31.6 100 316 1000"
for loss in hinge logistic; do
  for update in linearized implicit aprox; do
    for eta in $etas; do
      for seed in $(seq 0 $((seeds - 1))); do
        "$bin" train experiments/online/ftrl_logistic.toml --seed "$seed" \
          --set "env.path=\"$out/data$seed.libsvm\"" \
          --set "agent={kind=\"giftrl\", update=\"$update\", loss=\"$loss\", bias=false, schedule={kind=\"sqrt\", eta0=$eta}}" \
          --set 'telemetry.rerun=["off"]' --run-dir "$out/runs/$loss-$update-$eta-s$seed" >/dev/null 2>&1
      done
    done
  done
done
dest="experiments/results/$(date +%F)-$(hostname | cut -c1-12)"
mkdir -p "$dest"
python3 - "$out/runs" "$seeds" "$(git rev-parse --short HEAD)" "$etas" "$dest" > "$dest/implicit_robustness.md" <<'PY'
import json, os, statistics as st, sys
runs, seeds, commit, etas, dest = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split(), sys.argv[5]
def final(loss, update, eta):
    r = [json.load(open(os.path.join(runs, f"{loss}-{update}-{eta}-s{s}", "summary.json"))) for s in range(seeds)]
    return st.mean(x["online/progressive_loss"] for x in r), st.mean(1 - x["online/progressive_accuracy"] for x in r)
print("# Implicit vs linearized FTRL: robustness to the learning rate (spec §10.5)\n")
print(f"commit {commit}; `experiments/online/implicit_robustness.sh {seeds}`; d = 20, T = 10⁴, 10 % label flips, "
      f"ψ_t = (√t/(2η₀))‖x‖², mean over {seeds} seeds of the average online loss (1/T)Σℓ_t(x_t) "
      f"[online error rate in brackets]\n")
table = {}
for loss in ["hinge", "logistic"]:
    print(f"\n## {loss} loss\n")
    print("| η₀ | linearized | implicit | aProx |")
    print("|---|---|---|---|")
    for eta in etas:
        row = [final(loss, u, eta) for u in ["linearized", "implicit", "aprox"]]
        for u, v in zip(["linearized", "implicit", "aprox"], row):
            table[(loss, u, eta)] = v[0]
        print(f"| {eta} | " + " | ".join(f"{l:.4f} [{e:.3f}]" for l, e in row) + " |")
    lin = [table[(loss, "linearized", e)] for e in etas]
    print(f"\nChecks ({loss}):")
    print(f"- linearized at η₀ = 10³ / its minimum: {lin[-1] / min(lin):.2f} (spec: ≥ 3)")
    for u in ["implicit", "aprox"]:
        vals = [table[(loss, u, e)] for e in etas]
        best = vals.index(min(vals))
        worst = max(vals[best:]) / min(vals)
        print(f"- {u}: worst / min over η₀ ≥ its best η₀ ({etas[best]}): {worst:.2f} (spec: ≤ 1.5)")
    small = [table[(loss, u, etas[0])] for u in ["linearized", "implicit", "aprox"]]
    print(f"- at η₀ = {etas[0]} the three agree within {100 * (max(small) / min(small) - 1):.1f} % (spec: ≤ 10 %)")
with open(os.path.join(dest, "implicit_robustness.csv"), "w") as f:
    f.write("loss,update,eta0,avg_loss\n")
    for (loss, u, e), v in sorted(table.items()):
        f.write(f"{loss},{u},{e},{v}\n")
PY
for loss in hinge logistic; do
  "$bin" plot "$out"/runs/$loss-* -o "$dest/implicit_robustness_$loss.png" \
    --x config:agent.schedule.eta0 --log-x --log-y --average-over env.path \
    --metric online/progressive_loss --title "$loss loss: average online loss vs eta0 ($seeds seeds)" >/dev/null
done
cat "$dest/implicit_robustness.md"
echo "written to $dest/implicit_robustness.md (+ .csv, implicit_robustness_{hinge,logistic}.png)"

#!/usr/bin/env bash
# Reproduction (spec §10.1 E1a, "Leverage the Average", Theorems 1–2): KL regularization
# averages the errors of approximate value iteration. Garnet(100, 4, 3), γ = 0.9, additive
# Gaussian errors ε_k ~ N(0, σ²), K = 300 iterations, GARNETS Garnets × SEEDS noise seeds, every
# run through the CLI. Prints a table and writes experiments/results/<date>/error_averaging.md,
# with a plot per noise level (mean ± std over Garnets and seeds, `mirrorflow plot`).
#
#   experiments/tabular/error_averaging.sh [GARNETS] [SEEDS]     (defaults 5 and 2; ~1 min)
#
# Expected: at σ > 0 plain VI stalls at a noise floor (error at k = 300 within 20 % of k = 100)
# while MD-VI with λ ≥ 1, τ = 0 keeps falling (log-log slope ≈ −0.5 over k ∈ [50, 300]) and ends
# well below VI; entropy (τ > 0) lowers the floor without removing it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
garnets="${1:-5}"
seeds="${2:-2}"
cargo build -q --release
out="$(mktemp -d)"
algos=("vi:0:0" "soft_vi_0.01:0:0.01" "soft_vi_0.1:0:0.1" "mdvi_0.1:0.1:0" "mdvi_1:1:0" "mdvi_10:10:0" "mdvi_1_0.01:1:0.01" "mvi_0.9_0.3:0.27:0.03")
for sigma in 0 0.5 1.0; do
  for algo in "${algos[@]}"; do
    IFS=: read -r name lam tau <<< "$algo"
    for g in $(seq 0 $((garnets - 1))); do
      for s in $(seq 0 $((seeds - 1))); do
        noise="{kind = \"none\"}"
        [ "$sigma" != "0" ] && noise="{kind = \"gaussian\", sigma = $sigma}"
        ./target/release/mirrorflow train experiments/tabular/mdvi_garnet.toml --seed "$s" \
          --set "env.model_seed=$g" --set "agent.lambda=$lam" --set "agent.tau=$tau" \
          --set "agent.noise=$noise" --set "agent.eval_every=10" --set "run.iterations=300" \
          --run-dir "$out/$sigma-$name-$g-$s" >/dev/null 2>&1
      done
    done
  done
done
dest="experiments/results/$(date +%F)-$(hostname | cut -c1-12)"
mkdir -p "$dest"
python3 - "$out" "$garnets" "$seeds" "$(git rev-parse --short HEAD)" "${algos[@]}" > "$dest/error_averaging.md" <<'PY'
import json, math, os, sys
out, garnets, seeds, commit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
names = [a.split(":")[0] for a in sys.argv[5:]]
gamma = 0.9
def curve(d):
    c = {}
    for line in open(os.path.join(d, "metrics.jsonl")):
        x = json.loads(line)
        if "tabular/q_error_inf" in x:
            c[x["step"]] = (1 - gamma) * x["tabular/q_error_inf"]
    return c
def slope(c):
    pts = [(math.log(k), math.log(v)) for k, v in c.items() if 50 <= k <= 300 and v > 0]
    n = len(pts); mx = sum(p[0] for p in pts) / n; my = sum(p[1] for p in pts) / n
    return sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)
print("# Error averaging: (1−γ)‖q* − q^{π_k}‖∞ on Garnet(100, 4, 3), γ = 0.9, K = 300\n")
print(f"commit {commit}; {garnets} Garnets × {seeds} noise seeds; command: experiments/tabular/error_averaging.sh {garnets} {seeds}\n")
print("| σ | algorithm | error at k=100 | error at k=300 (mean ± std) | k=300 / k=100 | slope k∈[50,300] |")
print("|---|---|---|---|---|---|")
final = {}
for sigma in ["0", "0.5", "1.0"]:
    for name in names:
        cs = [curve(os.path.join(out, f"{sigma}-{name}-{g}-{s}")) for g in range(garnets) for s in range(seeds)]
        mean = {k: sum(c[k] for c in cs) / len(cs) for k in cs[0]}
        f = [c[300] for c in cs]
        mu = sum(f) / len(f); sd = (sum((x - mu) ** 2 for x in f) / max(1, len(f) - 1)) ** 0.5
        final[(sigma, name)] = mu
        sl = slope(mean) if all(v > 0 for v in mean.values()) else float("nan")
        print(f"| {sigma} | {name} | {mean[100]:.2e} | {mu:.2e} ± {sd:.1e} | {mean[300] / max(mean[100], 1e-300):.2f} | {sl:.2f} |")
print()
for sigma in ["0.5", "1.0"]:
    print(f"- σ = {sigma}: VI / MD-VI(λ=1) at k = 300 = {final[(sigma, 'vi')] / final[(sigma, 'mdvi_1')]:.1f}×, VI / MD-VI(λ=10) = {final[(sigma, 'vi')] / final[(sigma, 'mdvi_10')]:.1f}×")
PY
for sigma in 0.5 1.0; do
  ./target/release/mirrorflow plot "$out"/$sigma-vi-* "$out"/$sigma-mdvi_1-* "$out"/$sigma-mdvi_10-* \
    "$out"/$sigma-soft_vi_0.1-* "$out"/$sigma-mdvi_1_0.01-* \
    -o "$dest/error_averaging_sigma$sigma.png" --metric tabular/q_error_inf --log-x --log-y \
    --average-over env.model_seed --title "‖q* − q^πk‖∞, Gaussian errors σ = $sigma"
done
cat "$dest/error_averaging.md"
echo "written to $dest/error_averaging.md and $dest/error_averaging_sigma{0.5,1.0}.png"

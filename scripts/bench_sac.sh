#!/usr/bin/env bash
# SAC speed side by side with the peers, in one sitting (issue 6):
#  1. one full SAC update at SB3's Pendulum size (256×256, batch 256, obs 3, act 1):
#     `cargo bench -p mirrorflow-agent-sac --bench update` vs torch_sac_update.py, at 1 and 2
#     threads (RAYON_NUM_THREADS / torch.set_num_threads);
#  2. with E2E=1: wall-clock of the whole 20k-step Pendulum run, experiments/deep/sac_pendulum.toml
#     (the zoo setting) vs sb3_sac_pendulum.py, one seed each, at THREADS threads (default 1).
#
#   PEERS_PY=/path/to/venv/bin/python scripts/bench_sac.sh        (a venv with torch 2.15.0,
#   stable-baselines3 2.9.2, gymnasium 1.4.0: ../shared/bench/peers/setup_venv.sh DIR)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
peers="${PEERS_DIR:-$root/../shared/bench/peers}"
py="${PEERS_PY:?set PEERS_PY to a python with torch and stable-baselines3 (see the header)}"
threads="${THREADS:-1}"
cargo bench -q -p mirrorflow-agent-sac --bench update --no-run 2>/dev/null
bench="$(ls -t target/release/deps/update-* | grep -v '\.d$' | head -1)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in 1 2; do
  ours=$(RAYON_NUM_THREADS=$t "$bench" 300 3 | python3 -c 'import json,sys; print(json.load(sys.stdin)["updates_per_s"]["median"])')
  torch=$("$py" "$peers/torch_sac_update.py" --threads "$t" --iters 300 --reps 3 2>/dev/null | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["updates_per_s"]["median"])')
  python3 -c "print(f'SAC update, {$t} thread(s): mirrorflow {$ours:.1f}/s, PyTorch {$torch:.1f}/s, ratio {$ours/$torch:.2f}x')"
done
if [ "${E2E:-0}" = "1" ]; then
  cargo build -q --release
  dir="$(mktemp -d)/run"
  RAYON_NUM_THREADS=$threads ./target/release/mirrorflow train experiments/deep/sac_pendulum.toml \
    --rerun off --run-dir "$dir" > /dev/null 2>&1
  ours=$(python3 -c "import json; print(json.load(open('$dir/summary.json'))['wall_secs'])")
  ret=$(python3 -c "import json; print(json.load(open('$dir/summary.json'))['eval/mean_return'])")
  sb3=$(cd "$peers" && "$py" sb3_sac_pendulum.py --seeds 0 --threads "$threads" 2>/dev/null | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["seconds"]["median"], d["eval_mean_return"]["median"])')
  python3 -c "
o, r = $ours, $ret
s, sr = map(float, '$sb3'.split())
print(f'SAC Pendulum 20k steps, {$threads} thread(s): mirrorflow {o:.0f} s (eval {r:.0f}), SB3 {s:.0f} s (eval {sr:.0f}), speed-up {s/o:.2f}x')"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

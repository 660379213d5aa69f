#!/bin/sh
# Sweep throughput (issue: design-space exploration): a 1000-point sweep of the default-size
# workload (12 heads x N = 512 x d = 64, loosely timed, SPRINT with the dense baseline beside it,
# every check on: sprint-sim's defaults) through `sprint-sweep run` with one worker per core.
# Prints the wall and CPU time of the whole sweep, points per second, the status counts and the
# mean per-point sprint-sim time. Record the output in docs/PERFORMANCE.md with the date.
# Then times a whole-model point: models/bert-base.yaml (12 BERT-base layers, each its own data)
# with its dense baseline, as a sweep point of a model workload runs it.
#   bench/sweep_speed.sh [POINTS]   (10, 100 or 1000; default 1000; "model": the model point only)
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh time
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target sprint-sweep sprint-sim -j "$(nproc)" >/dev/null
points=${1:-1000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# 1000 = 10 keep fractions x 5 SRAM sizes x 4 memories x 5 key widths (fewer: the first axes cut).
model_point() {
    /usr/bin/time -f "%e %U %S" -o "$tmp/mtime" ./build/sprint-sim --model models/bert-base.yaml \
        --quiet >/dev/null
    read -r mw mu ms <"$tmp/mtime"
    echo "whole-model point (models/bert-base.yaml, 12 layers, SPRINT and the dense baseline):" \
        "wall $mw s, CPU $(echo "$mu $ms" | awk '{ print $1 + $2 }') s"
}
case $points in
model) model_point; exit 0 ;;
1000) kf="{from: 0.02, to: 0.2, step: 0.02}"; sram="[2048, 4096, 8192, 16384, 32768]"
      mem="[lpddr4, ddr4, hbm2, reram]"; kb="[2, 3, 4, 5, 6]" ;;
100) kf="{from: 0.02, to: 0.2, step: 0.02}"; sram="[2048, 4096, 8192, 16384, 32768]"
     mem="[lpddr4, hbm2]"; kb="[4]" ;;
10) kf="{from: 0.02, to: 0.2, step: 0.02}"; sram="[8192]"; mem="[lpddr4]"; kb="[4]" ;;
*) echo "usage: $0 [10|100|1000|model]" >&2; exit 2 ;;
esac
cat >"$tmp/bench.yaml" <<SPEC
name: bench-$points
description: sweep throughput benchmark, the default workload
axes:
  keep-fraction: $kf
  sprint.sram.k_bytes, sprint.sram.v_bytes: $sram
  dram.preset: $mem
  sprint.xbar.key_bits: $kb
SPEC
echo "sprint-vp sweep benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
./build/sprint-sweep expand "$tmp/bench.yaml"
/usr/bin/time -f "%e %U %S" -o "$tmp/time" ./build/sprint-sweep run "$tmp/bench.yaml" \
    --db "$tmp/bench.db" --quiet
read -r wall user sys <"$tmp/time"
./build/sprint-sweep export --db "$tmp/bench.db" --csv "$tmp/out.csv"
/usr/bin/python3 - "$tmp/out.csv" "$wall" "$user" "$sys" "$(nproc)" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
wall, user, sys_t, cores = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
ok = [r for r in rows if r["status"] == "ok"]
sims = [float(r["sim_wall_seconds"]) for r in ok if r["sim_wall_seconds"]]
print("points %d: ok %d, failed %d, does not fit %d" % (
    len(rows), len(ok), sum(r["status"] == "failed" for r in rows),
    sum(r["status"] == "does-not-fit" for r in rows)))
print("sweep wall %.1f s (%.1f min), %.2f points/s; CPU %.1f s (user %.1f + system %.1f), %.2f s CPU per point"
      % (wall, wall / 60, len(rows) / wall, user + sys_t, user, sys_t, (user + sys_t) / len(rows)))
if sims:
    print("per point, sprint-sim's own simulation phase (sc_start): mean %.3f s; %d workers on %d cores"
          % (sum(sims) / len(sims), cores, cores))
PY
model_point

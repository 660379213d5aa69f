#!/bin/sh
# Simulation-speed benchmark of sprint-sim in both timing modes. Builds the simulator in Release,
# then runs (1) the default workload: 12 heads, N = 512, d = 64, SPRINT and the dense baseline,
# and (2) one long head: N = 4096, d = 64, SPRINT and dense; each loosely timed (lt) and
# approximately timed (at). For each run it prints the simulated cycles, the wall time of the
# simulation (sc_start only), the simulation speed in key scores per wall second (visible
# query-key pairs simulated, both jobs together), the peak memory and the whole command's wall
# time. Record the output in docs/PERFORMANCE.md with the date and the machine.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target sprint-sim -j "$(nproc)" >/dev/null

echo "sprint-vp benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"

run() {
    title=$1
    shift
    echo
    echo "== $title"
    echo "   command: build/sprint-sim $*"
    start=$(date +%s.%N)
    out=$(./build/sprint-sim "$@")
    end=$(date +%s.%N)
    echo "$out" | grep -E '^ +(sprint|dense|onchip-prune) |  cycles|bit-exact|speed-up|host time' | sed 's/^/   /'
    echo "   whole command (workload generation, simulation, reference checks): $(awk "BEGIN { printf \"%.2f\", $end - $start }") s"
}

for timing in lt at; do
    run "default workload: 12 heads x N=512 x d=64, $timing" --timing $timing
done
for timing in lt at; do
    run "one long head: N=4096 x d=64, $timing" --timing $timing --heads 1 --seq-len 4096
done

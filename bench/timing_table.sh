#!/bin/sh
# The LT vs AT cycle table of docs/timing.md: a few workloads, each simulated in both timing
# modes, printed as Markdown rows (cycles of the first job, and of the dense job with --compare).
# Extra arguments (options without blanks) go to every run.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target sprint-sim -j "$(nproc)" >/dev/null

extra="$*"
cycles() {  # prints "first [second]" cycles columns of the summary
    # shellcheck disable=SC2086 # the extra options are words without blanks
    ./build/sprint-sim "$@" $extra | awk '$1 == "cycles" && $2 ~ /^[0-9]/ { $1 = ""; print }' |
        sed 's/^ *//'
}

echo "| workload | options | LT cycles | AT cycles | AT / LT |"
echo "|---|---|---|---|---|"
row() {
    name=$1
    shift
    lt=$(cycles --timing lt --compare=false "$@")
    at=$(cycles --timing at --compare=false "$@")
    ratio=$(awk -v a="$(echo "$at" | tr -d ,)" -v l="$(echo "$lt" | tr -d ,)" 'BEGIN { printf "%.2f", a / l }')
    echo "| $name | \`$*\` | $lt | $at | $ratio |"
}
row "BERT-base layer, SPRINT" --heads 12 --seq-len 512
row "BERT-base layer, dense (query blocks)" --heads 12 --seq-len 512 --mode dense
row "BERT-base layer, dense-stream" --heads 12 --seq-len 512 --mode dense-stream
row "BERT-base layer, on-chip pruning" --heads 12 --seq-len 512 --mode onchip-prune
row "long head, SPRINT" --heads 1 --seq-len 4096
row "memory-bound dense-stream (wide datapath)" --heads 1 --seq-len 512 --mode dense-stream --sprint.datapath.qk_lanes 1024 --sprint.datapath.v_lanes 1024 --sprint.sram.bytes_per_cycle 1024
row "compute-bound dense (8 lanes, HBM2)" --heads 1 --seq-len 256 --mode dense --dram.preset hbm2 --sprint.datapath.qk_lanes 8 --sprint.datapath.v_lanes 8
row "SPRINT on HBM2" --heads 12 --seq-len 512 --dram.preset hbm2

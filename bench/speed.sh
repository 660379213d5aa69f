#!/bin/sh
# Simulation speed against numpy, side by side in one run (issue: simulation speed). For each
# shape (heads x N x d) it times numpy's dense attention (float32, one OpenBLAS thread; the script
# installs Debian's numpy and OpenBLAS when missing and prints the BLAS numpy mapped), then
# sprint-sim on the SPRINT job alone (LT and AT) and the dense baseline alone (LT and AT), and prints
# query-key pairs per second of the whole process (wall clock from start to exit, all set-up and
# checks included), the simulation phase alone (sc_start; the fidelity references run beside it on
# a thread of their own as each query completes, their host time shown apart), peak memory, and
# the ratio to numpy.
# Each SPRINT job runs twice: with the checks (the default) and bare (--fidelity=false
# --verify=false: no reference at all); cpu is the process's user + system time (the references
# run on other threads, so it can exceed the wall time).
# Usage: bench/speed.sh [shape ...]   (shapes as HxNxD; default: the four of docs/PERFORMANCE.md)
# Record the output in docs/PERFORMANCE.md with the date.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh python3 python3-numpy libopenblas0-pthread time
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target sprint-sim -j "$(nproc)" >/dev/null

shapes=${*:-"12x512x64 20x1024x64 1x4096x64 1x16384x64"}
export OPENBLAS_NUM_THREADS=1
echo "sprint-vp speed benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "pairs: visible query-key pairs (heads x N x N here); whole = the process from start to exit"

now() { date +%s.%N; }

for shape in $shapes; do
    h=${shape%%x*}; rest=${shape#*x}; n=${rest%%x*}; d=${rest#*x}
    echo
    echo "== $h x $n x $d"
    np=$(/usr/bin/python3 bench/numpy_attention.py "$h" "$n" "$d" 3)
    np_rate=$(echo "$np" | sed 's/.*pairs_per_s=\([^ ]*\).*/\1/')
    echo "   $np"
    # "bare": the same job with --fidelity=false --verify=false (no references at all).
    for run in "sprint lt" "sprint lt bare" "sprint at" "sprint at bare" "dense lt" "dense at"; do
        set -- $run
        mode=$1; timing=$2; extra=""
        label="$mode $timing"
        if [ "${3:-}" = bare ]; then extra="--fidelity=false --verify=false"; label="$label, bare"; fi
        t0=$(now)
        if out=$(/usr/bin/time -f "cpu %U %S" ./build/sprint-sim --heads "$h" --seq-len "$n" \
                 --head-dim "$d" --mode "$mode" --timing "$timing" --compare=false $extra 2>&1); then
            t1=$(now)
            wall=$(awk "BEGIN { print $t1 - $t0 }")
            cpu=$(echo "$out" | awk '/^cpu / { print $2 + $3 }')
            line=$(echo "$out" | grep '^host time')
            sim=$(echo "$line" | sed 's/.* simulation \([0-9.]*\) s.*/\1/')
            ref=$(echo "$line" | sed 's/.*(fidelity references \([0-9.]*\) s.*/\1/')
            mem=$(echo "$line" | sed 's/.*peak memory \([0-9]*\) MiB.*/\1/')
            awk -v m="$label" -v p="$h*$n*$n" -v w="$wall" -v c="$cpu" -v s="$sim" -v r="$ref" -v mem="$mem" -v np="$np_rate" 'BEGIN {
                split(p, a, "*"); pairs = a[1] * a[2] * a[3]; sm = s; if (sm < 0.001) sm = 0.001;
                printf "   %-16s whole %7.2f s %7.3f M pairs/s (%.4fx numpy), cpu %7.2f s | simulation alone %7.2f s %7.3f M pairs/s | references %6.2f s | whole/simulation %.2f | peak %s MiB\n",
                    m ":", w, pairs / w / 1e6, pairs / w / np, c, sm, pairs / sm / 1e6, r, w / sm, mem }'
        else
            echo "   $label: refused or failed: $(echo "$out" | grep -m1 error)"
        fi
    done
done

#!/bin/sh
# Two sprint-sim builds side by side (a speed change against the build before it): for each shape
# and timing mode the SPRINT job alone runs with A, then B, three times in turn (the machine's
# noise falls on both), and the median whole-process wall time of each is printed with B's
# speed-up over A and the cycles each simulated (which must be the same).
#   bench/ab.sh SIM_A SIM_B [shape ...]   (shapes HxNxD; default 12x512x64 1x4096x64)
# For example, the build of an earlier commit against this one:
#   git worktree add /tmp/old <commit> && cmake -S /tmp/old -B /tmp/old/build && \
#   cmake --build /tmp/old/build --target sprint-sim && \
#   bench/ab.sh /tmp/old/build/sprint-sim build/sprint-sim
set -eu
[ $# -ge 2 ] || { echo "usage: $0 SIM_A SIM_B [shape ...]" >&2; exit 2; }
a=$1
b=$2
shift 2
shapes=${*:-"12x512x64 1x4096x64"}
echo "sprint-vp A/B, $(date -u '+%Y-%m-%d %H:%M UTC'); A = $a, B = $b"
now() { date +%s.%N; }
for shape in $shapes; do
    h=${shape%%x*}; rest=${shape#*x}; n=${rest%%x*}; d=${rest#*x}
    for timing in lt at; do
        ta=""; tb=""; ca=""; cb=""
        for rep in 1 2 3; do
            for which in a b; do
                sim=$a; [ "$which" = b ] && sim=$b
                t0=$(now)
                out=$("$sim" --heads "$h" --seq-len "$n" --head-dim "$d" --timing "$timing" \
                    --compare=false 2>&1)
                t1=$(now)
                cyc=$(echo "$out" | awk '/^  cycles / { gsub(",", "", $2); print $2; exit }')
                w=$(awk "BEGIN { print $t1 - $t0 }")
                if [ "$which" = a ]; then ta="$ta $w"; ca=$cyc; else tb="$tb $w"; cb=$cyc; fi
            done
        done
        med() { echo "$@" | tr ' ' '\n' | grep . | sort -n | sed -n 2p; }
        ma=$(med $ta); mb=$(med $tb)
        awk -v s="$shape $timing" -v a="$ma" -v b="$mb" -v ca="$ca" -v cb="$cb" 'BEGIN {
            printf "%-16s A %6.2f s  B %6.2f s  B is %.2fx as fast | cycles A %s B %s%s\n",
                s, a, b, a / b, ca, cb, (ca == cb ? "" : "  DIFFER") }'
    done
done

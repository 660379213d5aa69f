#!/bin/sh
# Task accuracy with SPRINT in the loop (docs/accuracy.md): builds the Python module sprint_vp,
# then trains a small transformer on associative recall and measures its accuracy with float,
# dense fixed-point and SPRINT attention (key bits, recompute, threshold rules, non-idealities).
#   ./scripts/accuracy.sh [OUT_DIR] [--quick]     (default OUT_DIR: accuracy-results)
# Writes OUT_DIR/accuracy.csv, accuracy.md and accuracy.png. A few minutes on 2 cores.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" python3 python3-torch python3-matplotlib
mkdir -p "$root/build"
if ! { cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release &&
       cmake --build "$root/build" --target _sprint_vp -j "$(nproc)"; } >"$root/build/accuracy-build.log" 2>&1; then
    cat "$root/build/accuracy-build.log" >&2
    echo "sprint-vp: build failed (log above, also in build/accuracy-build.log)" >&2
    exit 1
fi
out=${1:-accuracy-results}
[ $# -gt 0 ] && shift
PYTHONPATH="$root/build/python${PYTHONPATH:+:$PYTHONPATH}" exec /usr/bin/python3 "$root/scripts/accuracy.py" "$out" "$@"

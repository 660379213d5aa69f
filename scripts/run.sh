#!/bin/sh
# The main job: build sprint-sim (and the Python module sprint_vp beside it, docs/python.md) and
# run it. With no arguments it simulates the built-in
# BERT-base-like layer (12 heads, N = 512, d = 64) on SPRINT and on the dense baseline and
# prints the comparison; any arguments are passed to sprint-sim (see --help).
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
mkdir -p build
# Build quietly; show the log only if something fails.
if ! { cmake -S . -B build -DCMAKE_BUILD_TYPE=Release &&
       cmake --build build --target sprint-sim _sprint_vp -j "$(nproc)"; } >build/run-build.log 2>&1; then
    cat build/run-build.log >&2
    echo "sprint-vp: build failed (log above, also in build/run-build.log)" >&2
    exit 1
fi
exec ./build/sprint-sim "$@"

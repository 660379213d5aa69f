#!/bin/sh
# Design-space sweeps: build sprint-sweep and sprint-sim, then run sprint-sweep with the
# arguments given (docs/sweeps.md; sprint-sweep --help). For example
#   ./scripts/sweep.sh run sweeps/sram_x_memory.yaml
#   ./scripts/sweep.sh report sweeps/sram_x_memory.yaml --where 'mass >= 0.9' --minimise energy
#   ./scripts/sweep.sh plot sweeps/sram_x_memory.yaml
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
mkdir -p "$root/build"
if ! { cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release &&
       cmake --build "$root/build" --target sprint-sweep sprint-sim -j "$(nproc)"; } >"$root/build/sweep-build.log" 2>&1; then
    cat "$root/build/sweep-build.log" >&2
    echo "sprint-vp: build failed (log above, also in build/sweep-build.log)" >&2
    exit 1
fi
exec "$root/build/sprint-sweep" "$@"

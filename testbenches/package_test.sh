#!/bin/sh
# The installed package as a third party uses it (one ctest entry):
#   1. install only the IP component of this build tree into a temporary prefix: no sprint-sim;
#   2. configure, build and run testbenches/consumer (the IP and the platform components) against
#      that prefix alone;
#   3. configure the sources for the IP alone (-DSPRINT_BUILD_SIMULATOR=OFF) with Boost and
#      xtensor made unfindable, and check that there is no simulator target to build.
# Usage: package_test.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1
build=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sprint-package-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
step() { echo "package test: $*"; }

step "install the ip component"
cmake --install "$build" --prefix "$tmp/prefix" --component ip >"$tmp/install.log"
test -f "$tmp/prefix/lib/cmake/sprint-vp/sprint-vpConfig.cmake" || test -f "$tmp/prefix/lib64/cmake/sprint-vp/sprint-vpConfig.cmake"
test -f "$tmp/prefix/share/sprint-vp/waveforms/overview.gtkw"
test -f "$tmp/prefix/share/sprint-vp/waveforms/memory.gtkw"
test -f "$tmp/prefix/share/sprint-vp/waveforms/filters/stage_state.txt"
if [ -e "$tmp/prefix/bin/sprint-sim" ]; then echo "the ip component installed sprint-sim" >&2; exit 1; fi
# The platform components are part of the package, the applications' headers are not.
test -f "$tmp/prefix/include/sprint-vp/platforms/components/memory.h"
if [ -e "$tmp/prefix/include/sprint-vp/platforms/sim" ] || [ -e "$tmp/prefix/include/sprint-vp/platforms/sweep" ]; then
    echo "the ip component installed the applications' headers" >&2; exit 1
fi

step "build and run a consumer against the installed package"
cmake -S "$src/testbenches/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
    -DCMAKE_BUILD_TYPE=Release >"$tmp/consumer-configure.log" || { cat "$tmp/consumer-configure.log"; exit 1; }
cmake --build "$tmp/consumer" >"$tmp/consumer-build.log" 2>&1 || { cat "$tmp/consumer-build.log"; exit 1; }
SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 "$tmp/consumer/consumer"

step "configure the IP alone, without Boost and xtensor"
cmake -S "$src" -B "$tmp/ip-only" -DSPRINT_BUILD_SIMULATOR=OFF -DSPRINT_BUILD_TESTS=OFF \
    -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON -DCMAKE_DISABLE_FIND_PACKAGE_xtensor=ON \
    >"$tmp/ip-configure.log" || { cat "$tmp/ip-configure.log"; exit 1; }
targets=$(cmake --build "$tmp/ip-only" --target help)
echo "$targets" | grep -q "sprint_ip" || { echo "no sprint_ip target" >&2; exit 1; }
echo "$targets" | grep -q "sprint_components" || { echo "no sprint_components target" >&2; exit 1; }
if echo "$targets" | grep -q "sprint-sim"; then echo "the IP-only build still has sprint-sim" >&2; exit 1; fi
step "ok"

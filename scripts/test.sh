#!/bin/sh
# The test suite: build everything and run every test case in its own process with ctest.
#   ./scripts/test.sh             Release build in build/
#   ./scripts/test.sh --sanitize  the same suite built with ASan and UBSan in build-sanitize/
#                                 (every sanitizer report fails its test)
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
dir=build
flags="-DCMAKE_BUILD_TYPE=Release -DSPRINT_SANITIZE=OFF"
case "${1:-}" in
    "") ;;
    --sanitize)
        dir=build-sanitize
        flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPRINT_SANITIZE=ON"
        # Reports go to stderr (ctest shows them) and end the process with status 66, which no
        # test expects (sprint-sim's own statuses are 0, 1 and 2).
        # No leak check: LeakSanitizer scans the SystemC kernel's coroutine stacks at exit and
        # crashes on them (signal 11 in its tracer), and the kernel frees nothing at exit anyway.
        ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1:exitcode=66}"
        UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=66}"
        export ASAN_OPTIONS UBSAN_OPTIONS
        ;;
    *) echo "usage: $0 [--sanitize]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" $flags >/dev/null
cmake --build "$dir" -j "$(nproc)"
ctest --test-dir "$dir" -j "$(nproc)" --output-on-failure

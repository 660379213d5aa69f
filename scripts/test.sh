#!/bin/sh
# The test suite: the sources formatted as .clang-format says, everything built with warnings as
# errors, and every test case run in its own process with ctest.
#   ./scripts/test.sh             Release build in build/
#   ./scripts/test.sh --sanitize  the same suite built with ASan and UBSan in build-sanitize/
#                                 (every sanitizer report fails its test)
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh python3 python3-matplotlib python3-jsonschema python3-torch gtkwave slurmctld slurmd slurm-client munge
dir=build
flags="-DCMAKE_BUILD_TYPE=Release -DSPRINT_SANITIZE=OFF -DSPRINT_WERROR=ON"
case "${1:-}" in
    "") ;;
    --sanitize)
        dir=build-sanitize
        flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPRINT_SANITIZE=ON -DSPRINT_WERROR=ON"
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
sources=$(find core modules tlm_interfaces platforms testbenches waveforms -name '*.cpp' -o -name '*.h')
if ! clang-format --dry-run --Werror $sources; then
    echo "sprint-vp: the files above differ from .clang-format; clang-format -i <file> fixes them" >&2
    exit 1
fi
cmake -S . -B "$dir" $flags >/dev/null
cmake --build "$dir" -j "$(nproc)"
ctest --test-dir "$dir" -j "$(nproc)" --output-on-failure

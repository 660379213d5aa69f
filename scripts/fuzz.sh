#!/bin/sh
# Fuzzes the input parsers with clang's libFuzzer (docs/fuzzing.md). Not part of the test command:
# that replays the seeds and the recorded findings (ctest -R 'fuzz replay').
#   ./scripts/fuzz.sh [TARGET|all] [SECONDS]     all targets, 60 s each, by default
# Targets: expr spec npy ini tech_json tech_accelergy (testbenches/fuzz/fuzz_<target>.cpp).
# Builds them in build-fuzz/ (clang, -DSPRINT_FUZZ=ON: ASan, UBSan, coverage), runs each on a
# copy of its seeds and recorded findings in build-fuzz/fuzz-runs/<target>/, and prints what it
# found; nothing in the source tree is written. Every crash, sanitizer report, timeout or
# out-of-memory input is kept there (crash-*, timeout-*, oom-*, leak-*) with the command that
# replays it; the status is 1 when anything was found.
# Environment: FUZZ_JOBS (parallel fuzzing processes per target, default 1), FUZZ_MAX_LEN (largest
# input in bytes, default 8192), SPRINT_FUZZ_NO_BUILD=1 (use build-fuzz/ as it is).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
targets_all="expr spec npy ini tech_json tech_accelergy"
target=${1:-all}
seconds=${2:-60}
case "$target" in
    all) targets=$targets_all ;;
    -h | --help)
        sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        case " $targets_all " in
            *" $target "*) targets=$target ;;
            *) echo "sprint-vp: unknown fuzz target '$target' (all, $targets_all)" >&2; exit 2 ;;
        esac
        ;;
esac
case "$seconds" in
    '' | *[!0-9]*) echo "sprint-vp: SECONDS must be a whole number, not '$seconds'" >&2; exit 2 ;;
esac

build="$root/build-fuzz"
if [ "${SPRINT_FUZZ_NO_BUILD:-0}" != 1 ]; then
    # clang and its runtime libraries (libFuzzer, the sanitizers) besides the usual packages.
    "$root/scripts/deps.sh" clang libclang-rt-dev
    mkdir -p "$build"
    names=""
    for t in $targets; do names="$names sprint-fuzz-$t"; done
    # shellcheck disable=SC2086 # one word per target
    if ! { CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
               -DSPRINT_FUZZ=ON -DSPRINT_BUILD_TESTS=OFF &&
           cmake --build "$build" -j "$(nproc)" --target $names; } >"$build/fuzz-build.log" 2>&1; then
        cat "$build/fuzz-build.log" >&2
        echo "sprint-vp: fuzz build failed (log above, also in build-fuzz/fuzz-build.log)" >&2
        exit 1
    fi
fi

found=0
for t in $targets; do
    exe="$build/testbenches/fuzz/sprint-fuzz-$t"
    run="$build/fuzz-runs/$t"
    rm -rf "$run"
    mkdir -p "$run/corpus" "$run/findings"
    # The seeds and the findings so far start the corpus; libFuzzer adds to this copy only.
    cp "$root/testbenches/fuzz/corpus/$t/"* "$run/corpus/"
    cp "$root/testbenches/fuzz/regressions/$t/"* "$run/corpus/" 2>/dev/null || true
    echo "== $t: ${seconds} s (log: build-fuzz/fuzz-runs/$t/log)"
    # -fork keeps fuzzing after a finding (each is saved); -timeout: one input may take 30 s.
    ASAN_OPTIONS="${ASAN_OPTIONS:-allocator_may_return_null=0}" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
        "$exe" "$run/corpus" -max_total_time="$seconds" -fork="${FUZZ_JOBS:-1}" \
        -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -timeout=30 -rss_limit_mb=2048 \
        -max_len="${FUZZ_MAX_LEN:-8192}" -artifact_prefix="$run/findings/" \
        >"$run/log" 2>&1 || true
    grep -E '^#[0-9]+: cov' "$run/log" | tail -n 1 | sed 's/^/   last: /' || true
    n=$(find "$run/findings" -type f | wc -l)
    if [ "$n" -eq 0 ]; then
        echo "   nothing found"
        continue
    fi
    found=1
    # Each finding replayed for the first line of its report; findings with the same line (up to
    # addresses and offsets) are counted together.
    echo "   $n finding(s) in build-fuzz/fuzz-runs/$t/findings/, by the first line of their report:"
    for f in "$run/findings/"*; do
        reason=$("$exe" -timeout=10 "$f" 2>&1 |
            grep -m 1 -E 'runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|what\(\):|ERROR: libFuzzer: (timeout|out-of-memory)' |
            sed -e 's/^ *//' -e 's/0x[0-9a-fA-F]*/0x.../g' -e 's/ at index [0-9]*/ at index N/' || true)
        printf '%s\t%s\n' "${reason:-(no report line: replay it by hand)}" "$f"
    done | awk -F '\t' '!($1 in n) { order[++k] = $1; first[$1] = $2 } { n[$1]++ }
        END { for (i = 1; i <= k; ++i) printf "   %d x %s\n      e.g. %s\n", n[order[i]], order[i], first[order[i]] }'
    echo "   replay one with its stack: $exe FILE (docs/fuzzing.md: keeping it as a regression input)"
done
exit "$found"

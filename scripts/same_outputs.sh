#!/bin/sh
# Whether two sprint-sim binaries give the same outputs: for a change that must not change
# behaviour (a refactor, speed work). Runs one set of runs with each binary (the default run in LT
# with every output file, AT, dense, onchip-prune, 8-bit keys, the tables and dumps, a dry run and
# bad input) and compares everything they print and write, except what is the host's (host times,
# key scores per second, peak memory, start time, git commit, the VCD date).
#   ./scripts/same_outputs.sh OLD_SPRINT_SIM NEW_SPRINT_SIM [WORK_DIR]
# The outputs are kept in WORK_DIR/old and WORK_DIR/new (default: a temporary folder, removed
# after). Status 0 when every file is the same, 1 with the differences listed. An older binary:
#   git worktree add /tmp/old REV && cmake -S /tmp/old -B /tmp/old/build \
#       && cmake --build /tmp/old/build -j2 --target sprint-sim      # then /tmp/old/build/sprint-sim
set -eu
if [ $# -lt 2 ]; then sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2; fi
old=$1
new=$2
for sim in "$old" "$new"; do
    [ -x "$sim" ] || { echo "sprint-vp: '$sim' is not an executable sprint-sim" >&2; exit 2; }
done
if [ $# -ge 3 ]; then
    work=$3
    mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/sprint-same-XXXXXX")
    trap 'rm -rf "$work"' EXIT INT TERM
fi

capture() {  # SIM DIR: every run's stdout (with its status), stderr and files into DIR
    sim=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
    rm -rf "$2"
    mkdir -p "$2"
    (
        cd "$2"
        run() {
            name=$1
            shift
            status=0
            timeout 900 "$sim" "$@" >"$name.out" 2>"$name.err" || status=$?
            echo "exit status $status" >>"$name.out"
        }
        run lt --timing lt --stats lt.json --per-query lt.csv --vcd lt.vcd --trace-tlm lt.tlm.csv \
            --trace-stl lt.stl --output lt.npy --dump-config lt.ini
        run at --timing at --stats at.json --per-query at.csv --vcd at.vcd --output at.npy
        run dense --preset S --mode dense --compare=false --stats dense.json
        run onchip --preset S --mode onchip-prune --stats onchip.json --per-query onchip.csv
        run keybits8 --preset S --sprint.xbar.key_bits 8 --stats keybits8.json
        run help --help
        run regmap --dump-regmap
        run params --dump-params
        run tech --dump-tech
        run dry --dry-run --preset L
        run bad-option --bogus
        run bad-value --seq-len 0
        run bad-file --q /nonexistent.npy --k x --v y
        run too-long --seq-len 16384 --compare all
    )
}

# A file with what belongs to the host taken out.
normalise() {
    case $1 in
    *.json)
        python3 - "$1" <<'EOF'
import json, sys
HOST = {"check_seconds", "key_scores_per_second", "peak_memory", "reference_seconds",
        "setup_seconds", "wall_seconds", "started", "git_commit"}
def strip(x):
    if isinstance(x, dict):
        if isinstance(x.get("command_line"), list) and x["command_line"]:
            x["command_line"][0] = "sprint-sim"  # the binary's own path
        return {k: strip(v) for k, v in x.items() if k not in HOST}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x
print(json.dumps(strip(json.load(open(sys.argv[1]))), indent=1, sort_keys=True))
EOF
        ;;
    *)
        # The summary's host-time line, the version line's commit and start time, the VCD's date,
        # the config file's header (written by, command), and the binary's own path.
        sed -e 's/^host time:.*/host time: -/' -e 's/(git [0-9a-f]*\(-dirty\)\{0,1\})/(git -)/' \
            -e 's/, 20[0-9-]*T[0-9:]*Z;/, -;/' -e 's/^ *[A-Z][a-z][a-z] [0-9][0-9], 20[0-9][0-9] .*/DATE/' \
            -e 's/^# written by sprint-sim .*/# written by -/' -e 's/^# command: [^ ]*/# command: -/' \
            -e 's/command: [^ ]*sprint-sim/command: sprint-sim/' "$1"
        ;;
    esac
}

capture "$old" "$work/old"
capture "$new" "$work/new"
status=0
files=0
for f in "$work/old"/* "$work/new"/*; do
    name=$(basename "$f")
    other="$work/old/$name"
    [ -e "$other" ] || { echo "only the new binary wrote $name"; status=1; continue; }
    [ "$f" = "$work/old/$name" ] || continue  # each name once
    [ -e "$work/new/$name" ] || { echo "only the old binary wrote $name"; status=1; continue; }
    files=$((files + 1))
    normalise "$work/old/$name" >"$work/a"
    normalise "$work/new/$name" >"$work/b"
    if ! cmp -s "$work/a" "$work/b"; then
        echo "differs: $name"
        diff "$work/a" "$work/b" | head -10
        status=1
    fi
done
rm -f "$work/a" "$work/b"
if [ $status -eq 0 ]; then
    echo "same outputs: $files files from $(ls "$work/old"/*.out | wc -l) runs"
fi
exit $status

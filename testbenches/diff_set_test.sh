#!/bin/sh
# The diff set: every configuration of testbenches/diff_set/configs.txt run with sprint-sim, each
# job's cycles and memory bytes and a hash of the selected job's output compared with
# testbenches/diff_set/golden.csv. A change to the model's timing or numerics shows here, row by
# row; when it is meant, rerun with --update and say why in the commit.
#   diff_set_test.sh SOURCE_DIR SPRINT_SIM [--update | --extra "ARGS"]
set -eu
src=$1
sim=$2
update=${3:-}
# --extra "ARGS": every run adds ARGS and must still give the recorded figures (another path to
# the same results).
extra=""
if [ "$update" = "--extra" ]; then
    extra=${4:?--extra needs its arguments}
    update=""
fi
py=/usr/bin/python3
[ -x "$py" ] || py=python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "config,job,mode,cycles,mem_read_bytes,mem_write_bytes,output_sha256" >"$tmp/now.csv"
grep -v '^#' "$src/testbenches/diff_set/configs.txt" | while IFS='|' read -r name args; do
    name=$(echo "$name" | tr -d ' ')
    [ -n "$name" ] || continue
    case " $args " in *" --heads "*) base="" ;; *) base="--heads 2 --seq-len 96" ;; esac
    # shellcheck disable=SC2086
    "$sim" $base $args $extra --quiet --stats "$tmp/s.json" --output "$tmp/o.npy" >"$tmp/log" 2>&1 ||
        { cat "$tmp/log" >&2; echo "diff_set: $name: sprint-sim failed" >&2; exit 1; }
    "$py" - "$name" "$tmp/s.json" "$tmp/o.npy" >>"$tmp/now.csv" <<'PY'
import hashlib, json, sys
name, stats, out = sys.argv[1:]
h = hashlib.sha256(open(out, "rb").read()).hexdigest()[:16]
for i, j in enumerate(json.load(open(stats))["jobs"]):
    print("%s,%d,%s,%d,%d,%d,%s" % (name, i, j["mode"], j["cycles"]["value"],
                                    j["mem_read_bytes"]["value"], j["mem_write_bytes"]["value"],
                                    h if i == 0 else ""))
PY
done
if [ "$update" = "--update" ]; then
    cp "$tmp/now.csv" "$src/testbenches/diff_set/golden.csv"
    echo "diff_set: golden.csv rewritten ($(($(wc -l <"$tmp/now.csv") - 1)) jobs)"
    exit 0
fi
if ! diff "$src/testbenches/diff_set/golden.csv" "$tmp/now.csv" >"$tmp/diff"; then
    echo "diff_set: cycles, bytes or outputs changed (< golden, > now):" >&2
    cat "$tmp/diff" >&2
    exit 1
fi
echo "diff_set: $(($(wc -l <"$tmp/now.csv") - 1)) jobs of $(grep -vc '^#' "$src/testbenches/diff_set/configs.txt") configurations unchanged"

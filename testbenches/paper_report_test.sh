#!/bin/sh
# The paper report command on its reduced set (--quick: one head of 128 tokens per preset, S):
# it writes a Markdown table with a row per preset and the geomeans, the traffic normalised as
# the paper's Fig. 10 beside the paper's per-workload values, a CSV with the preset rows,
# and three PNG charts; an error in a run fails it.
#   paper_report_test.sh SOURCE_DIR SPRINT_SIM
set -eu
src=$1
sim=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" "$src/scripts/paper_report.py" "$sim" "$tmp/out" --quick --jobs 1 >"$tmp/log" 2>&1 ||
    { cat "$tmp/log"; exit 1; }
fail() { echo "paper_report_test: $*" >&2; cat "$tmp/log" >&2; exit 1; }
# 8 preset rows in the strong defaults' table and 8 in the paper profile's, 8 in the Fig. 10
# traffic table
[ "$(grep -c '^| [a-z0-9-]* | S | [0-9.]*x | ' "$tmp/out/report.md")" -eq 16 ] ||
    fail "not 8 preset rows under each set"
[ "$(grep -c '^| [a-z0-9-]* | S | -\{0,1\}[0-9.]*% | [0-9]*% | -\{0,1\}[0-9.]*% | [0-9]*% |$' "$tmp/out/report.md")" -eq 8 ] ||
    fail "not 8 rows of Fig. 10 traffic beside the paper's"
grep -q '^| S | [0-9.]*x | 7.48x |' "$tmp/out/report.md" || fail "no geomean row beside the paper's"
grep -q '^| S | [0-9.]*x | [0-9.]*x | 7.48x | [0-9.]* | \(yes\|no\) | ' "$tmp/out/report.md" ||
    fail "no geomean row of the paper profile beside the strong defaults and the paper's"
for sc in x0.5 x1 x5; do
    grep -q "^| $sc | [0-9.]*x | [0-9.]*x | 16.86x |$" "$tmp/out/report.md" ||
        fail "no on-chip energy sensitivity row $sc"
done
grep -q '^| main-memory read | [0-9.]*% | 46% |' "$tmp/out/report.md" || fail "no baseline split"
[ "$(wc -l <"$tmp/out/report.csv")" -eq 9 ] || fail "the CSV is not a header and 8 rows"
head -1 "$tmp/out/report.csv" | grep -q '^workload,size,speedup_model,speedup_paper' ||
    fail "CSV header"
for f in speedup energy traffic; do
    [ "$(head -c 4 "$tmp/out/$f.png" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "$f.png"
done
# a failing run fails the report, naming it
if "$py" "$src/scripts/paper_report.py" /bin/false "$tmp/bad" --quick --jobs 1 >"$tmp/log" 2>&1; then
    fail "a failing simulator did not fail the report"
fi
grep -q 'failed' "$tmp/log" || fail "no message for the failed run"
echo "paper_report_test: ok"

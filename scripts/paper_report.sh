#!/bin/sh
# The paper side by side (docs/paper-comparison.md): every workload preset on S, M and L, SPRINT
# against the dense baseline of the same size, as a Markdown table, a CSV and bar charts in OUT
# (default paper-report/). `--quick` runs one head of 128 tokens per preset on S only.
#   ./scripts/paper_report.sh [OUT] [--quick]
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh python3 python3-matplotlib
mkdir -p build
if ! { cmake -S . -B build -DCMAKE_BUILD_TYPE=Release &&
       cmake --build build --target sprint-sim -j "$(nproc)"; } >build/report-build.log 2>&1; then
    cat build/report-build.log >&2
    exit 1
fi
out=paper-report
quick=""
for a in "$@"; do
    case "$a" in
    --quick) quick=--quick ;;
    *) out=$a ;;
    esac
done
# Debian's python3 (with python3-matplotlib), not another one earlier on PATH.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" scripts/paper_report.py build/sprint-sim "$out" $quick --jobs "$(nproc)"

#!/bin/sh
# The S/M/L table of docs/timing.md: the default BERT-base-like layer (12 heads, N = 512, d = 64)
# on each IP size preset and 1, 2 or 4 memory channels, SPRINT beside the strong dense baseline
# of the same size. Every figure comes from sprint-sim --stats; extra arguments go to every run.
set -eu
cd "$(dirname "$0")/.."
. bench/prepare_sim.sh

echo "| preset | channels | SPRINT cycles | bound | dense cycles | bound | MiB read SPRINT / dense | speed-up |"
echo "|---|---|---|---|---|---|---|---|"
for preset in S M L; do
    for ch in 1 2 4; do
        ./build/sprint-sim --preset "$preset" --dram.channels "$ch" --stats "$tmp/s.json" "$@" >/dev/null
        python3 - "$tmp/s.json" "$preset" "$ch" <<'PY'
import json, sys
jobs = {j["mode"]: j for j in json.load(open(sys.argv[1]))["jobs"]}
s, d = jobs["sprint"], jobs["dense"]
mib = lambda j: j["mem_read_bytes"]["value"] / 1048576.0
print("| %s | %s | %d | %s | %d | %s | %.2f / %.2f | %.2fx |" % (
    sys.argv[2], sys.argv[3], s["cycles"]["value"], s["bounds"]["limit"], d["cycles"]["value"],
    d["bounds"]["limit"], mib(s), mib(d), d["cycles"]["value"] / s["cycles"]["value"]))
PY
    done
done

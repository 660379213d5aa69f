#!/bin/sh
# The bounds and curves of docs/timing.md: for one BERT-base head (N = 512, d = 64, default keep rule,
# LPDDR4 unless varied), every mode's cycles beside its bounds; then SPRINT's speed-up over the
# strong (dense) and naive (dense-stream) baselines as the SRAM size and the memory bandwidth
# vary. Every figure comes from sprint-sim --stats; extra arguments go to every run.
set -eu
cd "$(dirname "$0")/.."
. bench/prepare_sim.sh
extra="$*"  # this script's arguments go to every run (options without blanks)

run() {  # run NAME ARGS...: the stats of `--compare all` on one head into $tmp/NAME.json
    name=$1
    shift
    # shellcheck disable=SC2086 # the extra options are words without blanks
    ./build/sprint-sim --heads 1 --compare all --stats "$tmp/$name.json" "$@" $extra >/dev/null
}

run base
python3 - "$tmp/base.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print("| mode | cycles | front | datapath | SRAM | memory bandwidth | memory latency | crossbar | limit | cycles / limit |")
print("|---|---|---|---|---|---|---|---|---|---|")
for job in j["jobs"]:
    b = job["bounds"]
    vals = [b[k]["value"] for k in ("front", "datapath", "sram", "memory_bandwidth", "memory_latency", "crossbar")]
    print("| %s | %d | %s | %s | %.2f |" % (job["mode"], job["cycles"]["value"],
          " | ".join("%d" % v for v in vals), b["limit"], b["cycles_over_largest"]["value"]))
PY

curve() {  # curve TITLE "PARAMS" VALUES...: each value given to every parameter in PARAMS
    title=$1
    params=$2
    shift 2
    for v in "$@"; do
        args=""
        for p in $params; do args="$args $p $v"; done
        # shellcheck disable=SC2086 # the options are words without blanks
        run "c$v" $args
    done
    python3 - "$title" "$tmp" "$@" <<'PY'
import json, sys
title, tmp, values = sys.argv[1], sys.argv[2], sys.argv[3:]
print()
print("| %s | sprint cycles | dense cycles | dense-stream cycles | vs dense | vs dense-stream | sprint limit | dense limit |" % title)
print("|---|---|---|---|---|---|---|---|")
for v in values:
    jobs = {x["mode"]: x for x in json.load(open("%s/c%s.json" % (tmp, v)))["jobs"]}
    c = {m: jobs[m]["cycles"]["value"] for m in jobs}
    print("| %s | %d | %d | %d | %.2fx | %.2fx | %s | %s |" % (v, c["sprint"], c["dense"],
          c["dense-stream"], c["dense"] / c["sprint"], c["dense-stream"] / c["sprint"],
          jobs["sprint"]["bounds"]["limit"], jobs["dense"]["bounds"]["limit"]))
PY
}
# K and V buffers of one size each (S-SPRINT: 8 + 8 KB)
curve "K = V buffer (B)" "--sprint.sram.k_bytes --sprint.sram.v_bytes" 2048 4096 8192 16384 32768 65536
curve "memory bandwidth (GB/s)" "--dram.bandwidth_gbps" 4.8 9.6 19.2 38.4 76.8 153.6
curve "memory latency (ns)" "--dram.latency_ns" 0 40 80 160 320

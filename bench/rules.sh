#!/bin/sh
# The keep rules side by side (docs/workloads.md, "Threshold rules"): on a sharp and a flat
# synthetic head (4 heads x 512 x 64, sharpness 4 and 1), the paper's per-head threshold and the
# per-query rule relative to the query's largest margin, both calibrated to 90% of the softmax
# mass, and the ADC read-out's top-k with k the head rule's mean kept keys per query (the same
# work, to compare what each spends it on). Every figure from sprint-sim --stats; extra
# arguments go to every run.
set -eu
cd "$(dirname "$0")/.."
. bench/prepare_sim.sh
row() {  # row HEAD RULE FILE
    python3 - "$@" <<'PY'
import json, sys
j = {x["mode"]: x for x in json.load(open(sys.argv[3]))["jobs"]}
s, d = j["sprint"], j["dense"]
f = s["fidelity"]["overall"]
print("| %s | %s | %.3f | %.3f | %.4f | %.2fx | %.2fx |" % (
    sys.argv[1], sys.argv[2], f["keep_fraction"]["value"], f["attention_mass_retained"]["value"],
    f["output_relative_l2_vs_dense_float"]["value"], d["cycles"]["value"] / s["cycles"]["value"],
    d["energy"]["total"]["value"] / s["energy"]["total"]["value"]))
PY
}
echo "| head | rule | keep fraction | mass | output error | speed-up | energy saving |"
echo "|---|---|---|---|---|---|---|"
for sharp in 4 1; do
    name=$([ "$sharp" = 4 ] && echo "sharp (4)" || echo "flat (1)")
    base="--heads 4 --seq-len 512 --sharpness $sharp --keep-mass 0.9"
    ./build/sprint-sim $base "$@" --stats "$tmp/h.json" >/dev/null
    row "$name" "per head (the paper's)" "$tmp/h.json"
    ./build/sprint-sim $base --sprint.comparators.rule query-max "$@" --stats "$tmp/q.json" >/dev/null
    row "$name" "per query, query's max - margin" "$tmp/q.json"
    k=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["jobs"][0]; print(max(1, round(j["kept_keys"]["value"] / j["fidelity"]["overall"]["visible_pairs"]["value"] * 512)))' "$tmp/h.json")
    ./build/sprint-sim --heads 4 --seq-len 512 --sharpness $sharp --sprint.comparators.adc_bits 6 \
        --sprint.comparators.adc_topk "$k" "$@" --stats "$tmp/t.json" >/dev/null
    row "$name" "top-$k of 6-bit ADC codes" "$tmp/t.json"
done

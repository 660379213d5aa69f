#!/bin/sh
# The --stats document against its schema (docs/stats.schema.json, JSON Schema 2020-12, checked
# with Debian's python3-jsonschema): the default run, an AT run with every baseline and the
# protocol checker, a run with the checks skipped and a model run (--model); a document with a
# figure's unit removed, a fidelity figure's description removed or a per-head figure as a bare
# number must fail it, as must a model document whose layer or total loses a unit.
#   stats_schema_test.sh SOURCE_DIR SPRINT_SIM
set -eu
src=$1
sim=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$sim" --stats "$tmp/a.json" >/dev/null
"$sim" --heads 2 --seq-len 64 --timing at --compare all --check-protocol --stats "$tmp/b.json" >/dev/null
"$sim" --heads 2 --seq-len 64 --fidelity=false --verify=false --stats "$tmp/c.json" >/dev/null
printf 'name: m\nlayers:\n  - name: a\n    heads: 2\n    seq-len: 64\n    repeat: 2\n  - name: b\n    heads: 1\n    seq-len: 32\n' >"$tmp/m.yaml"
"$sim" --model "$tmp/m.yaml" --stats "$tmp/d.json" >/dev/null
"$py" - "$src/docs/stats.schema.json" "$tmp/a.json" "$tmp/b.json" "$tmp/c.json" "$tmp/d.json" <<'PY'
import copy, json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
for f in sys.argv[2:]:
    doc = json.load(open(f))
    errors = list(v.iter_errors(doc))
    for e in errors[:5]:
        print("%s: %s: %s" % (f, "/".join(map(str, e.path)), e.message[:300]))
    assert not errors, "%s does not match the schema" % f
    if "layers" in doc:  # a model run
        bad = copy.deepcopy(doc)
        del bad["layers"][0]["stats"]["jobs"][0]["cycles"]["unit"]
        assert list(v.iter_errors(bad)), "a layer's figure without its unit passed the schema"
        bad = copy.deepcopy(doc)
        del bad["totals"]["sprint"]["cycles"]["unit"]
        assert list(v.iter_errors(bad)), "a model total without its unit passed the schema"
        continue
    bad = copy.deepcopy(doc)
    del bad["jobs"][0]["cycles"]["unit"]
    assert list(v.iter_errors(bad)), "a figure without its unit passed the schema"
    bad = copy.deepcopy(doc)
    del bad["jobs"][0]["fidelity"]["per_head"][0]["keep_fraction"]["description"]
    assert list(v.iter_errors(bad)), "a fidelity figure without its description passed the schema"
    bad = copy.deepcopy(doc)
    bad["jobs"][0]["per_head"][0]["cycles"] = 5
    assert list(v.iter_errors(bad)), "a per-head figure as a plain number passed the schema"
    bad = copy.deepcopy(doc)
    bad["config"]["sprint.sram.k_bytes"] = [1]
    assert list(v.iter_errors(bad)), "a config value that is a list passed the schema"
print("stats_schema_test: ok")
PY

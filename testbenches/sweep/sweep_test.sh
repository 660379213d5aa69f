#!/bin/sh
# sprint-sweep, tried as a user would, one aspect per ctest entry:
#   sweep_test.sh SOURCE_DIR SPRINT_SWEEP SPRINT_SIM CASE
# CASE: expand | run | model | failure | grow | resume | merge | report | answers | readonly | slurm. Every check reads the
# results back through sprint-sweep's own export (CSV, JSON lines) and compares with sprint-sim run
# by hand.
set -eu
src=$1
sweep=$2
sim=$3
case_=$4
tmp=$(mktemp -d)
cluster=""
cleanup() {
    [ -n "$cluster" ] && bash "$src/testbenches/sweep/one_node.sh" stop "$cluster" >/dev/null 2>&1
    chmod -R u+w "$tmp" 2>/dev/null || true  # the readonly case's folders
    rm -rf "$tmp"
}
trap cleanup EXIT
py=/usr/bin/python3
[ -x "$py" ] || py=python3
cd "$tmp"
fail() {
    echo "sweep_test $case_: $*" >&2
    [ -f log ] && cat log >&2
    exit 1
}
# csv_col FILE NAME: the column NAME of a CSV, one value per line.
csv_col() {
    "$py" -c 'import csv,sys; [print(r[sys.argv[2]]) for r in csv.DictReader(open(sys.argv[1]))]' "$1" "$2"
}

# A small workload: 2 heads of 64 tokens run in ~50 ms.
cat >small.yaml <<'SPEC'
name: small
base:
  heads: 2
  seq-len: 64
axes:
  sprint.sram.k_bytes, sprint.sram.v_bytes: [1024, 4096]
  dram.preset: [lpddr4, hbm2]
  keep-fraction: {from: 0.1, to: 0.3, step: 0.1}
constraints:
  - not (dram.preset == 'hbm2' and keep-fraction > 0.25)
SPEC

case $case_ in
expand)
    "$sweep" expand small.yaml --list >log 2>&1 || fail "expand failed"
    grep -q "^sweep 'small': 12 points (10 to simulate, 2 do not fit)" log ||
        fail "not 12 points, 2 refused by the constraint"
    grep -q "^5 does-not-fit .*dram.preset=hbm2 keep-fraction=0.3  (constraint 'not" log ||
        fail "the constraint's reason is not recorded"
    grep -q "^0 runnable sprint.sram.k_bytes, sprint.sram.v_bytes=1024 dram.preset=lpddr4 keep-fraction=0.1$" log ||
        fail "the first point (last axis fastest)"
    # log range, the model's own fit check, a workload list
    cat >b.yaml <<'SPEC'
name: b
workloads:
  bert: {workload: bert-base}
  one: {heads: 1, seq-len: 64}
axes:
  sprint.fetcher.max_outstanding: {from: 2, to: 32, num: 5, scale: log, type: int}
  dram.size_mb: [1, 1024]
SPEC
    "$sweep" expand b.yaml --list >log 2>&1 || fail "expand b failed"
    grep -q "^sweep 'b': 20 points (15 to simulate, 5 do not fit)" log || fail "b counts"
    [ "$(grep -c 'does-not-fit .*workload=bert .*(the workload needs [0-9]* MiB of memory but dram.size_mb is 1)' log)" -eq 5 ] ||
        fail "the memory fit check's reason"
    [ "$(grep -o 'max_outstanding=[0-9]*' log | sort -u -t= -k2 -n | tr '\n' ' ')" = \
        "max_outstanding=2 max_outstanding=4 max_outstanding=8 max_outstanding=16 max_outstanding=32 " ] ||
        fail "log range 2..32 in 5 steps"
    # random and Latin-hypercube sampling: seeded (the same list twice), the LHS uses every
    # stratum of a continuous axis once
    cat >c.yaml <<'SPEC'
name: c
axes:
  keep-fraction: {from: 0.0, to: 1.0}
  sharpness: {from: 1, to: 4}
sampling: lhs
samples: 10
seed: 7
SPEC
    "$sweep" expand c.yaml --list >l1 2>&1 && "$sweep" expand c.yaml --list >l2 2>&1 || fail "lhs"
    cmp -s l1 l2 || fail "LHS expansion is not repeatable"
    strata=$(grep -o 'keep-fraction=[0-9.e-]*' l1 | cut -d= -f2 |
        awk '{ s[int($1 * 10)]++ } END { n = 0; for (k in s) if (s[k] == 1) n++; print n }')
    [ "$strata" -eq 10 ] || fail "LHS: $strata of 10 strata used once"
    sed 's/lhs/random/' c.yaml >d.yaml
    "$sweep" expand d.yaml >log 2>&1 && grep -q "10 points" log || fail "random sampling"
    # bad specs: exit 2, naming what is wrong
    printf 'name: e\naxes:\n  sprint.sram.kbytes: [1, 2]\n' >e.yaml
    if "$sweep" expand e.yaml >log 2>&1; then fail "an unknown parameter was accepted"; fi
    grep -q "no option or parameter 'sprint.sram.kbytes' (did you mean 'sprint.sram.k_bytes'" log ||
        fail "unknown name not named, or no suggestion"
    # every bad value is found when the spec is read, each named, with the nearest choice
    printf 'name: v\nbase: {dram.preset: hbm3, heads: 1}\nworkloads:\n  a: {workload: bert-bse}\naxes:\n  sprint.xbar.key_bits: [4, 9]\n' >v.yaml
    status=0
    "$sweep" expand v.yaml >log 2>&1 || status=$?
    [ "$status" -eq 2 ] || fail "bad values: exit status $status, not 2"
    grep -q "refuses 3 values of the spec, so nothing runs" log || fail "not all three bad values found"
    grep -q "base: parameter 'dram.preset': value 'hbm3' is not allowed .*(did you mean 'hbm2'?)" log ||
        fail "the bad preset"
    grep -q "workload 'a': option '--workload': value 'bert-bse' .*(did you mean 'bert-base'?)" log ||
        fail "the bad workload"
    grep -q "axis 'sprint.xbar.key_bits': parameter 'sprint.xbar.key_bits': value '9'" log ||
        fail "the value out of range"
    "$sweep" run v.yaml --db v.db >log 2>&1 && fail "run took bad values"
    [ ! -e v.db ] || fail "run made a database for a refused spec"
    # a constraint on a result is refused, pointing to report --where
    printf 'name: w\nconstraints: ["speedup >= 4"]\n' >w.yaml
    "$sweep" expand w.yaml >log 2>&1 && fail "a constraint on a result was accepted"
    grep -q "'speedup' is a result of the simulation.*report SPEC --where 'speedup >= 4'" log ||
        fail "no pointer to --where for a constraint on a result"
    printf 'name: f\naxes:\n  seq-len: {from: 1, to: 4}\n' >f.yaml
    "$sweep" expand f.yaml >log 2>&1 && fail "a continuous axis on a grid was accepted"
    grep -q "f.yaml:3: axis 'seq-len': grid sampling needs step or num" log || fail "grid range"
    printf 'name: g\nbase: {stats: x.json}\n' >g.yaml
    "$sweep" expand g.yaml >log 2>&1 && fail "a reserved option was accepted"
    grep -q "option 'stats' is set by the sweep itself" log || fail "reserved option"
    printf 'name: h\nconstraints: ["seq-len >"]\n' >h.yaml
    "$sweep" expand h.yaml >log 2>&1 && fail "a bad constraint was accepted"
    grep -q "expected a number" log || fail "constraint syntax"
    ;;
model)
    # A workload that names a model file (relative to the spec): every layer checked and run, the
    # point's figures the model's totals; a memory too small for a layer is "does not fit".
    mkdir -p models
    printf 'name: mini\nlayers:\n  - name: a\n    heads: 2\n    seq-len: 64\n    repeat: 2\n  - name: b\n    heads: 16\n    seq-len: 512\n    causal: true\n' >models/mini.yaml
    cat >ms.yaml <<'SPEC'
name: ms
workloads:
  mini: {model: models/mini.yaml}
axes:
  keep-fraction: [0.1, 0.2]
  dram.size_mb: [1024, 1]
SPEC
    "$sweep" run ms.yaml --workers 2 >log 2>&1 || fail "run failed"
    grep -q "this run: ok 2, failed 0, does not fit 2; pending 0" log || fail "summary"
    "$sweep" export ms.yaml --jsonl out.jsonl >log 2>&1 || fail "export"
    "$sim" --model models/mini.yaml --keep-fraction 0.2 --stats m.json >/dev/null || fail "sprint-sim --model"
    "$py" - <<'PY' || fail "the point's figures are not the model's totals"
import json
rows = [json.loads(l) for l in open("out.jsonl")]
misfit = [r for r in rows if r["status"] == "does-not-fit"]
assert len(misfit) == 2 and all("layer 'b'" in r["message"] for r in misfit), misfit
row = [r for r in rows if r["status"] == "ok" and r["axes"]["keep-fraction"] == 0.2][0]
t = json.load(open("m.json"))["totals"]
f = row["figures"]
assert f["cycles"] == t["sprint"]["cycles"]["value"], (f["cycles"], t["sprint"]["cycles"])
assert f["energy_uj"] == t["sprint"]["energy_uj"]["value"]
assert f["baseline_cycles"] == t["dense"]["cycles"]["value"]
assert abs(f["speedup"] - t["dense"]["cycles"]["value"] / t["sprint"]["cycles"]["value"]) < 1e-12
assert f["mass_retained"] == t["sprint"]["mass_retained"]["value"]
assert f["bit_exact"] == 1
PY
    ;;
run)
    "$sweep" run small.yaml --workers 2 >log 2>&1 || fail "run failed"
    grep -q "this run: ok 10, failed 0, does not fit 2; pending 0" log || fail "summary"
    "$sweep" export small.yaml --csv out.csv --jsonl out.jsonl >log 2>&1 || fail "export"
    [ "$(wc -l <out.csv)" -eq 13 ] || fail "CSV: not a header and 12 rows"
    head -1 out.csv | grep -q '^id,workload,status,message,sprint.sram.k_bytes,sprint.sram.v_bytes,dram.preset,keep-fraction,cycles,time_us,energy_uj,' ||
        fail "CSV header"
    [ "$(csv_col out.csv status | sort | uniq -c | awk '{ printf "%s %s;", $1, $2 }')" = "2 does-not-fit;10 ok;" ] ||
        fail "statuses"
    # every point's figures are its simulation's: point 7 (4096 B, lpddr4, 0.2) by hand
    "$sim" --heads 2 --seq-len 64 --sprint.sram.k_bytes 4096 --sprint.sram.v_bytes 4096 \
        --dram.preset lpddr4 --keep-fraction 0.2 --stats p7.json >/dev/null || fail "sprint-sim"
    "$py" - <<'PY' || fail "figures differ from sprint-sim's own run"
import json
row = [json.loads(l) for l in open("out.jsonl")][7]
assert row["axes"] == {"sprint.sram.k_bytes": 4096, "sprint.sram.v_bytes": 4096,
                       "dram.preset": "lpddr4", "keep-fraction": 0.2}, row["axes"]
s = json.load(open("p7.json"))
job, base = s["jobs"][0], s["jobs"][1]
f = row["figures"]
assert f["cycles"] == job["cycles"]["value"]
assert f["energy_uj"] == job["energy"]["total"]["value"]
assert f["mass_retained"] == job["fidelity"]["overall"]["attention_mass_retained"]["value"]
assert f["energy_dram_uj"] == job["energy"]["per_block"]["dram"]["value"]
assert f["bound_limit"] == job["bounds"]["limit"]
assert abs(f["speedup"] - base["cycles"]["value"] / job["cycles"]["value"]) < 1e-12
assert row["version"] and row["git_commit"] and row["host"] and row["finished"]
assert "sprint.sram.k_bytes" in row["config"] or "k_bytes = 4096" in row["config"]
PY
    # the stored configuration runs the same point again
    "$sweep" config small.yaml --id 7 >p7.ini || fail "config"
    "$sim" --config p7.ini --stats again.json >/dev/null || fail "sprint-sim --config of the stored point"
    "$py" -c 'import json,sys; a,b=(json.load(open(f))["jobs"][0]["cycles"]["value"] for f in ("p7.json","again.json")); sys.exit(a!=b)' ||
        fail "the stored configuration does not give the same cycles"
    # a second run has nothing to do
    "$sweep" run small.yaml >log 2>&1 || fail "second run"
    grep -q "12 finished before, this run: ok 0, failed 0, does not fit 0; pending 0" log ||
        fail "a finished sweep ran again"
    ;;
failure)
    # A simulator that fails for one point (as a crash or a failed job would): recorded as
    # failed with the message; the rest run. A value sprint-sim refuses stops the spec first.
    cat >bad-sim <<EOF2
#!/bin/sh
case " \$* " in *keep-fraction=0.2*) echo "sprint-sim: error: injected failure" >&2; exit 1 ;; esac
exec "$sim" "\$@"
EOF2
    chmod +x bad-sim
    cat >fail.yaml <<'SPEC'
name: fail
base: {heads: 1, seq-len: 32}
axes:
  keep-fraction: [0.1, 0.2, 0.3]
  sprint.sram.k_bytes: [8, 2048]
SPEC
    status=0
    "$sweep" run fail.yaml --sim ./bad-sim --workers 2 >log 2>&1 || status=$?
    [ "$status" -eq 2 ] || fail "exit status $status, not 2, with a refused value"
    grep -q "parameter 'sprint.sram.k_bytes': value '8' is not allowed (allowed: integer 16" log ||
        fail "the refused value is not named"
    [ ! -e fail.db ] || fail "a database was made for a refused spec"
    sed -i 's/\[8, 2048\]/[1024, 2048]/' fail.yaml
    status=0
    "$sweep" run fail.yaml --sim ./bad-sim --workers 2 >log 2>&1 || status=$?
    [ "$status" -eq 1 ] || fail "exit status $status, not 1, with failed points"
    grep -q "this run: ok 4, failed 2, does not fit 0; pending 0" log || fail "summary"
    "$sweep" export fail.yaml --csv out.csv >/dev/null || fail "export"
    grep -q '^2,default,failed,sprint-sim exited with status 1: sprint-sim: error: injected failure,0.2,1024' out.csv ||
        fail "no message for point 2"
    grep -q "^3,default,failed,sprint-sim exited with status 1: sprint-sim: error: injected failure,0.2,2048," out.csv ||
        fail "the injected failure is not recorded"
    [ "$(grep -c ',ok,' out.csv)" -eq 4 ] || fail "the other points did not run"
    # a point that hangs is killed at --timeout and recorded; the others finish
    cat >hang-sim <<EOF2
#!/bin/sh
case " \$* " in *keep-fraction=0.3*) exec sleep 60 ;; esac
exec "$sim" "\$@"
EOF2
    chmod +x hang-sim
    "$sweep" run fail.yaml --db hang.db --sim ./hang-sim --timeout 2 --quiet >log 2>&1 && fail "a hung point passed"
    grep -q "this run: ok 4, failed 2, does not fit 0; pending 0" log || fail "timeout summary"
    "$sweep" export --db hang.db --csv hang.csv >/dev/null || fail "export"
    grep -q '^5,default,failed,timed out: killed after the --timeout of 2 s,0.3,2048' hang.csv ||
        fail "the hung point is not recorded as timed out"
    # --retry-failed runs them again (with the real simulator both pass)
    "$sweep" run fail.yaml --sim "$sim" --retry-failed >log 2>&1 || fail "retry"
    grep -q "4 finished before, this run: ok 2, failed 0, does not fit 0; pending 0" log ||
        fail "--retry-failed did not run the 2 failed points again"
    ;;
grow)
    # A spec that grows: an axis extended, a default written out, a workload added. Each run
    # simulates only the new points into the same database; the finished ones stay as they were.
    cat >log-sim <<EOF2
#!/bin/sh
case "\$*" in --version) ;; *) echo "\$*" >>$tmp/starts ;; esac
exec "$sim" "\$@"
EOF2
    chmod +x log-sim
    printf 'name: g\nbase: {heads: 1, seq-len: 32}\naxes:\n  keep-fraction: [0.1, 0.2]\n' >g.yaml
    "$sweep" run g.yaml --sim ./log-sim --quiet >log 2>&1 || fail "first run"
    "$sweep" export g.yaml --jsonl first.jsonl >/dev/null || fail "export"
    [ "$(wc -l <starts)" -eq 2 ] || fail "the first run did not simulate 2 points"
    # the last axis value added, and timing: lt (the default) written out
    printf 'name: g\nbase: {heads: 1, seq-len: 32, timing: lt}\naxes:\n  keep-fraction: [0.1, 0.2, 0.3]\n' >g.yaml
    "$sweep" run g.yaml --sim ./log-sim >log 2>&1 || fail "grown run"
    grep -q "the spec of 'g' changed since" log || fail "the edit is not reported"
    grep -q "3 points in g.db; 2 finished before, this run: ok 1," log || fail "grown run: not only the new point"
    [ "$(wc -l <starts)" -eq 3 ] || fail "the grown run simulated $(($(wc -l <starts) - 2)) points, not 1"
    grep -q "keep-fraction=0.3" starts || fail "the new point is not the one simulated"
    # a second workload: its points run, the first workload's (same settings) do not
    printf 'name: g\nbase: {heads: 1, timing: lt}\nworkloads:\n  short: {seq-len: 32}\n  long: {seq-len: 48}\naxes:\n  keep-fraction: [0.1, 0.2, 0.3]\n' >g.yaml
    "$sweep" run g.yaml --sim ./log-sim --quiet >log 2>&1 || fail "second growth"
    grep -q "6 points in g.db; 3 finished before, this run: ok 3," log || fail "second growth: not 3 new points"
    [ "$(grep -c 'seq-len=48' starts)" -eq 3 ] && [ "$(wc -l <starts)" -eq 6 ] || fail "second growth ran old points"
    "$sweep" export g.yaml --jsonl grown.jsonl >/dev/null || fail "export"
    "$py" - <<'PY' || fail "a finished point changed when the spec grew"
import json
first = {r["id"]: r for r in map(json.loads, open("first.jsonl"))}
grown = {r["id"]: r for r in map(json.loads, open("grown.jsonl"))}
assert len(grown) == 6, len(grown)
for i, r in first.items():
    g = grown[i]
    assert g["figures"] == r["figures"] and g["finished"] == r["finished"], i
    assert g["workload"] == "short", g["workload"]  # renamed to the spec's name for it
assert sorted(r["workload"] for r in grown.values()) == ["long"] * 3 + ["short"] * 3
PY
    # another simulator: reported, and the user chooses
    cat >new-sim <<EOF2
#!/bin/sh
case "\$*" in --version) echo "sprint-sim 9.9.9 (git fffffff)"; exit 0 ;; esac
echo "\$*" >>$tmp/starts
exec "$sim" "\$@"
EOF2
    chmod +x new-sim
    status=0
    "$sweep" run g.yaml --sim ./new-sim --quiet >log 2>&1 || status=$?
    [ "$status" -eq 2 ] || fail "a simulator change was not refused (status $status)"
    grep -q "6 finished points of this spec were run by another sprint-sim .* --changed rerun .* --changed keep .* --db NEW.db" log ||
        fail "the simulator change is not explained with the choices"
    [ "$(wc -l <starts)" -eq 6 ] || fail "something ran before the choice"
    "$sweep" run g.yaml --sim ./new-sim --changed keep --quiet >log 2>&1 || fail "--changed keep"
    [ "$(wc -l <starts)" -eq 6 ] || fail "--changed keep ran points"
    "$sweep" run g.yaml --sim ./new-sim --changed rerun --quiet >log 2>&1 || fail "--changed rerun"
    grep -q "this run: ok 6," log && [ "$(wc -l <starts)" -eq 12 ] || fail "--changed rerun did not run all 6"
    ;;
resume)
    # A slow simulator that logs every point it starts; the sweep is killed (SIGKILL, no
    # chance to clean up) halfway, then run again.
    cat >slow-sim <<EOF2
#!/bin/sh
case "\$*" in --version) ;; *) echo "\$*" >>$tmp/starts ;; esac
sleep 0.3
exec "$sim" "\$@"
EOF2
    chmod +x slow-sim
    "$sweep" run small.yaml --sim ./slow-sim --workers 2 --quiet >log 2>&1 &
    pid=$!
    i=0
    while :; do
        i=$((i + 1))
        [ $i -lt 300 ] || fail "no point finished in 30 s"
        sleep 0.1
        n=$("$sweep" export small.yaml --csv - 2>/dev/null | grep -c ',ok,') || true
        [ "$n" -ge 3 ] && break
    done
    kill -9 $pid
    wait $pid 2>/dev/null || true
    sleep 0.5
    pgrep -f "$tmp/slow-sim" >/dev/null && fail "workers outlived the killed sweep"
    "$sweep" export small.yaml --jsonl before.jsonl >/dev/null || fail "export after the kill"
    done_before=$(grep -c '"status":"ok"' before.jsonl)
    [ "$done_before" -lt 10 ] || fail "the sweep finished before the kill; nothing to resume"
    starts_before=$(wc -l <starts)
    "$sweep" run small.yaml --sim ./slow-sim --workers 2 --quiet >log 2>&1 || fail "resume failed"
    grep -q "this run: ok $((10 - done_before)), failed 0" log || fail "resume did not run only the rest"
    [ $(($(wc -l <starts) - starts_before)) -eq $((10 - done_before)) ] ||
        fail "the resumed run started $(($(wc -l <starts) - starts_before)) points, not $((10 - done_before))"
    "$sweep" export small.yaml --jsonl after.jsonl >/dev/null || fail "export"
    "$py" - <<'PY' || fail "a point finished before the kill changed"
import json
before = {json.loads(l)["id"]: json.loads(l) for l in open("before.jsonl")}
after = {json.loads(l)["id"]: json.loads(l) for l in open("after.jsonl")}
assert len(after) == 12 and all(r["status"] != "pending" for r in after.values())
for i, r in before.items():
    if r["status"] == "ok":
        assert after[i] == r, i
PY
    ;;
merge)
    # Two shards into their own databases, merged: the same as one local run.
    "$sweep" run small.yaml --db all.db --quiet >/dev/null || fail "full run"
    "$sweep" run small.yaml --db s0.db --shard 0/2 --quiet >log || fail "shard 0"
    grep -q "^sweep 'small': 6 points" log || fail "shard 0 holds not 6 points"
    "$sweep" run small.yaml --db s1.db --shard 1/2 --quiet >/dev/null || fail "shard 1"
    "$sweep" merge --db merged.db s0.db s1.db >log || fail "merge"
    grep -q "merged 12 points from 2 databases" log || fail "merge count"
    "$sweep" export --db all.db --csv all.csv && "$sweep" export --db merged.db --csv merged.csv || fail "export"
    for c in id status cycles energy_uj mass_retained; do
        [ "$(csv_col all.csv $c)" = "$(csv_col merged.csv $c)" ] || fail "column $c differs after the merge"
    done
    "$sweep" merge --db merged.db s0.db >log || fail "merging again"
    grep -q "merged 0 points" log || fail "a second merge copied points again"
    printf 'name: other\n' >other.yaml
    "$sweep" run other.yaml --db o.db --quiet >/dev/null || fail "other run"
    "$sweep" merge --db merged.db o.db >log 2>&1 && fail "a database of another spec was merged"
    grep -q "holds sweep 'other'" log || fail "no message for the wrong spec"
    "$sweep" run other.yaml --db merged.db >log 2>&1 && fail "a database of another spec was used"
    grep -q "holds sweep 'small'" log || fail "no message for the wrong database"
    ;;
report)
    "$sweep" run small.yaml --quiet >/dev/null || fail "run"
    "$sweep" report small.yaml --where 'mass >= 0.5 and sprint.sram.k_bytes <= 1024' --minimise energy >log ||
        fail "report"
    grep -q "5 ok points meet mass >= 0.5 and sprint.sram.k_bytes <= 1024" log || fail "where count"
    best=$(sed -n 's/.*: point \([0-9]*\)$/\1/p' log)
    "$sweep" export small.yaml --csv out.csv >/dev/null
    expect=$("$py" - <<'PY'
import csv
rows = [r for r in csv.DictReader(open("out.csv")) if r["status"] == "ok"
        and float(r["mass_retained"]) >= 0.5 and r["sprint.sram.k_bytes"] == "1024"]
print(min(rows, key=lambda r: float(r["energy_uj"]))["id"])
PY
)
    [ "$best" = "$expect" ] || fail "best point $best, the CSV says $expect"
    "$sweep" report small.yaml --pareto time,energy >log || fail "pareto"
    front=$(sed -n 's/.*: \([0-9]*\) of 10 points$/\1/p' log)
    expect=$("$py" - <<'PY'
import csv
p = [(float(r["time_us"]), float(r["energy_uj"])) for r in csv.DictReader(open("out.csv")) if r["status"] == "ok"]
print(sum(1 for a in p if not any(b[0] <= a[0] and b[1] <= a[1] and b != a for b in p)))
PY
)
    [ "$front" = "$expect" ] || fail "front of $front points, the CSV gives $expect"
    "$sweep" report small.yaml --where 'mass > 2' --minimise energy >log && fail "an empty answer succeeded"
    grep -q "no ok point meets the constraint" log || fail "empty answer not said"
    "$sweep" report small.yaml --minimise nosuch >log 2>&1 && fail "an unknown figure was accepted"
    grep -q "'nosuch' is not a figure" log || fail "unknown figure not named"
    "$sweep" plot small.yaml --out plots >log 2>&1 || fail "plot"
    for f in pareto axis-dram.preset axis-keep-fraction energy_breakdown; do
        [ "$(head -c 4 "plots/$f.png" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "$f.png"
    done
    ls plots | grep -q '^\.sweep' && fail "the plot left its CSV behind"
    [ "$(umask 022; "$sweep" plot small.yaml --out plots2 >/dev/null 2>&1; stat -c %a plots2/pareto.png)" = 644 ] ||
        fail "a plot is not written with the umask's mode"
    "$sweep" plot small.yaml --out plots3 --where 'keep-fraction <= 0.1' >log 2>&1 || fail "plot --where"
    [ -f plots3/axis-sprint.sram.k_bytes.png ] || fail "plot --where: no axis plot"
    "$sweep" plot small.yaml --out plots4 --where 'mass > 2' >log 2>&1 && fail "plot of no point succeeded"
    grep -q "no ok point meets --where mass > 2" log || fail "plot --where with no point not said"
    # American spelling; the rerun hint names the tools by path
    "$sweep" report small.yaml --minimize energy >us.log || fail "--minimize"
    "$sweep" report small.yaml --minimise energy >uk.log || fail "--minimise"
    cmp -s us.log uk.log || fail "--minimize and --minimise differ"
    grep -q "to rerun it: /[^ ]*sprint-sweep config --db .* && /[^ ]*sprint-sim --config point.ini" uk.log ||
        fail "the rerun hint does not name the tools by path"
    # results load as a table: a paired axis as one column per option; typed values
    head -1 out.csv | grep -q "^id,workload,status,message,sprint.sram.k_bytes,sprint.sram.v_bytes,dram.preset,keep-fraction," ||
        fail "export columns: $(head -1 out.csv | cut -c1-120)"
    "$sweep" export small.yaml --jsonl out.jsonl >/dev/null || fail "jsonl"
    "$py" - <<'PY' || fail "the results view or the JSON lines are not typed"
import json, sqlite3
db = sqlite3.connect("small.db")
cur = db.execute('SELECT * FROM results WHERE status = "ok" ORDER BY id')
cols = [d[0] for d in cur.description]
rows = [dict(zip(cols, r)) for r in cur]
assert len(rows) == 10, len(rows)
assert cols[:8] == ["id", "workload", "status", "message", "sprint.sram.k_bytes",
                    "sprint.sram.v_bytes", "dram.preset", "keep-fraction"], cols[:8]
r = rows[0]
assert isinstance(r["sprint.sram.k_bytes"], int) and isinstance(r["keep-fraction"], float), r
assert isinstance(r["dram.preset"], str) and isinstance(r["cycles"], float), r
assert isinstance(r["bound_limit"], str), r["bound_limit"]
lines = [json.loads(l) for l in open("out.jsonl")]
assert lines[0]["axes"]["sprint.sram.k_bytes"] == 1024 and lines[0]["axes"]["keep-fraction"] == 0.1
figs = {(x["id"], x["figures"]["cycles"]) for x in lines if x["status"] == "ok"}
assert figs == {(x["id"], x["cycles"]) for x in rows}
PY
    ;;
answers)
    # Two workloads: answers per workload by default, all together with --pooled, and the best
    # configuration for both (worst case and geometric mean), checked against the CSV.
    cat >two.yaml <<'SPEC'
name: two
workloads:
  a: {heads: 1, seq-len: 48}
  b: {heads: 2, seq-len: 64}
axes:
  keep-mass: [0.8, 0.9]
  dram.preset: [lpddr4, hbm2]
SPEC
    "$sweep" run two.yaml --quiet >/dev/null || fail "run"
    "$sweep" export two.yaml --csv two.csv >/dev/null || fail "export"
    "$sweep" report two.yaml --where 'mass >= 0.85' --minimise energy >log || fail "report"
    [ "$(grep -c "^== workload '[ab]': 2 ok points meet the constraint" log)" -eq 2 ] ||
        fail "not one answer per workload"
    grep -q "note: mass_retained is held by threshold calibration on 8 of 8 ok points (keep-mass 0.8, keep-mass 0.9)" log ||
        fail "the calibrated figure is not called an input"
    grep -q "^  \* held by threshold calibration" log && grep -q "0\.9[0-9]*\* " log ||
        fail "calibrated values are not marked"
    "$sweep" report two.yaml --pooled >log || fail "--pooled"
    grep -q "== workload" log && fail "--pooled still answered per workload"
    grep -q "Pareto front (min time_us, min energy_uj): [0-9]* of 8 points" log || fail "--pooled front"
    for how in worst geomean; do
        "$sweep" report two.yaml --where 'mass >= 0.85' --minimise energy --robust $how >log ||
            fail "--robust $how"
        got=$(sed -n '/^robust best configuration/{n;n;p;}' log | awk '{ print $1, $2 }')
        expect=$("$py" - "$how" <<'PY'
import csv, math, sys
rows = [r for r in csv.DictReader(open("two.csv")) if r["status"] == "ok" and float(r["mass_retained"]) >= 0.85]
by = {}
for r in rows:
    by.setdefault((r["keep-mass"], r["dram.preset"]), {})[r["workload"]] = float(r["energy_uj"])
score = {k: (max(v.values()) if sys.argv[1] == "worst" else math.exp(sum(map(math.log, v.values())) / 2))
         for k, v in by.items() if len(v) == 2}
best = min(score, key=score.get)
print(best[0], best[1])
PY
)
        [ "$got" = "$expect" ] || fail "--robust $how gives '$got', the CSV '$expect'"
    done
    "$sweep" report two.yaml --where "workload == 'a'" --minimise energy >log ||
        fail "a question about one workload failed for the other"
    grep -q "^== workload 'b': 0 ok points meet the constraint" log || fail "the other workload not said"
    "$sweep" report two.yaml --where "workload == 'a'" --minimise energy --robust worst >log &&
        fail "an empty robust answer succeeded"
    grep -q "no configuration has an ok point meeting the constraint on every workload" log || fail "empty robust answer"
    # every plot tells the workloads apart (sweep_plot.py --describe names panels, rows, groups)
    "$py" "$src/scripts/sweep_plot.py" two.csv two-plots --axes 'keep-mass|dram.preset' --axes-sep '|' \
        --title two --describe >log 2>&1 || fail "two-workload plot"
    grep -q '^pareto.png: panels by workload: a (front [0-9]* of 4), b (front [0-9]* of 4)' log ||
        fail "pareto.png: no panel per workload"
    grep -q '^axis-keep-mass.png: rows by workload: a, b;' log || fail "axis plot: no row per workload"
    grep -q '^energy_breakdown.png: groups by workload: a (4 bars), b (4 bars)$' log ||
        fail "energy breakdown: not grouped by workload"
    "$sweep" report two.yaml --robust worst >log 2>&1 && fail "--robust without an objective"
    grep -q "give one" log || fail "--robust without an objective not explained"
    ;;
readonly)
    # A finished sweep archived read-only: neither the database nor its folder may be written.
    # The reading commands work on it as it is, creating nothing; the writing ones refuse it,
    # naming the file. Root ignores file permissions, so as root every command on it runs as an
    # unprivileged user (setpriv, else runuser, to nobody); skipped only when neither works.
    printf 'name: tiny\nbase: {heads: 1, seq-len: 32}\naxes:\n  keep-fraction: [0.1, 0.3]\n' >tiny.yaml
    mkdir ro out
    "$sweep" run tiny.yaml --db ro/tiny.db --quiet >log 2>&1 || fail "run"
    "$sweep" export --db ro/tiny.db --csv before.csv >log 2>&1 || fail "export"
    as=""
    if [ "$(id -u)" -eq 0 ]; then
        uid=$(id -u nobody 2>/dev/null) && gid=$(id -g nobody) || { echo "no user nobody"; exit 77; }
        if setpriv --reuid="$uid" --regid="$gid" --clear-groups true 2>/dev/null; then
            as="setpriv --reuid=$uid --regid=$gid --clear-groups"
        elif runuser -u nobody -- true 2>/dev/null; then
            as="runuser -u nobody --"
        else
            echo "cannot run a command as an unprivileged user (setpriv, runuser)"
            exit 77
        fi
        chmod 755 "$tmp"
        chmod 777 out
        $as test -x "$sweep" -a -x "$sim" || { echo "nobody cannot run $sweep"; exit 77; }
    fi
    chmod a-w ro/tiny.db ro
    if $as sh -c ': >ro/probe' 2>/dev/null; then echo "a read-only folder is writable here"; exit 77; fi
    files=$(ls -A ro)
    $as "$sweep" status --db ro/tiny.db >log 2>&1 || fail "status on a read-only database"
    grep -q "^sweep 'tiny' in ro/tiny.db: 2 points: ok 2, failed 0" log || fail "status counts"
    $as "$sweep" report --db ro/tiny.db --minimise energy >log 2>&1 || fail "report on a read-only database"
    grep -q "^sweep 'tiny' in ro/tiny.db: 2 points: ok 2" log || fail "report counts"
    $as "$sweep" export --db ro/tiny.db --csv out/after.csv >log 2>&1 || fail "export of a read-only database"
    cmp -s before.csv out/after.csv || fail "the read-only export differs"
    $as "$sweep" config --db ro/tiny.db --id 1 >log 2>&1 || fail "config of a read-only database"
    grep -q "keep-fraction" log || fail "config: no configuration"
    $as "$sweep" merge --db out/copy.db ro/tiny.db >log 2>&1 || fail "merging a read-only database"
    grep -q "merged 2 points from 1 databases" log || fail "merge count"
    [ "$(ls -A ro)" = "$files" ] || fail "reading left files in the read-only folder: $(ls -A ro)"
    # the commands that write refuse it, naming the file
    $as "$sweep" run tiny.yaml --db ro/tiny.db --quiet >log 2>&1 && fail "run wrote to a read-only database"
    grep -q "results database 'ro/tiny.db' is read-only" log || fail "run: no clear message"
    $as "$sweep" merge --db ro/tiny.db out/copy.db >log 2>&1 && fail "merge wrote to a read-only database"
    grep -q "results database 'ro/tiny.db' is read-only" log || fail "merge: no clear message"
    $as "$sweep" run tiny.yaml --db ro/new.db --quiet >log 2>&1 && fail "run created a database in a read-only folder"
    grep -q "results database 'ro/new.db' cannot be written: folder 'ro'" log || fail "run: no message for the folder"
    # A sweep stopped before it closed the file leaves commits in its -wal (and the -shm index):
    # read-only, they are read too. Without the -shm in a read-only folder SQLite cannot read
    # the log: refused with what to do, rather than reading without those commits.
    mkdir wal
    cp ro/tiny.db wal/tiny.db
    chmod u+w wal/tiny.db
    "$py" - <<'PY' || fail "writing a -wal"
import os, sqlite3
c = sqlite3.connect("wal/tiny.db")
c.execute("UPDATE points SET message = 'only in the log' WHERE id = 1")
c.commit()
os._exit(0)  # no close: the commit stays in wal/tiny.db-wal
PY
    [ -s wal/tiny.db-wal ] && [ -f wal/tiny.db-shm ] || fail "no -wal left behind"
    chmod a-w wal wal/*
    $as "$sweep" export --db wal/tiny.db --csv - >log 2>&1 || fail "export with a -wal"
    grep -q "^1,default,ok,only in the log," log || fail "the commit in the -wal was not read"
    chmod u+w wal && rm wal/tiny.db-shm && chmod a-w wal
    $as "$sweep" status --db wal/tiny.db >log 2>&1 && fail "a -wal without its -shm was read"
    grep -q "its write-ahead log 'wal/tiny.db-wal' may hold results not yet in the database" log ||
        fail "no clear message for a -wal without -shm"
    chmod -R u+w ro wal
    ;;
slurm)
    cluster=$tmp/cluster
    rc=0
    bash "$src/testbenches/sweep/one_node.sh" start "$cluster" >log 2>&1 || rc=$?
    [ $rc -eq 77 ] && { cat log; exit 77; }
    [ $rc -eq 0 ] || fail "the one-node cluster did not start"
    . "$cluster/env"
    export SLURM_CONF
    "$sweep" run small.yaml --db local.db --quiet >/dev/null || fail "local run"
    "$sweep" slurm small.yaml --db cluster.db --tasks 3 --partition debug --time 10 \
        --sbatch=--mem=0 --submit --wait >log 2>&1 || fail "slurm run"
    grep -q "3 of 3 task databases merged (12 points) into $tmp/cluster.db; 0 points pending" log ||
        fail "not every task's points came back"
    grep -q '^#SBATCH --array=0-2$' cluster.db.slurm/sweep.sbatch || fail "the batch script's array"
    grep -q '^#SBATCH --partition=debug$' cluster.db.slurm/sweep.sbatch || fail "the partition"
    grep -q -- '--shard "$task"/3' cluster.db.slurm/sweep.sbatch || fail "the shard"
    "$sweep" export --db local.db --csv l.csv && "$sweep" export --db cluster.db --csv c.csv || fail "export"
    for c in id status cycles energy_uj; do
        [ "$(csv_col l.csv $c)" = "$(csv_col c.csv $c)" ] || fail "column $c differs between local and Slurm"
    done
    ;;
*)
    echo "usage: $0 SOURCE_DIR SPRINT_SWEEP SPRINT_SIM expand|run|failure|resume|merge|report|readonly|slurm" >&2
    exit 2
    ;;
esac
echo "sweep_test $case_: ok"

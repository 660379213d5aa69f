#!/bin/sh
# Every tool writes a device, a FIFO and a symbolic link as the user named them, and never over a
# file it reads: output_paths_test.sh SPRINT_SIM SPRINT_SWEEP
#   - a character device (mknod in a temporary folder, never the system's): written in place; a
#     full one (1,7 as /dev/full) fails the run naming the file, and the node stays a device;
#   - a FIFO: written in place for the reader on the other end; it stays a FIFO;
#   - a symbolic link: the file it names is written; the link stays a link;
#   - an input of the run (sprint-sim's --q/--k/--config, sprint-sweep's database): refused, the
#     input unchanged.
# Device nodes need root (mknod); elsewhere that part is skipped, the rest runs.
set -eu
sim=$1
sweep=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() {
    echo "output_paths_test: $*" >&2
    [ -f err ] && cat err >&2
    exit 1
}
devices=no
if mknod full c 1 7 2>/dev/null && mknod null c 1 3 2>/dev/null; then devices=yes; fi
[ $devices = yes ] || echo "output_paths_test: not root: device nodes skipped" >&2

# A workload from files: the inputs an output must never overwrite.
for n in q k v; do
    "$sim" --heads 1 --seq-len 32 --head-dim 16 --seed ${#n}7 --compare=false --quiet \
        --output $n.npy >/dev/null || fail "making $n.npy"
done
printf 'heads = 1\n' >run.ini
run_sim() {  # run_sim OPTION FILE: one sprint-sim run writing FILE through OPTION
    "$sim" --config run.ini --q q.npy --k k.npy --v v.npy --compare=false --quiet "$1" "$2" \
        >/dev/null 2>err
}
# check_target TOOL OPTION RUN: the five kinds of destination through `RUN OPTION FILE`.
check_target() {
    tool=$1 opt=$2 runner=$3
    if [ $devices = yes ]; then
        if $runner "$opt" full; then fail "$tool $opt to a full device exited 0"; fi
        grep -q "No space left on device" err || fail "$tool $opt: the full disk is not named"
        [ -c full ] || fail "$tool $opt replaced the device node 'full'"
        $runner "$opt" null || fail "$tool $opt to a null device failed"
        [ -c null ] || fail "$tool $opt replaced the device node 'null'"
    fi
    rm -f fifo got && mkfifo fifo
    cat fifo >got &
    reader=$!
    $runner "$opt" fifo || fail "$tool $opt to a FIFO failed"
    wait $reader
    [ -p fifo ] || fail "$tool $opt replaced the FIFO"
    [ -s got ] || fail "$tool $opt: the FIFO's reader got nothing"
    rm -f target link && ln -s target link
    $runner "$opt" link || fail "$tool $opt to a symbolic link failed"
    [ -L link ] || fail "$tool $opt replaced the symbolic link with a file"
    [ -f target ] && [ -s target ] || fail "$tool $opt: the link's target was not written"
}
for opt in --stats --output --per-query --trace-tlm --dump-config; do
    check_target sprint-sim $opt run_sim
done
# Inputs: the run's own files, by name, through a link and through a hard link.
cp q.npy q.orig
cp run.ini run.orig
ln -s q.npy q.link
ln q.npy q.hard
for case_ in "--output q.npy" "--stats k.npy" "--per-query q.link" "--output q.hard" \
    "--dump-config run.ini"; do
    # shellcheck disable=SC2086
    if run_sim $case_; then fail "sprint-sim $case_ overwrote an input (exit 0)"; fi
    grep -q "an output may not overwrite a file the run reads" err ||
        fail "sprint-sim $case_: the refusal does not say why"
done
cmp -s q.npy q.orig && cmp -s run.ini run.orig || fail "sprint-sim changed an input"

# sprint-sweep: export --csv and --jsonl.
cat >tiny.yaml <<'SPEC'
name: tiny
base:
  heads: 1
  seq-len: 32
  head-dim: 16
  compare: "false"
axes:
  keep-fraction: [0.1, 0.2]
SPEC
"$sweep" run tiny.yaml --sim "$sim" --db tiny.db >err 2>&1 || fail "the sweep did not run"
run_export() {  # run_export --csv|--jsonl FILE
    "$sweep" export --db tiny.db "$1" "$2" >/dev/null 2>err
}
for opt in --csv --jsonl; do
    check_target sprint-sweep $opt run_export
done
cp tiny.db tiny.orig
ln -s tiny.db db.link
for case_ in "--csv tiny.db" "--jsonl db.link"; do
    # shellcheck disable=SC2086
    if run_export $case_; then fail "sprint-sweep export $case_ overwrote its database (exit 0)"; fi
    grep -q "an output may not overwrite a file the run reads" err ||
        fail "sprint-sweep export $case_: the refusal does not say why"
done
cmp -s tiny.db tiny.orig || fail "sprint-sweep export changed its database"
echo "output_paths_test: every tool wrote devices, FIFOs and links in place and refused its inputs"

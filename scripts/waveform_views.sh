#!/bin/sh
# Pictures of the two GTKWave views on a real run, as docs/waveforms/ shows them:
#   1. sprint-sim on the default workload, SPRINT job only, head 0 traced (--vcd-heads 0);
#   2. GTKWave opens it with waveforms/overview.gtkw and waveforms/memory.gtkw on a virtual X
#      display (Xvfb), and each window is captured (xwd, converted with netpbm) as a PNG.
# Usage: ./scripts/waveform_views.sh [OUT_DIR]   (default docs/waveforms)
# Installs gtkwave, xvfb, x11-apps and netpbm from Debian when missing.
set -eu
cd "$(dirname "$0")/.."
out=${1:-docs/waveforms}
./scripts/deps.sh gtkwave xvfb x11-apps netpbm
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sprint-views-XXXXXX")
xpid=""
cleanup() {
    [ -n "$xpid" ] && kill "$xpid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
./scripts/run.sh --compare=false --vcd-heads 0 --vcd "$tmp/run.vcd" --quiet >"$tmp/run.log"
display=:$(( $$ % 500 + 100 ))
Xvfb "$display" -screen 0 1600x900x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xpid=$!
sleep 2
mkdir -p "$out"
for view in overview memory; do
    DISPLAY=$display gtkwave "$tmp/run.vcd" "waveforms/$view.gtkw" >"$tmp/gtkwave-$view.log" 2>&1 &
    gpid=$!
    sleep 6
    DISPLAY=$display xwd -root -silent | xwdtopnm 2>/dev/null | pnmtopng >"$tmp/$view.png"
    kill "$gpid" 2>/dev/null || true
    wait "$gpid" 2>/dev/null || true
    mv "$tmp/$view.png" "$out/$view.png"
    echo "wrote $out/$view.png"
done

#!/bin/sh
# scripts/capture_attention.py on a small torch transformer the test builds itself
# (testbenches/capture/tiny_model.py: random weights, nothing downloaded), as a user runs it:
#   capture_test.sh SOURCE_DIR SPRINT_SIM
# Every attention call is captured (8 layers: 2 encoder layers x 2 batch elements, a causal
# nn.MultiheadAttention, a named module with its own scale); the captured tensors reproduce the
# named module's output, recomputed here with numpy from the .npy files; a wrong --scale fails the
# capture; sprint-sim runs the model file, every layer bit-exact.
set -eu
src=$1
sim=$2
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() {
    echo "capture_test: $*" >&2
    [ -f log ] && cat log >&2
    exit 1
}
"$py" "$src/scripts/capture_attention.py" "$src/testbenches/capture/tiny_model.py" --out out \
    --module custom --scale 0.2 >log 2>&1 || fail "capture failed"
[ "$(grep -c '^captured ' log)" -eq 8 ] || fail "not 8 layers captured"
grep -q "^captured encoder.layers.0.self_attn_b1: 2 heads x N=48 x d=32, valid 40," log ||
    fail "the key padding's valid length"
grep -q "^captured decoder_attn_b0: 4 heads x N=48 x d=16, causal," log || fail "the causal mask"
# A wrong statement of the named module's scale fails the capture, naming the layer.
if "$py" "$src/scripts/capture_attention.py" "$src/testbenches/capture/tiny_model.py" --out bad \
    --module custom --scale 0.3 >log 2>&1; then
    fail "a wrong --scale was accepted"
fi
grep -q "layer custom_b0: attention from the captured tensors differs" log || fail "the wrong scale's message"
# Independently of the script: the named module's own output (a forward hook) against attention
# recomputed with numpy from the captured files.
"$py" - "$src/testbenches/capture/tiny_model.py" <<'PY' || fail "the captured tensors do not reproduce the module"
import importlib.util, math, sys
import numpy as np
import torch
spec = importlib.util.spec_from_file_location("tiny", sys.argv[1])
tiny = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tiny)
model, inputs = tiny.build()
model.eval()
seen = []
model.custom.register_forward_hook(lambda m, a, out: seen.append(out.detach().double().numpy()))
with torch.enable_grad():
    model(*inputs)
for b in range(2):
    q, k, v = (np.load("out/custom_b%d_%s.npy" % (b, t)).astype(np.float64) for t in "qkv")
    s = q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[2])
    p = np.exp(s - s.max(axis=2, keepdims=True))
    o = (p / p.sum(axis=2, keepdims=True)) @ v
    ref = seen[0][b]
    cos = float((o * ref).sum() / np.sqrt((o * o).sum() * (ref * ref).sum()))
    assert cos > 0.9999, cos
print("capture_test: numpy recompute ok")
PY
"$sim" --model out/model.yaml --stats s.json >log 2>&1 || fail "sprint-sim --model on the capture"
"$py" - <<'PY' || fail "sprint-sim's layers"
import json
d = json.load(open("s.json"))
assert len(d["layers"]) == 8, len(d["layers"])
for l in d["layers"]:
    for j in l["stats"]["jobs"]:
        assert j["bit_exact_vs_core"]["value"] is True, l["name"]
w = {l["name"]: l["stats"]["workload"] for l in d["layers"]}
assert w["decoder_attn_b0"]["causal"] is True
PY
echo "capture_test: ok"

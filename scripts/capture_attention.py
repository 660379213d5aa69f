#!/usr/bin/python3
"""Capture the Q, K and V of every attention layer of a PyTorch model, for sprint-sim --model.

    scripts/capture_attention.py USER_SCRIPT.py --out DIR [--name NAME] [--module NAME ...]

USER_SCRIPT.py defines build(), which returns (model, inputs): the user's torch model and a tuple
of the arguments of one forward call (the user's own inputs). The model runs once, in eval mode,
with every attention call recorded:

* every torch.nn.MultiheadAttention: Q, K and V are the module's own input projections of its
  query, key and value (in_proj weights and biases), split into its num_heads heads of
  embed_dim / num_heads; the module scales Q K^T by 1 / sqrt(d), as sprint-sim does;
* every module named with --module NAME (its name in model.named_modules()): its forward takes
  the projected q, k and v as [batch, heads, N, d] (positionally, or as q/k/v or query/key/value
  keywords) and returns softmax(q k^T * scale + mask) v; --scale gives its scale when it is not
  1 / sqrt(d) (Q is then written times scale * sqrt(d), so sprint-sim's 1 / sqrt(d) gives the
  module's logits).

Masks: no mask, a causal mask (attn_mask upper-triangular, or is_causal=True) or a key padding
mask whose padding is at the end of the sequence (the layer's valid length). Any other mask is
refused with the layer's name: sprint-sim's job cannot express it.

Each call and batch element becomes one layer: DIR/<layer>_q.npy, _k.npy, _v.npy (float32,
[heads, N, d]) and a line in DIR/model.yaml (q, k, v, causal, valid-len). The layers are checked
on the spot: attention recomputed in float64 from the written tensors (and the module's output
projection, for nn.MultiheadAttention) must match the module's own output (cosine > 0.9999), or
the capture fails. Then:

    ./build/sprint-sim --model DIR/model.yaml

Needs Debian's python3-torch and python3-numpy; nothing is downloaded.
"""
import argparse
import importlib.util
import math
import os
import re
import sys

import numpy as np
import torch


class CaptureError(Exception):
    pass


def _causal(mask, n):
    """True for a causal mask over n keys, False for none; raises for any other mask."""
    if mask is None:
        return False
    m = mask.detach()
    if m.dim() != 2 or m.shape != (n, n):
        raise CaptureError("an attention mask of shape %s (only causal [N, N] masks)" % list(m.shape))
    blocked = m if m.dtype == torch.bool else torch.isinf(m) & (m < 0)
    upper = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
    if torch.equal(blocked.cpu(), upper):
        return True
    if not blocked.any() and (m.dtype == torch.bool or not m.any()):
        return False
    raise CaptureError("an attention mask that is not causal (sprint-sim runs causal or no masks)")


def _valid(padding, b, n):
    """The valid length of batch element b from a key padding mask (True = padded), padding last."""
    if padding is None:
        return n
    p = padding[b].detach().cpu()
    p = p if p.dtype == torch.bool else torch.isinf(p) & (p < 0)
    valid = int((~p).sum())
    if p[:valid].any() or not p[valid:].all():
        raise CaptureError("key padding that is not at the end of the sequence")
    return valid


def _mha_qkv(m, query, key, value):
    """The projected q, k, v of an nn.MultiheadAttention call, [B, H, N, d] each."""
    if m.bias_k is not None or m.add_zero_attn:
        raise CaptureError("nn.MultiheadAttention with bias_k/bias_v or add_zero_attn")
    if not m.batch_first:
        query, key, value = (t.transpose(0, 1) for t in (query, key, value))
    e, h = m.embed_dim, m.num_heads
    if m._qkv_same_embed_dim:
        wq, wk, wv = m.in_proj_weight.chunk(3)
    else:
        wq, wk, wv = m.q_proj_weight, m.k_proj_weight, m.v_proj_weight
    bq, bk, bv = m.in_proj_bias.chunk(3) if m.in_proj_bias is not None else (None, None, None)
    out = []
    for x, w, bias in ((query, wq, bq), (key, wk, bk), (value, wv, bv)):
        y = torch.nn.functional.linear(x, w, bias)
        out.append(y.reshape(y.shape[0], y.shape[1], h, e // h).permute(0, 2, 1, 3))
    return out


def _argument(args, kwargs, index, names):
    for n in names:
        if n in kwargs:
            return kwargs[n]
    return args[index] if len(args) > index else None


class Recorder:
    """Wraps each attention module's forward; records its inputs and output per call."""

    def __init__(self, model, named, scale):
        self.calls = []
        self._undo = []
        modules = dict(model.named_modules())
        for name in named:
            if name not in modules:
                raise CaptureError("--module %s: no module of that name (model.named_modules())" % name)
        for name, m in modules.items():
            if isinstance(m, torch.nn.MultiheadAttention):
                self._wrap(name or "attention", m, "mha", None)
            elif name in named:
                self._wrap(name, m, "named", scale)

    def _wrap(self, name, m, kind, scale):
        original = m.forward

        def forward(*args, **kwargs):
            out = original(*args, **kwargs)
            self.calls.append((name, m, kind, scale, args, kwargs, out))
            return out

        m.forward = forward
        self._undo.append((m, original))

    def restore(self):
        for m, original in self._undo:
            m.forward = original


def _layers(call):
    """(layer name suffix, q, k, v [H, N, d] float64, causal, valid, reference output) per batch."""
    name, m, kind, scale, args, kwargs, out = call
    if kind == "mha":
        query = _argument(args, kwargs, 0, ["query"])
        key = _argument(args, kwargs, 1, ["key"])
        value = _argument(args, kwargs, 2, ["value"])
        q, k, v = _mha_qkv(m, query, key, value)
        attn_out = out[0] if isinstance(out, tuple) else out
        if not m.batch_first:
            attn_out = attn_out.transpose(0, 1)
    else:
        q = _argument(args, kwargs, 0, ["q", "query"])
        k = _argument(args, kwargs, 1, ["k", "key"])
        v = _argument(args, kwargs, 2, ["v", "value"])
        if q is None or q.dim() != 4:
            raise CaptureError("module %s: q, k, v must be [batch, heads, N, d] tensors" % name)
        attn_out = out[0] if isinstance(out, tuple) else out
    n_q, n_k = q.shape[2], k.shape[2]
    if n_q != n_k:
        raise CaptureError("layer %s: %d queries over %d keys (sprint-sim runs self-attention)"
                           % (name, n_q, n_k))
    d = q.shape[3]
    causal = bool(kwargs.get("is_causal", False)) or _causal(
        _argument(args, kwargs, 5 if kind == "mha" else 3, ["attn_mask", "mask"]), n_k)
    padding = kwargs.get("key_padding_mask", args[3] if kind == "mha" and len(args) > 3 else None)
    factor = 1.0 if scale is None else scale * math.sqrt(d)
    for b in range(q.shape[0]):
        valid = _valid(padding, b, n_k)
        yield (b, q[b].detach().double() * factor, k[b].detach().double(), v[b].detach().double(),
               causal, valid, attn_out[b].detach().double() if attn_out is not None else None, m,
               kind)


def _check(name, q, k, v, causal, valid, ref, m, kind):
    """Attention recomputed from the captured tensors against the module's own output."""
    h, n, d = q.shape
    s = q @ k.transpose(1, 2) / math.sqrt(d)
    blocked = torch.zeros(n, n, dtype=torch.bool)
    if causal:
        blocked |= torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
    blocked[:, valid:] = True
    s = s.masked_fill(blocked, float("-inf"))
    o = torch.softmax(s, dim=-1) @ v  # [H, N, d]
    if kind == "mha":
        o = o.permute(1, 0, 2).reshape(n, h * d)
        w = m.out_proj.weight.detach().double()
        bias = m.out_proj.bias.detach().double() if m.out_proj.bias is not None else None
        o = torch.nn.functional.linear(o, w, bias)
    elif ref.dim() == 2:  # a module that merges its heads: [N, H * d]
        o = o.permute(1, 0, 2).reshape(n, h * d)
    a, r = o[:valid].flatten(), ref[:valid].flatten()
    cos = float(a @ r / (a.norm() * r.norm() + 1e-300))
    if not cos > 0.9999:
        raise CaptureError("layer %s: attention from the captured tensors differs from the "
                           "module's output (cosine %.6f): its head split or scaling is not the "
                           "one stated (--scale)" % (name, cos))
    return cos


def capture(model, inputs, out_dir, name="model", named=(), scale=None, log=sys.stdout):
    """Runs model(*inputs) once and writes the layers and out_dir/model.yaml; returns the path."""
    os.makedirs(out_dir, exist_ok=True)
    rec = Recorder(model, list(named), scale)
    was_training = model.training
    model.eval()
    try:
        # Gradients on: torch's fused inference paths (TransformerEncoderLayer in eval under
        # no_grad) would bypass nn.MultiheadAttention.forward and hide the calls.
        with torch.enable_grad():
            model(*inputs)
    finally:
        rec.restore()
        model.train(was_training)
    if not rec.calls:
        raise CaptureError("the model made no attention call (no nn.MultiheadAttention, and no "
                           "--module named)")
    counts = {}
    for c in rec.calls:
        counts[c[0]] = counts.get(c[0], 0) + 1
    seen, lines = {}, ["name: %s" % name, "layers:"]
    for call in rec.calls:
        base = re.sub(r"[^A-Za-z0-9_.-]", "_", call[0])
        seen[call[0]] = seen.get(call[0], 0) + 1
        if counts[call[0]] > 1:
            base += "_call%d" % (seen[call[0]] - 1)
        per_batch = list(_layers(call))
        for b, q, k, v, causal, valid, ref, m, kind in per_batch:
            layer = base + ("_b%d" % b if len(per_batch) > 1 else "")
            cos = _check(layer, q, k, v, causal, valid, ref, m, kind) if ref is not None else None
            for t, x in (("q", q), ("k", k), ("v", v)):
                np.save(os.path.join(out_dir, "%s_%s.npy" % (layer, t)), x.float().cpu().numpy())
            lines += ["  - name: %s" % layer, "    q: %s_q.npy" % layer, "    k: %s_k.npy" % layer,
                      "    v: %s_v.npy" % layer, "    causal: %s" % ("true" if causal else "false")]
            if valid < q.shape[1]:
                lines.append("    valid-len: %d" % valid)
            print("captured %s: %d heads x N=%d x d=%d%s%s, cosine %s against the module's output"
                  % (layer, q.shape[0], q.shape[1], q.shape[2], ", causal" if causal else "",
                     ", valid %d" % valid if valid < q.shape[1] else "",
                     "%.6f" % cos if cos is not None else "-"), file=log)
    path = os.path.join(out_dir, "model.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("script", help="a Python file defining build() -> (model, inputs)")
    p.add_argument("--out", required=True, help="folder for the .npy files and model.yaml")
    p.add_argument("--name", help="the model's name in model.yaml (default: the script's)")
    p.add_argument("--module", action="append", default=[],
                   help="an attention module by its name in model.named_modules() whose forward "
                        "takes projected q, k, v [batch, heads, N, d] (repeatable)")
    p.add_argument("--scale", type=float,
                   help="the named modules' logit scale, when it is not 1 / sqrt(d)")
    a = p.parse_args(argv)
    try:
        spec = importlib.util.spec_from_file_location("user_model", a.script)
        if spec is None:
            raise CaptureError("%s: not a Python file" % a.script)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        if not hasattr(mod, "build"):
            raise CaptureError("%s defines no build() returning (model, inputs)" % a.script)
        model, inputs = mod.build()
        if not isinstance(inputs, tuple):
            inputs = (inputs,)
        name = a.name or os.path.splitext(os.path.basename(a.script))[0]
        path = capture(model, inputs, a.out, name, a.module, a.scale)
    except (CaptureError, OSError) as e:
        print("capture_attention: error: %s" % e, file=sys.stderr)
        return 2
    print("wrote %s: run it with ./build/sprint-sim --model %s" % (path, path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

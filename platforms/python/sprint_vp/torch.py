"""SPRINT attention inside a PyTorch model, for inference (docs/python.md).

    import sprint_vp.torch as st
    with st.sprint_attention(model, "sprint", {"sprint.xbar.key_bits": 3, "keep-mass": 0.95}):
        logits = model(x)          # every nn.MultiheadAttention computes with SPRINT's arithmetic

The arithmetic is one of
  "float"        torch's own attention (the swap does nothing: the baseline)
  "reference"    sprint-sim's dense float reference (double-precision softmax)
  "dense"        the dense fixed-point datapath (int8 Q, K, V, fixed-point softmax, every key)
  "sprint"       SPRINT: in-memory scores with the configured key bits and non-idealities, the
                 threshold rule, then the exact recompute on the kept keys
  "onchip-prune" pruning on exact scores, without the crossbar (the paper's on-chip baseline)
  "sprint-no-recompute"  SPRINT's keep decisions, but the softmax on the crossbar's approximate
                 scores instead of the exact recompute (a study: the paper's Fig. 9 question)
with the config of sprint-sim's options and parameters (sprint_vp.parameters()). Thresholds are
calibrated per call (per sequence and head) as sprint-sim calibrates them on its workload, unless
the config gives "threshold".

The projections, the output projection and everything else of the model stay in torch (float);
only softmax(q k^T / sqrt(d)) v is replaced. Self-attention of equal query and key lengths is
supported, with a causal attn_mask (the standard upper-triangular one) and a key_padding_mask that
pads at the end; other masks raise NotImplementedError rather than being ignored.
"""

import contextlib

import numpy as np
import torch

from . import attention as _attention
from . import dense_attention as _dense_attention

ARITHMETICS = ("float", "reference", "dense", "sprint", "onchip-prune", "sprint-no-recompute")


def _causal(mask, n):
    """Whether attn_mask is the causal mask of n (bool True above the diagonal, or -inf there)."""
    if mask is None:
        return False
    m = mask
    if m.dtype == torch.bool:
        blocked = m
    else:
        blocked = torch.isinf(m) & (m < 0)
        if not torch.all((m == 0) | blocked):
            raise NotImplementedError("sprint_vp.torch: an additive attn_mask other than 0/-inf")
    if blocked.dim() != 2 or blocked.shape != (n, n):
        raise NotImplementedError("sprint_vp.torch: only a [n, n] attn_mask")
    expected = torch.triu(torch.ones(n, n, dtype=torch.bool, device=blocked.device), diagonal=1)
    if torch.equal(blocked, expected):
        return True
    if not blocked.any():
        return False
    raise NotImplementedError("sprint_vp.torch: an attn_mask other than the causal one")


def _valid_length(pad_row):
    """The number of keys before the padding of one sequence (padding must be at the end)."""
    if pad_row is None:
        return None
    pad = pad_row.to(torch.bool).cpu().numpy()
    n_valid = int((~pad).sum())
    if pad[:n_valid].any() or not pad[n_valid:].all():
        raise NotImplementedError("sprint_vp.torch: key_padding_mask must pad at the end")
    return n_valid


class Tally:
    """What a sprint_attention block computed: sequences (one per batch element and layer), and
    the (query, key) pairs kept and visible over them (equal for the dense arithmetics)."""

    def __init__(self):
        self.sequences = 0
        self.kept_pairs = 0
        self.pairs = 0

    @property
    def kept_fraction(self):
        return self.kept_pairs / self.pairs if self.pairs else float("nan")


def heads_attention(q, k, v, arithmetic, config=None, causal=False, valid_len=None, tally=None):
    """softmax(q k^T / sqrt(d)) v of one sequence's heads, q, k, v float arrays [heads, n, d],
    in the named arithmetic; a float32 array [heads, n, d]. `tally` (a Tally) counts it."""
    if arithmetic not in ARITHMETICS:
        raise ValueError("arithmetic '%s' is not one of %s" % (arithmetic, ", ".join(ARITHMETICS)))
    q, k, v = (np.ascontiguousarray(a, dtype=np.float32) for a in (q, k, v))
    heads, n = q.shape[0], q.shape[1]
    valid = n if valid_len is None else min(valid_len, n)
    visible = heads * (valid * (valid + 1) // 2 if causal else valid * valid)
    if tally is not None:
        tally.sequences += 1
        tally.pairs += visible
    if arithmetic == "reference":
        if valid < n:
            raise NotImplementedError("sprint_vp.torch: padding with the float reference")
        if tally is not None:
            tally.kept_pairs += visible
        return _dense_attention(q, k, v, causal=causal)
    cfg = dict(config or {})
    cfg["mode"] = "sprint" if arithmetic.startswith("sprint") else arithmetic
    if causal:
        cfg["causal"] = True
    if valid_len is not None and valid_len < q.shape[1]:
        cfg["valid-len"] = valid_len
    r = _attention(q, k, v, cfg, recompute=arithmetic != "sprint-no-recompute")
    if tally is not None:
        tally.kept_pairs += r["kept_pairs"]
    return r["output"]


def _forward(mha, arithmetic, config, tally):
    """A forward for nn.MultiheadAttention `mha` that computes its attention in `arithmetic`."""

    def forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, **unused):
        if query is not key or key is not value:
            if not (torch.equal(query, key) and torch.equal(key, value)):
                raise NotImplementedError("sprint_vp.torch: self-attention only (query, key and "
                                          "value the same tensor)")
        x = query if mha.batch_first else query.transpose(0, 1)  # [batch, n, E]
        batch, n, e = x.shape
        h = mha.num_heads
        d = e // h
        if not mha._qkv_same_embed_dim or mha.bias_k is not None:
            raise NotImplementedError("sprint_vp.torch: separate q/k/v projections or bias_k")
        qkv = torch.nn.functional.linear(x, mha.in_proj_weight, mha.in_proj_bias)
        q, k, v = (t.reshape(batch, n, h, d).transpose(1, 2) for t in qkv.chunk(3, dim=-1))
        causal = _causal(attn_mask, n)
        out = torch.empty(batch, h, n, d, dtype=x.dtype, device=x.device)
        for b in range(batch):
            valid = _valid_length(key_padding_mask[b]) if key_padding_mask is not None else None
            y = heads_attention(q[b].detach().cpu().numpy(), k[b].detach().cpu().numpy(),
                                v[b].detach().cpu().numpy(), arithmetic, config, causal, valid,
                                tally)
            out[b] = torch.from_numpy(np.asarray(y)).to(x.dtype)
        y = out.transpose(1, 2).reshape(batch, n, e)
        y = mha.out_proj(y)
        return (y if mha.batch_first else y.transpose(0, 1)), None

    return forward


@contextlib.contextmanager
def sprint_attention(model, arithmetic="sprint", config=None):
    """Within the block every nn.MultiheadAttention of `model` computes its attention in
    `arithmetic` (see the module's doc), configured by `config`; the model is put back as it was
    on leaving, also on an error. Yields a Tally of the sequences computed and the pairs kept.
    The attention weights are not returned (None). For inference: no gradients flow through."""
    if arithmetic not in ARITHMETICS:
        raise ValueError("arithmetic '%s' is not one of %s" % (arithmetic, ", ".join(ARITHMETICS)))
    tally = Tally()
    patched, layers = [], []
    if arithmetic != "float":
        for m in model.modules():
            if isinstance(m, torch.nn.MultiheadAttention):
                m.forward = _forward(m, arithmetic, config, tally)
                patched.append(m)
            # TransformerEncoderLayer's inference fast path calls the fused kernel directly,
            # never MultiheadAttention.forward; it is taken only for ReLU or GELU activations, so
            # the flag that says so is cleared while the swap holds.
            if hasattr(m, "activation_relu_or_gelu"):
                layers.append((m, m.activation_relu_or_gelu))
                m.activation_relu_or_gelu = False
    try:
        with torch.no_grad():
            yield tally
    finally:
        for m in patched:
            del m.forward  # the class's forward again
        for m, flag in layers:
            m.activation_relu_or_gelu = flag

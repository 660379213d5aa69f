"""A small torch transformer with random weights, built by the capture test (nothing downloaded):
two encoder layers (nn.TransformerEncoder, key padding on the second batch element), a causal
nn.MultiheadAttention that is not batch-first, and a hand-written attention module on projected
[batch, heads, N, d] tensors with its own logit scale (0.2). Inputs are scaled up so attention is
sharp enough that a wrong head split or scale shows in the output."""
import math
import torch


class Attention(torch.nn.Module):
    """A hand-written attention: forward(q, k, v) on [batch, heads, N, d], logits times `scale`."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, q, k, v, mask=None):
        s = q @ k.transpose(-1, -2) * self.scale
        if mask is not None:
            s = s.masked_fill(mask, float("-inf"))
        return torch.softmax(s, dim=-1) @ v


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        layer = torch.nn.TransformerEncoderLayer(64, 2, 128, dropout=0.0, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.decoder_attn = torch.nn.MultiheadAttention(64, 4, batch_first=False)
        self.proj = torch.nn.Linear(64, 3 * 64)
        torch.nn.init.normal_(self.proj.weight, std=0.5)
        self.custom = Attention(0.2)

    def forward(self, x, padding):
        n = x.shape[1]
        causal = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
        h = self.encoder(x, src_key_padding_mask=padding)
        t = h.transpose(0, 1)
        d, _ = self.decoder_attn(t, t, t, attn_mask=causal, need_weights=False)
        q, k, v = self.proj(d.transpose(0, 1)).chunk(3, dim=-1)
        split = lambda z: z.reshape(z.shape[0], n, 2, 32).transpose(1, 2)
        return self.custom(split(q), split(k), split(v))


def build():
    torch.manual_seed(0)
    model = Tiny()
    x = 4 * torch.randn(2, 48, 64)
    padding = torch.zeros(2, 48, dtype=torch.bool)
    padding[1, 40:] = True
    return model, (x, padding)

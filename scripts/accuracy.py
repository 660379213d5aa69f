"""Task accuracy with SPRINT's arithmetic in the loop (docs/accuracy.md).

Trains a small transformer with python3-torch on associative recall, a task built here (nothing is
downloaded): a set of (key, value) pairs, then one of the keys; the answer is its value. The
query must find its key among 32 pairs, so attention has to be sharp to be right. Then
measures the task accuracy on held-out sequences with the attention computed as
  float (torch), the dense float reference, the dense fixed-point datapath,
  SPRINT across key bits 2-8 with and without the exact recompute (the paper's Figs. 5 and 9),
  SPRINT across threshold rules and keep targets, and under crossbar non-idealities,
each with the fraction of (query, key) pairs kept. Writes accuracy.csv, accuracy.md and
accuracy.png into the output folder.

    /usr/bin/python3 scripts/accuracy.py OUT_DIR [--quick] [--seed S]
(scripts/accuracy.sh builds the module and runs this.) --quick trains and evaluates less, for the
test; the numbers of docs/accuracy.md come from the full run.
"""

import argparse
import csv
import os
import sys
import tempfile
import time

# One thread everywhere (torch's own and its BLAS's), so that a run gives the same numbers on any
# machine of the same packages: floating-point sums in another order train a slightly other model.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402

import sprint_vp.torch as st  # noqa: E402

N_KEYS, N_VALUES, PAIRS = 64, 16, 32  # 32 of 64 keys per sequence, each with one of 16 values


def batch_of(rng, size):
    """Sequences of PAIRS (key, value) tokens and a query token that holds one of their keys;
    returns the key and value ids of every position (the query's value id is the blank N_VALUES)
    and the answer, the value stored with the query's key."""
    keys = np.stack([rng.choice(N_KEYS, PAIRS, replace=False) for _ in range(size)])
    values = rng.integers(0, N_VALUES, size=(size, PAIRS))
    which = rng.integers(0, PAIRS, size=size)
    k = np.empty((size, PAIRS + 1), dtype=np.int64)
    v = np.full((size, PAIRS + 1), N_VALUES, dtype=np.int64)
    k[:, :PAIRS], v[:, :PAIRS] = keys, values
    k[:, -1] = keys[np.arange(size), which]
    answer = values[np.arange(size), which]
    return (torch.from_numpy(k), torch.from_numpy(v)), torch.from_numpy(answer)


class Block(torch.nn.Module):
    def __init__(self, e, heads):
        super().__init__()
        self.ln1, self.ln2 = torch.nn.LayerNorm(e), torch.nn.LayerNorm(e)
        self.attn = torch.nn.MultiheadAttention(e, heads, batch_first=True)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(e, 2 * e), torch.nn.GELU(),
                                       torch.nn.Linear(2 * e, e))

    def forward(self, x):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class Recall(torch.nn.Module):
    """A position's input is the sum of its key's and its value's embeddings (no positions: the
    pairs are a set); one attention block of 4 heads (d = 16); the answer is read at the query."""

    def __init__(self, e=64, heads=4, layers=1):
        super().__init__()
        self.key = torch.nn.Embedding(N_KEYS, e)
        self.value = torch.nn.Embedding(N_VALUES + 1, e)
        self.blocks = torch.nn.ModuleList(Block(e, heads) for _ in range(layers))
        self.ln = torch.nn.LayerNorm(e)
        self.out = torch.nn.Linear(e, N_VALUES)

    def forward(self, x):
        h = self.key(x[0]) + self.value(x[1])
        for b in self.blocks:
            h = b(h)
        return self.out(self.ln(h[:, -1]))


def train(steps, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Recall()
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=5e-3, total_steps=steps)
    for step in range(steps):
        x, y = batch_of(rng, 64)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % max(1, steps // 5) == 0:
            print("  step %d/%d: loss %.3f" % (step + 1, steps, loss.item()), flush=True)
    return model.eval()


def evaluate(model, x, y, arithmetic, config):
    with st.sprint_attention(model, arithmetic, config) as tally:
        with torch.no_grad():
            pred = model(x).argmax(-1)
    acc = float((pred == y).float().mean())
    kept = 1.0 if arithmetic in ("float", "reference", "dense") else tally.kept_fraction
    return acc, kept


def configurations(quick):
    """(group, label, arithmetic, config): every measurement of the table."""
    rows = [("baseline", "float (torch)", "float", {}),
            ("baseline", "dense float reference", "reference", {}),
            ("baseline", "dense fixed-point datapath", "dense", {})]
    bits = (2, 4, 8) if quick else (2, 3, 4, 5, 6, 7, 8)
    for b in bits:
        for arith, what in (("sprint", "recompute"), ("sprint-no-recompute", "no recompute")):
            rows.append(("key bits, " + what, "key bits %d" % b, arith,
                         {"sprint.xbar.key_bits": b}))
    masses = (0.5, 0.9) if quick else (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)
    for m in masses:
        rows.append(("rule keep-mass", "keep-mass %g" % m, "sprint", {"keep-mass": m}))
    fractions = (0.1,) if quick else (0.05, 0.1, 0.2, 0.4)
    for f in fractions:
        rows.append(("rule keep-fraction", "keep-fraction %g" % f, "sprint",
                     {"keep-mass": 0, "keep-fraction": f}))
    if not quick:
        for t in (-1, -2, -4):
            rows.append(("rule query-max", "within %d logits of the row's max" % -t, "sprint",
                         {"sprint.comparators.rule": "query-max", "threshold": t}))
    noise = (("sprint.xbar.read_noise_sigma", (20,) if quick else (10, 20, 40, 80)),
             ("sprint.comparators.offset_sigma", () if quick else (10, 20, 40, 80)),
             ("sprint.xbar.cell_variation_sigma", () if quick else (0.05, 0.1, 0.2)),
             ("sprint.xbar.stuck_at_zero_rate", () if quick else (0.01, 0.05)))
    for name, values in noise:
        for val in values:
            rows.append(("non-ideality", "%s %g" % (name.split(".")[-1], val), "sprint",
                         {name: val}))
    return rows


def write_outputs(out, results, header):
    os.makedirs(out, exist_ok=True)
    fields = ["group", "label", "arithmetic", "config", "accuracy", "kept_fraction"]
    for name, text in (("accuracy.csv", None), ("accuracy.md", None)):
        fd, tmp = tempfile.mkstemp(dir=out, prefix="." + name)
        with os.fdopen(fd, "w", newline="") as f:
            if name.endswith(".csv"):
                w = csv.DictWriter(f, fieldnames=fields)
                w.writeheader()
                for r in results:
                    w.writerow({k: r[k] for k in fields})
            else:
                f.write(header + "\n\n| group | setting | accuracy | pairs kept |\n|---|---|---|---|\n")
                for r in results:
                    f.write("| %s | %s | %.3f | %.3f |\n" % (r["group"], r["label"],
                                                             r["accuracy"], r["kept_fraction"]))
        os.chmod(tmp, 0o644)
        os.replace(tmp, os.path.join(out, name))
    plot(out, results)


def plot(out, results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    base = {r["label"]: r["accuracy"] for r in results if r["group"] == "baseline"}
    ax = axes[0]
    for group, marker in (("key bits, recompute", "o"), ("key bits, no recompute", "s")):
        pts = [(int(r["label"].split()[-1]), r["accuracy"]) for r in results if r["group"] == group]
        ax.plot(*zip(*pts), marker=marker, label="SPRINT, " + group.split(", ")[1])
    for label, style in (("float (torch)", "--"), ("dense fixed-point datapath", ":")):
        ax.axhline(base[label], linestyle=style, color="grey", label=label)
    ax.set_xlabel("key bits in the crossbar (keep-mass 0.9)")
    ax.set_ylabel("task accuracy")
    ax.set_title("accuracy against key bits (Figs. 5 and 9)")
    ax.legend(fontsize=8)
    ax = axes[1]
    for group, marker in (("rule keep-mass", "o"), ("rule keep-fraction", "s"),
                          ("rule query-max", "^")):
        pts = [(r["kept_fraction"], r["accuracy"]) for r in results if r["group"] == group]
        if pts:
            ax.plot(*zip(*sorted(pts)), marker=marker, label=group)
    ax.axhline(base["float (torch)"], linestyle="--", color="grey", label="float (torch)")
    ax.set_xlabel("fraction of (query, key) pairs kept")
    ax.set_title("threshold rules and keep targets")
    ax.legend(fontsize=8)
    ax = axes[2]
    rows = [r for r in results if r["group"] == "non-ideality"]
    ax.barh([r["label"] for r in rows], [r["accuracy"] for r in rows], color="tab:purple")
    ax.axvline(base["float (torch)"], linestyle="--", color="grey")
    ax.set_xlabel("task accuracy")
    ax.set_title("crossbar non-idealities (4 key bits)")
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".accuracy.png")
    with os.fdopen(fd, "wb") as f:
        fig.savefig(f, format="png", dpi=110)
    os.chmod(tmp, 0o644)
    os.replace(tmp, os.path.join(out, "accuracy.png"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--quick", action="store_true", help="a reduced run (the test's)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    steps, tests = (300, 128) if args.quick else (600, 1000)
    t0 = time.time()
    print("training on associative recall (%d pairs of %d keys, %d steps)" % (PAIRS, N_KEYS, steps),
          flush=True)
    model = train(steps, args.seed)
    x, y = batch_of(np.random.default_rng(args.seed + 1000), tests)
    results = []
    for group, label, arith, config in configurations(args.quick):
        acc, kept = evaluate(model, x, y, arith, config)
        results.append({"group": group, "label": label, "arithmetic": arith,
                        "config": " ".join("%s=%s" % kv for kv in config.items()),
                        "accuracy": acc, "kept_fraction": kept})
        print("  %-24s %-40s accuracy %.3f, kept %.3f" % (group, label, acc, kept), flush=True)
    header = ("Associative recall: %d (key, value) pairs of %d keys and %d values, then a query "
              "key (chance %.3f); %d held-out sequences; one attention block of 4 heads x d=16 "
              "over n=%d positions, trained %d steps (seed %d); %.0f s on one thread"
              % (PAIRS, N_KEYS, N_VALUES, 1.0 / N_VALUES, tests, PAIRS + 1, steps, args.seed,
                 time.time() - t0))
    write_outputs(args.out, results, header)
    print(header)
    print("wrote %s/accuracy.csv, accuracy.md, accuracy.png" % args.out)


if __name__ == "__main__":
    sys.exit(main())

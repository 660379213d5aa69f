"""The Python module sprint_vp as a user calls it, one case per ctest entry:
    test_sprint_vp.py SPRINT_SIM CASE
CASE: simulate | attention | errors | parameters | torch | accuracy. Every figure is compared with what
sprint-sim itself computes for the same configuration (run as a command here)."""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

import sprint_vp

SIM = sys.argv[1]
CASE = sys.argv[2]
TMP = tempfile.mkdtemp(prefix="sprint-vp-pytest-")


def cli(options, expect=0):
    """sprint-sim on these options, with --stats and --output: (stats, output, stderr)."""
    stats, out = os.path.join(TMP, "s.json"), os.path.join(TMP, "o.npy")
    for f in (stats, out):
        if os.path.exists(f):
            os.remove(f)
    p = subprocess.run([SIM] + options + ["--stats=" + stats, "--output=" + out, "--quiet"],
                       capture_output=True, text=True, check=False)
    assert p.returncode == expect, (p.returncode, p.stderr)
    if expect != 0:
        return None, None, p.stderr
    return json.load(open(stats)), np.load(out), p.stderr


def job_figures(stats):
    """The figures of every job that a run determines (not the host's times or paths)."""
    out = []
    for j in stats["jobs"]:
        out.append(json.dumps({k: j[k] for k in sorted(j) if k not in ("host", "wall")},
                              sort_keys=True))
    return out


def qkv(heads, n, d, seed):
    rng = np.random.default_rng(seed)
    # sharp rows, as real heads have a few dominant keys
    q = rng.standard_normal((heads, n, d)).astype(np.float32) * 1.5
    k = rng.standard_normal((heads, n, d)).astype(np.float32)
    v = rng.standard_normal((heads, n, d)).astype(np.float32)
    return q, k, v


def save(name, a):
    path = os.path.join(TMP, name + ".npy")
    np.save(path, a)
    return path


def case_simulate():
    config = {"heads": 2, "seq-len": 64, "head-dim": 32, "sprint.xbar.key_bits": 3,
              "dram.preset": "hbm2", "keep-mass": 0.95}
    r = sprint_vp.simulate(config)
    assert r["exit_status"] == 0
    stats, out, _ = cli(sprint_vp.options(config))
    assert job_figures(r["stats"]) == job_figures(stats), "the job figures differ from sprint-sim's"
    assert r["output"].dtype == np.float32 and r["output"].shape == (2, 64, 32)
    assert np.array_equal(r["output"], out), "the output differs from sprint-sim's"
    first = r["stats"]["jobs"][0]
    print("simulate: %d jobs, first %s" % (len(r["stats"]["jobs"]),
                                           json.dumps(first)[:160]))
    # on the caller's arrays, in AT
    q, k, v = qkv(2, 48, 16, 3)
    config = {"timing": "at", "compare": False}
    r = sprint_vp.simulate(config, q, k, v)
    files = ["--q=" + save("q", q), "--k=" + save("k", k), "--v=" + save("v", v)]
    stats, out, _ = cli(sprint_vp.options(config) + files)
    assert job_figures(r["stats"]) == job_figures(stats)
    assert np.array_equal(r["output"], out)


def case_attention():
    q, k, v = qkv(2, 64, 32, 7)
    files = ["--q=" + save("q", q), "--k=" + save("k", k), "--v=" + save("v", v)]
    for config in ({}, {"sprint.xbar.key_bits": 2, "keep-fraction": 0.2},
                   {"mode": "dense"}, {"mode": "onchip-prune", "causal": True},
                   {"sprint.xbar.read_noise_sigma": 20, "sprint.comparators.offset_sigma": 10},
                   {"threshold": "0.5,1.0"}):
        a = sprint_vp.attention(q, k, v, config, masks=True)
        _, out, _ = cli(sprint_vp.options(dict(config, compare=False)) + files)
        assert np.array_equal(a["output"], out), ("attention() differs from sprint-sim", config)
        assert a["mask"].shape == (2, 64, 64) and a["kept_pairs"] == int(a["mask"].sum())
        if config.get("mode") == "dense":
            assert a["kept_pairs"] == 2 * 64 * 64
        else:
            assert a["kept_pairs"] < 2 * 64 * 64, config
        if "threshold" in config:
            assert [round(t, 6) for t in a["thresholds"]] == [0.5, 1.0]
        print("attention %s: bit-exact, %d of %d pairs kept" % (config, a["kept_pairs"], 2 * 64 * 64))
    # the scores the keys were judged on: with 8 key and query bits and no noise close to the
    # exact logits; the kept keys are those at or above the threshold
    exact = q.astype(np.float64) @ k.astype(np.float64).transpose(0, 2, 1) / np.sqrt(32)
    a = sprint_vp.attention(q, k, v, {"sprint.xbar.key_bits": 8, "sprint.xbar.query_bits": 8},
                            masks=True, scores=True)
    s8 = a["scores"].astype(np.float64)
    assert np.abs(s8 - exact).max() < 0.1 * np.abs(exact).max(), np.abs(s8 - exact).max()
    for h in range(2):
        kept = a["mask"][h]
        assert (s8[h][kept] >= a["thresholds"][h] - 1e-6).all()
        assert (s8[h][~kept] < a["thresholds"][h] + 1e-6).all()
    a2 = sprint_vp.attention(q, k, v, {"sprint.xbar.key_bits": 2}, scores=True)
    err2 = np.abs(a2["scores"] - exact).mean()
    assert err2 > np.abs(s8 - exact).mean(), "2-bit scores are not coarser than 8-bit ones"
    try:
        sprint_vp.attention(q, k, v, {"mode": "dense"}, scores=True)
    except ValueError as e:
        assert "pruning mode" in str(e)
    else:
        raise AssertionError("scores of the dense mode")
    ref = sprint_vp.dense_attention(q, k, v)
    s = q.astype(np.float64) @ k.astype(np.float64).transpose(0, 2, 1) / np.sqrt(32)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    assert np.abs(ref - p @ v).max() < 1e-5, "the dense reference is not softmax(qk/sqrt(d))v"


def case_errors():
    q, k, v = qkv(1, 16, 8, 1)
    checks = [({"dram.preset": "hbm3"}, "(did you mean 'hbm2'?)"),
              ({"sprint.sram.kbytes": 1}, "unrecognised option '--sprint.sram.kbytes"),
              ({"sprint.xbar.key_bits": 9}, "value '9' is not allowed")]
    for config, text in checks:
        _, _, err = cli(sprint_vp.options(config), expect=2)
        assert text in err, err
        for call in (lambda: sprint_vp.simulate(config), lambda: sprint_vp.attention(q, k, v, config),
                     lambda: sprint_vp.settings(config)):
            try:
                call()
            except ValueError as e:
                assert text in str(e), (str(e), text)
                assert str(e).split(" (did")[0] in err, (str(e), err)
            else:
                raise AssertionError("no ValueError for %s" % config)
    for bad in (lambda: sprint_vp.attention(q[0], k, v),
                lambda: sprint_vp.attention(q, k[:, :8], v),
                lambda: sprint_vp.attention(q, k, v, {"heads": 2}),
                lambda: sprint_vp.simulate({}, q, k, None)):
        try:
            bad()
        except ValueError as e:
            print("refused:", e)
        else:
            raise AssertionError("a bad call was accepted")
    # Ctrl-C stops a long run: KeyboardInterrupt, and no child left behind
    import signal
    import threading
    threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    try:
        sprint_vp.simulate({"heads": 12, "seq-len": 4096, "timing": "at"})
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the run was not interrupted")
    children = open("/proc/self/task/%d/children" % os.getpid()).read().split()
    assert not children, children
    try:
        sprint_vp.simulate({"stats": "x.json"})
    except ValueError as e:
        assert "writes --stats and --output itself" in str(e)
    else:
        raise AssertionError("simulate() took --stats")
    # a run that does not fit: exit status 2 on the command line, ValueError here
    config = {"dram.size_mb": 1, "workload": "bert-base"}
    _, _, err = cli(sprint_vp.options(config), expect=2)
    try:
        sprint_vp.simulate(config)
    except ValueError as e:
        assert str(e).split("\n")[0] in err, (str(e), err)
    else:
        raise AssertionError("a workload that does not fit ran")


def case_parameters():
    params = sprint_vp.parameters()
    out = subprocess.run([SIM, "--dump-params"], capture_output=True, text=True, check=True).stdout
    names = [line.split("|")[1].strip().strip("`") for line in out.splitlines()
             if line.startswith("| `")]
    assert len(names) > 50, len(names)
    for n in names:
        assert n in params, n
        assert "unit" in params[n] and "description" in params[n], n
    assert params["sprint.xbar.key_bits"]["default"] == "4"
    s = sprint_vp.settings({"dram.preset": "hbm2"})
    dump = os.path.join(TMP, "c.ini")
    subprocess.run([SIM, "--dram.preset", "hbm2", "--dump-config", dump, "--dry-run"],
                   capture_output=True, check=True)
    ini = open(dump).read()
    assert "bandwidth_gbps = %s" % s["dram.bandwidth_gbps"] in ini or \
        "dram.bandwidth_gbps = %s" % s["dram.bandwidth_gbps"] in ini, s["dram.bandwidth_gbps"]
    print("parameters: %d names, all of --dump-params's" % len(params))


def case_torch():
    import torch
    import sprint_vp.torch as st

    torch.manual_seed(0)
    e, h, n, batch = 32, 4, 24, 3
    mha = torch.nn.MultiheadAttention(e, h, batch_first=True).eval()
    x = torch.randn(batch, n, e)
    with torch.no_grad():
        want, _ = mha(x, x, x, need_weights=False)
        causal = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
        want_causal, _ = mha(x, x, x, attn_mask=causal, need_weights=False)
    with st.sprint_attention(mha, "reference") as count:
        got, _ = mha(x, x, x)
        got_causal, _ = mha(x, x, x, attn_mask=causal)
    assert count.sequences == 2 * batch, count.sequences
    assert count.kept_pairs == count.pairs == 2 * batch * h * n * n - batch * h * n * (n - 1) // 2
    assert (got - want).abs().max() < 1e-5, (got - want).abs().max()
    assert (got_causal - want_causal).abs().max() < 1e-5
    assert "forward" not in vars(mha), "the model was not put back"
    errors = {}
    for arithmetic, config in (("dense", {}), ("sprint", {"keep-mass": 0.99}),
                               ("sprint", {"keep-mass": 0.8, "sprint.xbar.key_bits": 2})):
        with st.sprint_attention(mha, arithmetic, config):
            got, _ = mha(x, x, x)
        errors[(arithmetic, json.dumps(config))] = float((got - want).norm() / want.norm())
        # the same numbers as the module's attention() on the projected heads
        with torch.no_grad():
            qkv = torch.nn.functional.linear(x, mha.in_proj_weight, mha.in_proj_bias)
            q, k, v = (t.reshape(batch, n, h, e // h).transpose(1, 2) for t in qkv.chunk(3, -1))
            y = sprint_vp.attention(q[0].numpy(), k[0].numpy(), v[0].numpy(),
                                    dict(config, mode="sprint" if arithmetic == "sprint" else arithmetic))
            ref0 = mha.out_proj(torch.from_numpy(y["output"]).transpose(0, 1).reshape(n, e))
        assert torch.equal(ref0, got[0]), arithmetic
    print("relative output error against torch:", errors)
    assert errors[("dense", "{}")] < 0.05
    e99 = errors[("sprint", json.dumps({"keep-mass": 0.99}))]
    e80 = errors[("sprint", json.dumps({"keep-mass": 0.8, "sprint.xbar.key_bits": 2}))]
    assert e99 < e80, (e99, e80)
    # a transformer encoder in eval mode (its fused fast path) and padding at the end
    layer = torch.nn.TransformerEncoderLayer(e, h, dim_feedforward=64, batch_first=True).eval()
    pad = torch.zeros(batch, n, dtype=torch.bool)
    pad[1, 20:] = True
    with torch.no_grad():
        want = layer(x, src_key_padding_mask=pad)
    with st.sprint_attention(layer, "dense") as count:
        got = layer(x, src_key_padding_mask=pad)
    assert count.sequences == batch, "the encoder's fast path skipped the swap"
    assert layer.activation_relu_or_gelu, "the encoder was not put back"
    ok = ~pad
    assert ((got - want)[ok].norm() / want[ok].norm()) < 0.05
    bad = torch.zeros(n, n, dtype=torch.bool)
    bad[0, 1] = True
    with st.sprint_attention(mha, "sprint"):
        try:
            mha(x, x, x, attn_mask=bad)
        except NotImplementedError as err:
            print("refused:", err)
        else:
            raise AssertionError("an unsupported mask was ignored")


def case_accuracy():
    import csv
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = os.path.join(TMP, "acc")
    subprocess.run([sys.executable, os.path.join(root, "scripts", "accuracy.py"), out, "--quick"],
                   check=True, env=dict(os.environ))
    rows = list(csv.DictReader(open(os.path.join(out, "accuracy.csv"))))
    by = {(r["group"], r["label"]): r for r in rows}
    groups = {r["group"] for r in rows}
    assert groups == {"baseline", "key bits, recompute", "key bits, no recompute",
                      "rule keep-mass", "rule keep-fraction", "non-ideality"}, groups
    assert len(rows) == 3 + 6 + 2 + 1 + 1, len(rows)
    acc = {k: float(r["accuracy"]) for k, r in by.items()}
    kept = {k: float(r["kept_fraction"]) for k, r in by.items()}
    assert acc[("baseline", "float (torch)")] >= 0.9, "the reduced training did not learn the task"
    for k in acc:
        assert 0.0 <= acc[k] <= 1.0 and 0.0 < kept[k] <= 1.0, k
        if k[0] != "baseline":
            assert kept[k] < 0.5, ("SPRINT kept most pairs", k, kept[k])
    # a lower keep target keeps fewer pairs
    assert kept[("rule keep-mass", "keep-mass 0.5")] < kept[("rule keep-mass", "keep-mass 0.9")]
    assert os.path.getsize(os.path.join(out, "accuracy.png")) > 10000
    table = open(os.path.join(out, "accuracy.md")).read()
    assert "| key bits, no recompute | key bits 2 |" in table, table[:400]


try:
    {"simulate": case_simulate, "attention": case_attention, "errors": case_errors,
     "parameters": case_parameters, "torch": case_torch, "accuracy": case_accuracy}[CASE]()
finally:
    subprocess.run(["rm", "-rf", TMP], check=False)
print("ok")

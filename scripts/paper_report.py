#!/usr/bin/env python3
"""The paper side by side, twice: every workload preset on S, M and L
  * under the strong defaults: SPRINT against the strong dense baseline of the same size, with
    thresholds that keep 90% of the softmax mass, and for each preset the S baseline with every
    row valid (what the paper's Fig. 10 normalises its traffic to);
  * under the paper's stated assumptions (profiles/paper.ini, every setting with its source):
    SPRINT against the paper's baseline as it describes it (same on-chip memory, no pruning,
    processing padding: dense-stream over every row) of the same size.
Writes report.md, report.csv and bar charts (speed-up, energy reduction, main-memory traffic
reduction as Fig. 10: model beside paper) into OUT, with the energy ratio again with every
on-chip energy halved and multiplied by five (the counts re-priced, not re-simulated). Every model
figure comes from sprint-sim --stats; the paper's figures are those of docs/paper.md ([F]: read
from the paper's figures, about +-0.1x).

usage: paper_report.py SPRINT_SIM OUT [--quick] [--jobs N]
  --quick: one head of 128 tokens per preset, S only (what the test suite runs)
"""
import csv
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

WORKLOADS = ["bert-base", "bert-large", "albert-xl", "albert-xxl", "vit-base", "gpt2-large",
             "synth-1", "synth-2"]
SIZES = ["S", "M", "L"]
# docs/paper.md, "Results to compare against" [F]
PAPER_SPEEDUP = {
    "bert-base": (8.95, 8.84, 8.66), "bert-large": (10.35, 10.10, 9.59),
    "albert-xl": (7.51, 7.33, 7.15), "albert-xxl": (9.20, 9.05, 8.55),
    "vit-base": (2.80, 2.73, 2.69), "gpt2-large": (8.55, 8.48, 8.19),
    "synth-1": (7.98, 7.91, 7.73), "synth-2": (7.98, 7.91, 7.73)}
PAPER_ENERGY_S = {
    "bert-base": 17.18, "bert-large": 20.54, "albert-xl": 17.61, "albert-xxl": 19.90,
    "vit-base": 2.10, "gpt2-large": 31.63, "synth-1": 29.72, "synth-2": 26.75}
# Fig. 10 [F]: main-memory traffic reduction per workload, S / M / L, normalised to the S
# baseline, which processes padding; "mask only" skips padded rows and columns alone.
PAPER_FIG10_SPRINT = {
    "bert-base": (0.98, 0.99, 0.99), "bert-large": (0.99, 0.99, 0.99),
    "albert-xl": (0.98, 0.99, 0.99), "albert-xxl": (0.99, 0.99, 0.99),
    "vit-base": (0.73, 0.97, 0.97), "gpt2-large": (0.98, 0.98, 0.99),
    "synth-1": (0.97, 0.98, 0.99), "synth-2": (0.96, 0.97, 0.98)}
PAPER_FIG10_MASK = {
    "bert-base": (0.70, 0.85, 0.99), "bert-large": (0.75, 0.87, 0.99),
    "albert-xl": (0.76, 0.88, 0.99), "albert-xxl": (0.76, 0.88, 0.99),
    "vit-base": (0.0, 0.97, 0.97), "gpt2-large": (0.75, 0.79, 0.85),
    "synth-1": (0.75, 0.76, 0.80), "synth-2": (0.75, 0.76, 0.77)}
# The reference Fig. 10 divides by, simulated: the S dense baseline on the same workload with
# every row valid and no causal mask, so it moves what a baseline that processes padding moves.
PADDED_BASELINE = ["--preset", "S", "--mode", "dense", "--compare=false", "--min-valid", "1",
                   "--causal=false"]
# BERT-B baseline energy split, by eye [F]
PAPER_SPLIT = {"main-memory read": 0.46, "main-memory write": 0.04, "on-chip read": 0.21,
               "on-chip write": 0.08, "QK": 0.07, "V": 0.07, "softmax": 0.04}
SETTINGS = ["--keep-mass", "0.9", "--compare", "true"]
# The paper's assumptions, and its baseline run as the paper describes it.
PROFILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "profiles", "paper.ini")
PAPER_SPRINT = ["--config", PROFILE, "--keep-mass", "0.9", "--compare=false"]
PAPER_BASELINE = ["--config", PROFILE, "--mode", "dense-stream", "--compare=false",
                  "--min-valid", "1"]
# On-chip energies are estimates: the energy ratio re-priced with them scaled by these.
ONCHIP_SCALES = (0.5, 5.0)


def geomean(xs):
    xs = [x for x in xs if x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def run(sim, out, workload, size, quick, kind="strong"):
    """One run: the workload at `size` (kind strong, or under the paper profile: paper-sprint,
    paper-baseline), or (size "padded") Fig. 10's reference baseline of the strong set."""
    tag = size if kind == "strong" else "%s_%s" % (kind, size)
    stats = os.path.join(out, "runs", "%s_%s.json" % (workload, tag))
    args = [sim, "--workload", workload, "--stats", stats]
    if size == "padded":
        args += PADDED_BASELINE
    elif kind == "strong":
        args += ["--preset", size] + SETTINGS
    else:
        args += (PAPER_SPRINT if kind == "paper-sprint" else PAPER_BASELINE) + ["--preset", size]
    if quick:
        args += ["--heads", "1", "--seq-len", "128"]
    t0 = time.time()
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit("paper_report: %s failed (exit %d):\n%s" %
                         (" ".join(args), r.returncode, r.stderr))
    with open(stats) as f:
        doc = json.load(f)
    jobs = {j["mode"]: j for j in doc["jobs"]}
    return {"workload": workload, "size": size, "kind": kind, "seconds": time.time() - t0,
            "sprint": jobs.get("sprint"), "dense": jobs.get("dense"),
            "baseline": jobs.get("dense-stream")}


def energy_scaled(job, scale):
    """The job's energy (uJ) with every on-chip line (all but main memory) times `scale`."""
    total = 0.0
    for l in job["energy"]["lines"]:
        total += l["pJ"] * (1.0 if l["block"] == "dram" else scale)
    return total * 1e-6


def split(job):
    """The energy of a job grouped as the paper's baseline split."""
    lines = job["energy"]["lines"]
    total = job["energy"]["total"]["value"] * 1e6
    group = {"main-memory read": ("dram", "read"), "main-memory write": ("dram", "write"),
             "on-chip read": ("sram", "read"), "on-chip write": ("sram", "write"),
             "QK": ("datapath", "qk_mac"), "V": ("datapath", "v_mac")}
    out = {k: 0.0 for k in PAPER_SPLIT}
    for l in lines:
        key = (l["block"], l["action"])
        for name, g in group.items():
            if key == g or (name == "V" and key == ("datapath", "v_mac_p8")):
                out[name] += l["pJ"]
        if l["block"] == "datapath" and l["action"] in ("exp", "div"):
            out["softmax"] += l["pJ"]
    rest = total - sum(out.values())
    out = {k: v / total for k, v in out.items()}
    out["other (crossbar, control, leakage)"] = rest / total
    return out


def main():
    argv = sys.argv[1:]
    quick = "--quick" in argv
    jobs = 2
    if "--jobs" in argv:
        jobs = int(argv[argv.index("--jobs") + 1])
    pos = [a for i, a in enumerate(argv) if not a.startswith("--") and
           (i == 0 or argv[i - 1] != "--jobs")]
    if len(pos) != 2:
        raise SystemExit(__doc__)
    sim, out = pos
    os.makedirs(os.path.join(out, "runs"), exist_ok=True)
    sizes = ["S"] if quick else SIZES
    todo = [(w, s, "strong") for w in WORKLOADS for s in sizes + ["padded"]]
    todo += [(w, s, k) for w in WORKLOADS for s in sizes for k in ("paper-sprint",
                                                                     "paper-baseline")]
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        everything = list(pool.map(lambda t: run(sim, out, t[0], t[1], quick, t[2]), todo))
    wall = time.time() - t0
    results = [r for r in everything if r["kind"] == "strong"]
    paper_runs = {(r["workload"], r["size"], r["kind"]): r for r in everything
                  if r["kind"] != "strong"}

    bytes_ = lambda j: j["mem_read_bytes"]["value"] + j["mem_write_bytes"]["value"]
    padded = {r["workload"]: bytes_(r["dense"]) for r in results if r["size"] == "padded"}
    rows = []
    for r in results:
        if r["size"] == "padded":
            continue
        s, d = r["sprint"], r["dense"]
        si = SIZES.index(r["size"])
        row = {
            "workload": r["workload"], "size": r["size"],
            "speedup_model": d["cycles"]["value"] / s["cycles"]["value"],
            "speedup_paper": PAPER_SPEEDUP[r["workload"]][si],
            "energy_model": d["energy"]["total"]["value"] / s["energy"]["total"]["value"],
            "energy_paper": PAPER_ENERGY_S[r["workload"]] if r["size"] == "S" else float("nan"),
            "traffic_model": 1.0 - bytes_(s) / bytes_(d),
            "fig10_model": 1.0 - bytes_(s) / padded[r["workload"]],
            "fig10_paper": PAPER_FIG10_SPRINT[r["workload"]][si],
            "mask_only_model": 1.0 - bytes_(d) / padded[r["workload"]],
            "mask_only_paper": PAPER_FIG10_MASK[r["workload"]][si],
            "keep_fraction": s["fidelity"]["overall"]["keep_fraction"]["value"],
            "mass_retained": s["fidelity"]["overall"]["attention_mass_retained"]["value"],
            "sprint_limit": s["bounds"]["limit"], "dense_limit": d["bounds"]["limit"],
            "seconds": r["seconds"]}
        ps = paper_runs[(r["workload"], r["size"], "paper-sprint")]["sprint"]
        pb = paper_runs[(r["workload"], r["size"], "paper-baseline")]["baseline"]
        pb_s = paper_runs[(r["workload"], "S", "paper-baseline")]["baseline"]
        row.update({
            "speedup_profile": pb["cycles"]["value"] / ps["cycles"]["value"],
            "energy_profile": pb["energy"]["total"]["value"] / ps["energy"]["total"]["value"],
            "fig10_profile": 1.0 - bytes_(ps) / bytes_(pb_s),
            "keep_fraction_profile": ps["fidelity"]["overall"]["keep_fraction"]["value"],
            "sprint_limit_profile": ps["bounds"]["limit"],
            "baseline_limit_profile": pb["bounds"]["limit"]})
        for sc in ONCHIP_SCALES:
            row["energy_model_x%g" % sc] = energy_scaled(d, sc) / energy_scaled(s, sc)
            row["energy_profile_x%g" % sc] = energy_scaled(pb, sc) / energy_scaled(ps, sc)
        rows.append(row)

    with open(os.path.join(out, "report.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        for row in rows:
            w.writerow(row)

    md = []
    md.append("| workload | size | speed-up model | paper | model/paper | energy model | paper |"
              " model/paper | traffic vs same-size baseline | keep | mass | SPRINT limit |")
    md.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        e_ratio = r["energy_model"] / r["energy_paper"] if r["size"] == "S" else float("nan")
        md.append("| %s | %s | %.2fx | %.2fx | %.2f | %.2fx | %s | %s | %.1f%% | %.3f |"
                  " %.3f | %s |" % (
                      r["workload"], r["size"], r["speedup_model"], r["speedup_paper"],
                      r["speedup_model"] / r["speedup_paper"], r["energy_model"],
                      "%.2fx" % r["energy_paper"] if r["size"] == "S" else "-",
                      "%.2f" % e_ratio if r["size"] == "S" else "-",
                      100 * r["traffic_model"], r["keep_fraction"],
                      r["mass_retained"], r["sprint_limit"]))
    md.append("")
    md.append("| size | geomean speed-up model | paper | model/paper | geomean energy model |"
              " paper | mean Fig. 10 traffic reduction model | paper |")
    md.append("|---|---|---|---|---|---|---|---|")
    for size in sizes:
        rs = [r for r in rows if r["size"] == size]
        gm, gp = geomean([r["speedup_model"] for r in rs]), geomean([r["speedup_paper"] for r in rs])
        em = geomean([r["energy_model"] for r in rs])
        ep = geomean([r["energy_paper"] for r in rs]) if size == "S" else float("nan")
        tm = sum(r["fig10_model"] for r in rs) / len(rs)
        tp = sum(r["fig10_paper"] for r in rs) / len(rs)
        md.append("| %s | %.2fx | %.2fx | %.2f | %.2fx | %s | %.1f%% | %.1f%% |" % (
            size, gm, gp, gm / gp, em, "%.2fx" % ep if size == "S" else "-", 100 * tm,
            100 * tp))
    md.append("")
    md.append("Main-memory traffic reduction as the paper's Fig. 10 gives it: normalised to the S")
    md.append("dense baseline of the workload with every row valid and no causal mask (a baseline")
    md.append("that processes padding, simulated); mask only = the dense baseline of the size,")
    md.append("which skips padding and masked keys:")
    md.append("")
    md.append("| workload | size | mask only model | paper | SPRINT model | paper |")
    md.append("|---|---|---|---|---|---|")
    for r in rows:
        md.append("| %s | %s | %.1f%% | %.0f%% | %.1f%% | %.0f%% |" % (
            r["workload"], r["size"], 100 * r["mask_only_model"], 100 * r["mask_only_paper"],
            100 * r["fig10_model"], 100 * r["fig10_paper"]))
    md.append("")
    md.append("Under the paper's stated assumptions (profiles/paper.ini: ReRAM main memory, four")
    md.append("banks, K resident in the array, 8-bit probabilities, 16-bit outputs, key-interleaved")
    md.append("units) against the paper's baseline as it describes it (same on-chip memory, no")
    md.append("pruning, processing padding: dense-stream over every row, same size); Fig. 10 traffic")
    md.append("normalised to that baseline on S. Rows more than 30% off the paper are marked, with")
    md.append("what was measured about them (kept share, SPRINT's and the baseline's limiting bound):")
    md.append("")
    md.append("| workload | size | speed-up profile | strong | paper | profile/paper | energy profile |"
              " strong | paper | profile/paper | Fig. 10 profile | paper | keep | SPRINT limit |"
              " baseline limit | off >30% |")
    md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        sp = r["speedup_profile"] / r["speedup_paper"]
        ep = r["energy_profile"] / r["energy_paper"] if r["size"] == "S" else float("nan")
        off = [n for n, x in (("speed-up", sp), ("energy", ep)) if x == x and abs(x - 1) > 0.3]
        md.append("| %s | %s | %.2fx | %.2fx | %.2fx | %.2f | %.2fx | %.2fx | %s | %s | %.1f%% |"
                  " %.0f%% | %.3f | %s | %s | %s |" % (
                      r["workload"], r["size"], r["speedup_profile"], r["speedup_model"],
                      r["speedup_paper"], sp, r["energy_profile"], r["energy_model"],
                      "%.2fx" % r["energy_paper"] if r["size"] == "S" else "-",
                      "%.2f" % ep if r["size"] == "S" else "-", 100 * r["fig10_profile"],
                      100 * r["fig10_paper"], r["keep_fraction_profile"],
                      r["sprint_limit_profile"], r["baseline_limit_profile"],
                      ", ".join(off) if off else "-"))
    md.append("")
    md.append("| size | geomean speed-up profile | strong | paper | profile/paper | within 15% |"
              " geomean energy profile | strong | paper | profile/paper | within 15% |")
    md.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for size in sizes:
        rs = [r for r in rows if r["size"] == size]
        gp = geomean([r["speedup_profile"] for r in rs])
        gs = geomean([r["speedup_model"] for r in rs])
        gpp = geomean([r["speedup_paper"] for r in rs])
        if size == "S":
            ep_, es, epp = (geomean([r[k] for r in rs]) for k in
                            ("energy_profile", "energy_model", "energy_paper"))
            energy = "%.2fx | %.2fx | %.2fx | %.2f | %s" % (
                ep_, es, epp, ep_ / epp, "yes" if abs(ep_ / epp - 1) <= 0.15 else "no")
        else:
            energy = "- | - | - | - | -"
        md.append("| %s | %.2fx | %.2fx | %.2fx | %.2f | %s | %s |" % (
            size, gp, gs, gpp, gp / gpp, "yes" if abs(gp / gpp - 1) <= 0.15 else "no", energy))
    md.append("")
    md.append("On-chip energies are estimates (docs/energy.md): the S geomean energy reduction with")
    md.append("every on-chip energy (all but main memory) scaled, the same counts re-priced:")
    md.append("")
    md.append("| on-chip energies | strong defaults | paper profile | paper |")
    md.append("|---|---|---|---|")
    rs = [r for r in rows if r["size"] == "S"]
    epp = geomean([r["energy_paper"] for r in rs])
    for sc in (ONCHIP_SCALES[0], 1.0, ONCHIP_SCALES[1]):
        km = "energy_model" if sc == 1.0 else "energy_model_x%g" % sc
        kp = "energy_profile" if sc == 1.0 else "energy_profile_x%g" % sc
        md.append("| x%g | %.2fx | %.2fx | %.2fx |" % (sc, geomean([r[km] for r in rs]),
                                                       geomean([r[kp] for r in rs]), epp))
    bert = next(r for r in results if r["workload"] == "bert-base" and r["size"] == "S")
    md.append("")
    md.append("Baseline energy split, bert-base on S (model from its energy lines; paper by eye):")
    md.append("")
    md.append("| part | model | paper |")
    md.append("|---|---|---|")
    for k, v in split(bert["dense"]).items():
        md.append("| %s | %.1f%% | %s |" % (k, 100 * v,
                                            "%.0f%%" % (100 * PAPER_SPLIT[k]) if k in PAPER_SPLIT
                                            else "-"))
    pbert = paper_runs[("bert-base", "S", "paper-baseline")]["baseline"]
    md.append("")
    md.append("The paper profile's baseline energy split, bert-base on S:")
    md.append("")
    md.append("| part | model | paper |")
    md.append("|---|---|---|")
    for k, v in split(pbert).items():
        md.append("| %s | %.1f%% | %s |" % (k, 100 * v,
                                            "%.0f%%" % (100 * PAPER_SPLIT[k]) if k in PAPER_SPLIT
                                            else "-"))
    md.append("")
    md.append("%d runs (%s), %.0f s wall on %d parallel jobs; strong settings: %s; paper profile:"
              " profiles/paper.ini with --keep-mass 0.9, its baseline: dense-stream --min-valid 1."
              % (len(everything), "quick: one head of 128 tokens, S" if quick else
                 "every preset on S, M, L twice, the strong set's S baseline with every row valid,"
                 " and the paper's baseline per size", wall, jobs, " ".join(SETTINGS)))
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(md) + "\n")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    for key, title, fname in [("speedup", "speed-up over the dense baseline", "speedup.png"),
                              ("energy", "energy reduction over the dense baseline", "energy.png"),
                              ("fig10", "main-memory traffic reduction, normalised as Fig. 10",
                               "traffic.png")]:
        fig, ax = plt.subplots(figsize=(10, 4))
        labels = ["%s %s" % (r["workload"], r["size"]) for r in rows]
        xs = range(len(rows))
        ax.bar([x - 0.2 for x in xs], [r[key + "_model"] for r in rows], 0.4, label="model")
        ax.bar([x + 0.2 for x in xs], [r[key + "_paper"] for r in rows], 0.4, label="paper")
        ax.set_xticks(list(xs))
        ax.set_xticklabels(labels, rotation=70, fontsize=7)
        ax.set_title(title)
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(out, fname), dpi=100)
        plt.close(fig)
    print("paper_report: %d runs in %.0f s; %s" % (len(rows), wall,
                                                   os.path.join(out, "report.md")))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Plots of a sprint-sweep result CSV (one row per design point: id, workload, status, message,
one column per swept axis, then figure columns; only rows with status ok carry figures).

usage: sweep_plot.py CSV OUTDIR --axes A1,A2,... [--pareto X,Y] [--title TEXT]
  --axes    the axis columns of the CSV, in the order of the sweep (the first one colours the
            Pareto plot)
  --pareto  the two figure columns of the Pareto plot, minimised, or maximised when written
            max:NAME (default time_us,energy_uj)
  --title   text put at the top of every figure (default: the CSV's file name)

Writes into OUTDIR (created if missing), printing one line per file written:
  pareto.png            X against Y for the ok points, Pareto-optimal ones highlighted and
                        joined by a step line, coloured by the first axis
  axis-<name>.png       per axis: its value against speedup and energy_saving (time_us and
                        energy_uj when the sweep ran no baseline); points sharing the other
                        axes' values joined into one line
  energy_breakdown.png  per-block energy (columns energy_<block>_uj) stacked, one bar per point
A missing figure column skips its plot with a message on stderr. Exit status 2 when the CSV has
no ok row or names no such axis column. Each PNG is written under a temporary name in OUTDIR
and renamed into place.
"""
import argparse
import csv
import math
import os
import re
import sys
import tempfile

PROG = "sweep_plot.py"
DPI = 120
MAX_SERIES = 8          # axis plots: more series than this are drawn as a plain scatter
MAX_LEGEND_CATS = 12    # pareto plot: more numeric values than this use a colour bar
MAX_BARS = 60           # energy breakdown: at most this many bars
FIXED_COLUMNS = ("id", "workload", "status", "message")
BLOCK_RE = re.compile(r"^energy_(.+)_uj$")
UNITS = {"us": "us", "uj": "uJ", "mm2": "mm2", "nj": "nJ", "bytes": "B", "ns": "ns",
         "ms": "ms", "pj": "pJ", "mw": "mW", "w": "W"}
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p"]


def die(msg):
    print("%s: error: %s" % (PROG, msg), file=sys.stderr)
    sys.exit(2)


def warn(msg):
    print("%s: %s" % (PROG, msg), file=sys.stderr)


def num(s):
    """The cell as a finite float, or None (empty, text, nan, inf)."""
    if s is None:
        return None
    s = s.strip()
    if not s:
        return None
    try:
        v = float(s)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def label_of(col):
    """'time_us' -> 'time (us)', 'edp_uj_us' -> 'edp (uJ*us)', 'cycles' -> 'cycles'."""
    parts = col.split("_")
    units = []
    while len(parts) > 1 and parts[-1].lower() in UNITS:
        units.insert(0, UNITS[parts.pop().lower()])
    name = " ".join(parts)
    return "%s (%s)" % (name, "*".join(units)) if units else name


def fmt_value(s):
    """Compact text of an axis value: numbers without a useless '.0', text as is."""
    v = num(s)
    if v is None:
        return s.strip() if s and s.strip() else "-"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return "%g" % v


def safe_name(s):
    return re.sub(r"[^A-Za-z0-9._-]", "_", s)


def column_values(rows, col):
    return [num(r.get(col)) for r in rows]


def has_data(rows, col):
    return any(v is not None for v in column_values(rows, col))


def is_numeric_axis(values):
    """True when every non-empty value of the axis is a number."""
    present = [v for v in values if v is not None and v.strip()]
    return bool(present) and all(num(v) is not None for v in present)


def use_log(values):
    vals = [v for v in values if v is not None]
    return bool(vals) and min(vals) > 0 and max(vals) / min(vals) > 20


def save(fig, outdir, name):
    """Write the figure to a temporary file beside name, then rename it to name; by sprint-sim's
    rules (platforms/sim/output_files.h): a symbolic link is followed (the file it names is written),
    a device or FIFO is written in place."""
    dest = os.path.realpath(os.path.join(outdir, name))
    if os.path.isdir(dest):
        print("%s: error: cannot write %s: it is a directory" % (PROG, dest), file=sys.stderr)
        sys.exit(1)
    if os.path.exists(dest) and not os.path.isfile(dest):
        with open(dest, "wb") as f:
            fig.savefig(f, format="png", dpi=DPI)
        print(os.path.join(outdir, name))
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix="." + name + ".",
                                   suffix=".tmp")
    except OSError as e:
        print("%s: error: cannot write in %s: %s" % (PROG, outdir, e.strerror or e),
              file=sys.stderr)
        sys.exit(1)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png", dpi=DPI)
            # mkstemp makes the file 0600: give it the mode of the file it replaces, or of a new
            # file under the user's umask, as any other output.
            if os.path.exists(dest):
                mode = os.stat(dest).st_mode & 0o7777
            else:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            os.fchmod(f.fileno(), mode)
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    print(os.path.join(outdir, name))


def pareto_mask(xs, ys):
    """mask[i] is True when no other point is at least as good in both and better in one
    (both minimised: the caller negates a maximised figure)."""
    order = sorted(range(len(xs)), key=lambda i: (xs[i], ys[i]))
    mask = [False] * len(xs)
    best_y = math.inf
    last = None
    for i in order:
        if ys[i] < best_y or (last is not None and (xs[i], ys[i]) == last):
            mask[i] = True
            best_y = ys[i]
            last = (xs[i], ys[i])
    return mask


def set_value_ticks(ax, values, log, axis="x"):
    """Put ticks at the swept values themselves when there are few of them."""
    from matplotlib.ticker import FixedLocator, FixedFormatter, NullLocator
    distinct = sorted(set(values))
    a = ax.xaxis if axis == "x" else ax.yaxis
    if log:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    if len(distinct) <= 12:
        a.set_major_locator(FixedLocator(distinct))
        a.set_major_formatter(FixedFormatter([fmt_value(repr(v)) for v in distinct]))
        if log:
            a.set_minor_locator(NullLocator())


def point_label(row, cols):
    return "/".join(fmt_value(row.get(c)) for c in cols)


class Sweep:
    def __init__(self, path, axes):
        self.path = path
        try:
            with open(path, newline="") as f:
                reader = csv.DictReader(f)
                self.header = list(reader.fieldnames or [])
                self.rows = list(reader)
        except OSError as e:
            die("cannot read %s: %s" % (path, e.strerror or e))
        except csv.Error as e:
            die("%s: not a readable CSV: %s" % (path, e))
        if "status" not in self.header:
            die("%s has no 'status' column" % path)
        for a in axes:
            if a not in self.header:
                die("axis column '%s' is not in %s (columns: %s)" % (
                    a, path, ", ".join(c for c in self.header if c not in FIXED_COLUMNS)))
        self.axes = axes
        self.ok = [r for r in self.rows if (r.get("status") or "").strip() == "ok"]
        if not self.ok:
            counts = {}
            for r in self.rows:
                s = (r.get("status") or "").strip() or "(empty)"
                counts[s] = counts.get(s, 0) + 1
            die("no rows with status ok in %s (%s)" % (
                path, ", ".join("%d %s" % (n, s) for s, n in sorted(counts.items()))
                or "no rows at all"))
        workloads = []
        for r in self.ok:
            w = (r.get("workload") or "").strip()
            if w not in workloads:
                workloads.append(w)
        # with several workloads, a point is named (and grouped) by its workload as well
        self.ident = (["workload"] if len(workloads) > 1 and "workload" not in axes
                      else []) + list(axes)

    def categories(self, axis):
        """Distinct values of an axis in first-seen order over all rows of the sweep."""
        seen = []
        for r in self.rows:
            v = (r.get(axis) or "").strip()
            if v and v not in seen:
                seen.append(v)
        for r in self.ok:
            v = (r.get(axis) or "").strip()
            if v not in seen:
                seen.append(v)
        return seen


def plot_pareto(plt, sw, outdir, xcol, ycol, title, xmax=False, ymax=False):
    for c in (xcol, ycol):
        if c not in sw.header:
            warn("skipping pareto.png: no column '%s' in %s" % (c, sw.path))
            return
    pts = [r for r in sw.ok if num(r.get(xcol)) is not None and num(r.get(ycol)) is not None]
    if not pts:
        warn("skipping pareto.png: no ok point has both %s and %s" % (xcol, ycol))
        return
    xs = [num(r[xcol]) for r in pts]
    ys = [num(r[ycol]) for r in pts]
    mask = pareto_mask([-x if xmax else x for x in xs], [-y if ymax else y for y in ys])
    first = sw.axes[0] if sw.axes else None
    rest = [c for c in sw.ident if c != first]

    fig, ax = plt.subplots(figsize=(9.5, 6.2))
    handles = []
    colorbar_values = None
    if first is not None:
        raw = [r.get(first) for r in pts]
        cats = [c for c in sw.categories(first) if c in set(v.strip() for v in raw)]
        numeric = is_numeric_axis(raw)
        if numeric:
            cats.sort(key=lambda c: num(c))
        if numeric and len(cats) > MAX_LEGEND_CATS:
            colorbar_values = [num(v) for v in raw]
        else:
            cmap = plt.get_cmap("tab10" if len(cats) <= 10 else "tab20")
            for k, cat in enumerate(cats):
                idx = [i for i, v in enumerate(raw) if v.strip() == cat]
                color = cmap(k % cmap.N)
                marker = MARKERS[k % len(MARKERS)]
                dom = [i for i in idx if not mask[i]]
                opt = [i for i in idx if mask[i]]
                ax.scatter([xs[i] for i in dom], [ys[i] for i in dom], s=36, color=color,
                           marker=marker, alpha=0.45, linewidths=0)
                ax.scatter([xs[i] for i in opt], [ys[i] for i in opt], s=90, color=color,
                           marker=marker, edgecolors="black", linewidths=1.2, zorder=3)
                handles.append(ax.scatter([], [], s=60, color=color, marker=marker,
                                          label="%s" % fmt_value(cat)))
    if first is None or colorbar_values is not None:
        dom = [i for i in range(len(xs)) if not mask[i]]
        opt = [i for i in range(len(xs)) if mask[i]]
        kw = {}
        if colorbar_values is not None:
            vals = colorbar_values
            from matplotlib.colors import LogNorm, Normalize
            norm = LogNorm() if use_log(vals) else Normalize()
            norm.autoscale(vals)
            kw = dict(cmap="viridis", norm=norm)
            sc = ax.scatter([xs[i] for i in dom], [ys[i] for i in dom], s=36, alpha=0.5,
                            c=[vals[i] for i in dom], linewidths=0, **kw)
            ax.scatter([xs[i] for i in opt], [ys[i] for i in opt], s=90, zorder=3,
                       c=[vals[i] for i in opt], edgecolors="black", linewidths=1.2, **kw)
            fig.colorbar(sc, ax=ax, label=first, pad=0.02)
        else:
            ax.scatter([xs[i] for i in dom], [ys[i] for i in dom], s=36, alpha=0.45,
                       color="tab:blue", linewidths=0)
            ax.scatter([xs[i] for i in opt], [ys[i] for i in opt], s=90, color="tab:blue",
                       edgecolors="black", linewidths=1.2, zorder=3)

    front = sorted((xs[i], ys[i]) for i in range(len(xs)) if mask[i])
    line, = ax.plot([p[0] for p in front], [p[1] for p in front], drawstyle="steps-post",
                    color="black", linewidth=1.3, zorder=2, label="Pareto front")
    if use_log(xs):
        ax.set_xscale("log")
    if use_log(ys):
        ax.set_yscale("log")
    # name the Pareto points by their other axes (the colour gives the first) when few; a
    # label goes below left of its point, where no point and no part of the front can be,
    # unless that would leave the axes
    if rest and len(front) <= 12:
        opt = sorted((i for i in range(len(xs)) if mask[i]), key=lambda i: (xs[i], ys[i]))
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        fx = (lambda v: (math.log(v) - math.log(x0)) / (math.log(x1) - math.log(x0))) \
            if ax.get_xscale() == "log" else (lambda v: (v - x0) / ((x1 - x0) or 1))
        fy = (lambda v: (math.log(v) - math.log(y0)) / (math.log(y1) - math.log(y0))) \
            if ax.get_yscale() == "log" else (lambda v: (v - y0) / ((y1 - y0) or 1))
        axes_w_pt = fig.get_figwidth() * 72 * 0.62
        axes_h_pt = fig.get_figheight() * 72 * 0.8
        for i in opt:
            text = point_label(pts[i], rest)
            w = (len(text) * 7.5 * 0.6 + 8) / axes_w_pt
            h = 14 / axes_h_pt
            right = fx(xs[i]) < w
            up = fy(ys[i]) < h
            ax.annotate(text, (xs[i], ys[i]), textcoords="offset points",
                        xytext=(6 if right else -6, 5 if up else -5),
                        ha="left" if right else "right", va="bottom" if up else "top",
                        fontsize=7.5, color="0.15", zorder=4)
    ax.set_xlabel(label_of(xcol))
    ax.set_ylabel(label_of(ycol))
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title("%s\nPareto front of %s %s and %s %s: %d of %d ok points optimal"
                 % (title, "max" if xmax else "min", xcol, "max" if ymax else "min", ycol,
                    len(front), len(xs)), fontsize=10)
    if handles:
        leg_title = first + (("\nlabels: " + "/".join(rest))
                             if rest and len(front) <= 12 else "")
        ax.legend(handles=handles + [line], title=leg_title, fontsize=8, title_fontsize=8,
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    elif rest and len(front) <= 12:
        ax.legend(handles=[line], title="labels: " + "/".join(rest), fontsize=8,
                  title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend(handles=[line], fontsize=8)
    fig.tight_layout()
    save(fig, outdir, "pareto.png")
    plt.close(fig)


def plot_axis(plt, sw, outdir, axis, title):
    panels = []
    for pref, fallback in (("speedup", "time_us"), ("energy_saving", "energy_uj")):
        if pref in sw.header and has_data(sw.ok, pref):
            panels.append(pref)
        elif fallback in sw.header and has_data(sw.ok, fallback):
            panels.append(fallback)
        else:
            warn("axis-%s.png: no %s nor %s data, panel left out" % (axis, pref, fallback))
    name = "axis-%s.png" % safe_name(axis)
    if not panels:
        warn("skipping %s" % name)
        return
    raw = [(r.get(axis) or "").strip() for r in sw.ok]
    numeric = is_numeric_axis(raw)
    if numeric:
        xval = [num(v) for v in raw]
        cats = None
    else:
        cats = sw.categories(axis)
        pos = {c: k for k, c in enumerate(cats)}
        xval = [pos[v] for v in raw]
    others = [c for c in sw.ident if c != axis]
    groups = {}
    for i, r in enumerate(sw.ok):
        groups.setdefault(tuple((r.get(c) or "").strip() for c in others), []).append(i)
    joined = len(groups) <= MAX_SERIES
    # series in the order of the sweep's values of the other axes
    order = {c: {v: k for k, v in enumerate(sw.categories(c))} for c in others}
    for c in others:
        if is_numeric_axis([r.get(c) for r in sw.ok]):
            order[c] = {v: num(v) for v in order[c]}
    keys = sorted(groups, key=lambda k: tuple(order[c].get(v, 0) for c, v in zip(others, k)))

    fig, axs = plt.subplots(1, len(panels), figsize=(6.2 * len(panels) + 1.8, 5.0),
                            squeeze=False)
    axs = axs[0]
    cmap = plt.get_cmap("tab10")
    for ax, col in zip(axs, panels):
        yv = column_values(sw.ok, col)
        for k, key in enumerate(keys):
            idx = sorted((i for i in groups[key] if yv[i] is not None and xval[i] is not None),
                         key=lambda i: xval[i])
            if not idx:
                continue
            lbl = ", ".join("%s=%s" % (c, fmt_value(v)) for c, v in zip(others, key))
            if joined:
                ax.plot([xval[i] for i in idx], [yv[i] for i in idx], marker=MARKERS[k % 8],
                        color=cmap(k % 10), linewidth=1.5, markersize=6,
                        label=lbl or None)
            else:
                ax.scatter([xval[i] for i in idx], [yv[i] for i in idx], s=22,
                           color="tab:blue", alpha=0.55, linewidths=0)
        present = [v for v in yv if v is not None]
        if col in ("speedup", "energy_saving") and present and min(present) < 1.5:
            ax.axhline(1.0, color="0.5", linestyle="--", linewidth=1)
        if numeric:
            set_value_ticks(ax, [v for v in xval if v is not None], use_log(xval))
            xs_ = [v for v in xval if v is not None]
            long_ticks = len(set(xs_)) > 6 and max(len(fmt_value(repr(v))) for v in xs_) > 4
            if long_ticks:
                plt.setp(ax.get_xticklabels(), rotation=35, ha="right")
        else:
            ax.set_xticks(range(len(cats)))
            ax.set_xticklabels(cats)
            ax.set_xlim(-0.5, len(cats) - 0.5)
            if sum(len(c) for c in cats) > 40:
                plt.setp(ax.get_xticklabels(), rotation=35, ha="right")
        if use_log(yv) and col not in ("speedup", "energy_saving"):
            ax.set_yscale("log")
        ax.set_xlabel(axis)
        ylabel = {"speedup": "speed-up over the dense baseline (x)",
                  "energy_saving": "energy saving over the dense baseline (x)"}.get(
                      col, label_of(col))
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.set_title(ylabel.split(" (")[0] if col in ("speedup", "energy_saving")
                     else col, fontsize=10)
    note = "" if joined or not others else \
        " (%d combinations of the other axes: points not joined)" % len(groups)
    fig.suptitle("%s\n%s%s" % (title, axis, note), fontsize=11)
    h, l = axs[0].get_legend_handles_labels()
    if joined and l:
        # as many legend columns as fit the figure's width (8 pt text, marker and gap)
        per_col = max(len(x) for x in l) * 8 * 0.6 + 45
        ncol = max(1, min(len(l), 4, int(fig.get_figwidth() * 72 * 0.95 / per_col)))
        fig.legend(h, l, loc="lower center", ncol=ncol, fontsize=8, frameon=False)
        rows_leg = (len(l) + ncol - 1) // ncol
        fig.tight_layout(rect=(0, 0.03 + 0.045 * rows_leg, 1, 1))
    else:
        fig.tight_layout()
    save(fig, outdir, name)
    plt.close(fig)


def plot_energy_breakdown(plt, sw, outdir, title):
    blocks = [c for c in sw.header
              if BLOCK_RE.match(c) and c != "energy_uj" and has_data(sw.ok, c)]
    if not blocks:
        warn("skipping energy_breakdown.png: no per-block energy column (energy_<block>_uj) "
             "with data in %s" % sw.path)
        return
    pts = [r for r in sw.ok if any(num(r.get(b)) is not None for b in blocks)]

    def total(r):
        t = num(r.get("energy_uj"))
        return t if t is not None else sum(num(r.get(b)) or 0.0 for b in blocks)

    note = ""
    if len(pts) > MAX_BARS:
        note = " (the %d of %d points of lowest energy_uj, lowest first)" % (MAX_BARS, len(pts))
        pts = sorted(pts, key=total)[:MAX_BARS]
    labels = [point_label(r, sw.ident) for r in pts]
    if len(set(labels)) < len(labels):  # axes that do not tell the points apart: add the id
        labels = ["%s #%s" % (s, (r.get("id") or "?").strip()) for s, r in zip(labels, pts)]
    n = len(pts)
    maxlen = max(len(s) for s in labels)
    rotate = n * maxlen * 0.11 > max(8.0, min(26.0, 0.32 * n + 3.5)) * 0.85
    width = max(8.0, min(26.0, 0.32 * n + 3.5))
    height = 5.5 + (min(maxlen, 40) * 0.07 if rotate else 0)
    fig, ax = plt.subplots(figsize=(width + 2.2, height))
    cmap = plt.get_cmap("tab10" if len(blocks) <= 10 else "tab20")
    bottom = [0.0] * n
    for k, b in enumerate(blocks):
        vals = [num(r.get(b)) or 0.0 for r in pts]
        ax.bar(range(n), vals, 0.75, bottom=bottom, color=cmap(k % cmap.N),
               label=BLOCK_RE.match(b).group(1), edgecolor="white", linewidth=0.3)
        bottom = [x + y for x, y in zip(bottom, vals)]
    if "energy_uj" in sw.header:
        tot = [(i, num(r.get("energy_uj"))) for i, r in enumerate(pts)
               if num(r.get("energy_uj")) is not None]
        if tot:
            ax.scatter([t[0] for t in tot], [t[1] for t in tot], marker="_", s=160,
                       color="black", linewidths=1.6, zorder=3, label="energy_uj (total)")
    ax.set_xticks(range(n))
    ax.set_xticklabels(labels, fontsize=8 if n <= 30 else 7)
    if rotate:
        plt.setp(ax.get_xticklabels(), rotation=60 if maxlen > 8 else 45, ha="right",
                 rotation_mode="anchor")
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_xlabel("design point (" + " / ".join(sw.ident) + ")")
    ax.set_ylabel("energy (uJ)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_title("%s\nenergy per block%s" % (title, note), fontsize=10)
    h, l = ax.get_legend_handles_labels()
    ax.legend(h[::-1], l[::-1], fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0, title="block", title_fontsize=8)
    fig.tight_layout()
    save(fig, outdir, "energy_breakdown.png")
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(prog=PROG, description="Plots of a sprint-sweep result CSV.")
    ap.add_argument("csv", metavar="CSV")
    ap.add_argument("outdir", metavar="OUTDIR")
    ap.add_argument("--axes", required=True, help="axis columns, separated by --axes-sep")
    ap.add_argument("--axes-sep", default=",",
                    help="what separates the --axes names (default ','; sprint-sweep passes '|', "
                         "since an axis of two options is named 'a, b')")
    ap.add_argument("--pareto", default="time_us,energy_uj",
                    help="X,Y figure columns, minimised; max:NAME maximises one "
                         "(default time_us,energy_uj)")
    ap.add_argument("--title", default=None)
    args = ap.parse_args()

    axes = []
    for a in args.axes.split(args.axes_sep):
        a = a.strip()
        if a and a not in axes:
            axes.append(a)
    if not axes:
        die("--axes names no column")
    pareto = [c.strip() for c in args.pareto.split(",")]
    maximise = [c.startswith("max:") for c in pareto]
    pareto = [c.split(":", 1)[1] if c.startswith(("max:", "min:")) else c for c in pareto]
    if len(pareto) != 2 or not all(pareto):
        die("--pareto wants two columns X,Y, got '%s'" % args.pareto)
    sw = Sweep(args.csv, axes)
    title = args.title if args.title is not None else os.path.basename(args.csv)

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        die("matplotlib is needed (%s)" % e)
    try:
        os.makedirs(args.outdir, exist_ok=True)
    except OSError as e:
        die("cannot create %s: %s" % (args.outdir, e.strerror or e))

    plot_pareto(plt, sw, args.outdir, pareto[0], pareto[1], title, maximise[0], maximise[1])
    for a in axes:
        plot_axis(plt, sw, args.outdir, a, title)
    plot_energy_breakdown(plt, sw, args.outdir, title)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Plots of a sprint-sweep result CSV (one row per design point: id, workload, status, message,
one column per swept axis, then figure columns; only rows with status ok carry figures).

usage: sweep_plot.py CSV OUTDIR --axes A1,A2,... [--pareto X,Y] [--title TEXT] [--describe]
  --axes      the axis columns of the CSV, in the order of the sweep (the first one colours the
              Pareto plot)
  --pareto    the two figure columns of the Pareto plot, minimised, or maximised when written
              max:NAME (default time_us,energy_uj)
  --title     text put at the top of every figure (default: the CSV's file name)
  --describe  after each file's line, a line 'NAME: what it shows' (its panels, rows of panels
              or groups of bars, and the lines of an axis plot)

Writes into OUTDIR (created if missing), printing one line per file written:
  pareto.png            X against Y for the ok points, Pareto-optimal ones highlighted and
                        joined by a step line, coloured by the first axis
  axis-<name>.png       per axis: its value against speedup and energy_saving (time_us and
                        energy_uj when the sweep ran no baseline); points sharing the other
                        axes' values joined into one line
  energy_breakdown.png  per-block energy (columns energy_<block>_uj) stacked, one bar per point
When the ok points belong to several workloads (column workload), every plot tells them apart:
pareto.png has a panel per workload, each with its own front (a front compares the points of
one workload), axis-<name>.png a row of panels per workload, energy_breakdown.png the bars of
each workload side by side under its name. Panels share a scale unless a workload would fill
less than a third of it. With one workload, each plot is the single figure described above.
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


def one_scale(groups, log):
    """Whether one scale suits every group of values (lists, None ignored): yes unless a group
    of two or more distinct values would span less than a third of the common range (of the
    logarithms when log), squeezed where it could not be read."""
    f = math.log10 if log else float
    vals = [[f(v) for v in g if v is not None] for g in groups]
    vals = [g for g in vals if g]
    if len(vals) < 2:
        return True
    whole = max(max(g) for g in vals) - min(min(g) for g in vals)
    return all(max(g) - min(g) >= whole / 3 for g in vals if max(g) > min(g))


def workload_name(w):
    return w if w else "(unnamed)"


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
        # the workloads of the ok points, in the sweep's order; with several, every plot tells
        # them apart (a panel, a row or a group of bars each)
        self.workloads = workloads
        self.multi = len(workloads) > 1
        # with several workloads, a point is named (and grouped) by its workload as well
        self.ident = (["workload"] if self.multi and "workload" not in axes
                      else []) + list(axes)

    def by_workload(self, rows):
        """[(workload, its rows)] in the sweep's order, workloads without rows left out; with
        one workload [(None, rows)]."""
        if not self.multi:
            return [(None, rows)]
        groups = [(w, [r for r in rows if (r.get("workload") or "").strip() == w])
                  for w in self.workloads]
        return [(w, g) for w, g in groups if g]

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


def pareto_colours(plt, sw, pts, first):
    """How the Pareto plot colours a point by the first axis, alike in every panel: a list of
    (value, colour, marker) for a legend, a colour norm when the axis has more numeric values
    than a legend holds (a colour bar), None without axes."""
    if first is None:
        return None
    raw = [r.get(first) for r in pts]
    present = set(v.strip() for v in raw)
    cats = [c for c in sw.categories(first) if c in present]
    numeric = is_numeric_axis(raw)
    if numeric:
        cats.sort(key=lambda c: num(c))
    if numeric and len(cats) > MAX_LEGEND_CATS:
        from matplotlib.colors import LogNorm, Normalize
        vals = [num(v) for v in raw]
        norm = LogNorm() if use_log(vals) else Normalize()
        norm.autoscale(vals)
        return norm
    cmap = plt.get_cmap("tab10" if len(cats) <= 10 else "tab20")
    return [(cat, cmap(k % cmap.N), MARKERS[k % len(MARKERS)]) for k, cat in enumerate(cats)]


def draw_pareto_panel(ax, pts, xcol, ycol, xmax, ymax, first, colours):
    """pts as a scatter, their Pareto front highlighted and joined by a step line. Returns
    (xs, ys, mask, the front's line, the scatter a colour bar reads or None)."""
    xs = [num(r[xcol]) for r in pts]
    ys = [num(r[ycol]) for r in pts]
    mask = pareto_mask([-x if xmax else x for x in xs], [-y if ymax else y for y in ys])
    dom = [i for i in range(len(xs)) if not mask[i]]
    opt = [i for i in range(len(xs)) if mask[i]]
    sc = None
    if isinstance(colours, list):
        raw = [r.get(first).strip() for r in pts]
        for cat, color, marker in colours:
            d = [i for i in dom if raw[i] == cat]
            o = [i for i in opt if raw[i] == cat]
            ax.scatter([xs[i] for i in d], [ys[i] for i in d], s=36, color=color,
                       marker=marker, alpha=0.45, linewidths=0)
            ax.scatter([xs[i] for i in o], [ys[i] for i in o], s=90, color=color,
                       marker=marker, edgecolors="black", linewidths=1.2, zorder=3)
    elif colours is not None:
        vals = [num(r.get(first)) for r in pts]
        kw = dict(cmap="viridis", norm=colours)
        sc = ax.scatter([xs[i] for i in dom], [ys[i] for i in dom], s=36, alpha=0.5,
                        c=[vals[i] for i in dom], linewidths=0, **kw)
        ax.scatter([xs[i] for i in opt], [ys[i] for i in opt], s=90, zorder=3,
                   c=[vals[i] for i in opt], edgecolors="black", linewidths=1.2, **kw)
    else:
        ax.scatter([xs[i] for i in dom], [ys[i] for i in dom], s=36, alpha=0.45,
                   color="tab:blue", linewidths=0)
        ax.scatter([xs[i] for i in opt], [ys[i] for i in opt], s=90, color="tab:blue",
                   edgecolors="black", linewidths=1.2, zorder=3)
    front = sorted((xs[i], ys[i]) for i in opt)
    line, = ax.plot([p[0] for p in front], [p[1] for p in front], drawstyle="steps-post",
                    color="black", linewidth=1.3, zorder=2, label="Pareto front")
    return xs, ys, mask, line, sc


def label_front(ax, pts, xs, ys, mask, rest, axes_w_pt, axes_h_pt):
    """Name the Pareto points by the other axes (the colour gives the first): a label goes below
    left of its point, where no point and no part of the front can be, unless that would leave
    the axes (of about axes_w_pt x axes_h_pt points)."""
    opt = sorted((i for i in range(len(xs)) if mask[i]), key=lambda i: (xs[i], ys[i]))
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    fx = (lambda v: (math.log(v) - math.log(x0)) / (math.log(x1) - math.log(x0))) \
        if ax.get_xscale() == "log" else (lambda v: (v - x0) / ((x1 - x0) or 1))
    fy = (lambda v: (math.log(v) - math.log(y0)) / (math.log(y1) - math.log(y0))) \
        if ax.get_yscale() == "log" else (lambda v: (v - y0) / ((y1 - y0) or 1))
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


def pareto_legend(ax, colours, first, rest, line, labelled):
    """The legend beside ax: the first axis's values (markers and colours) and the front."""
    handles = []
    if isinstance(colours, list):
        handles = [ax.scatter([], [], s=60, color=color, marker=marker, label=fmt_value(cat))
                   for cat, color, marker in colours]
    if handles:
        leg_title = first + (("\nlabels: " + "/".join(rest)) if labelled else "")
        ax.legend(handles=handles + [line], title=leg_title, fontsize=8, title_fontsize=8,
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    elif labelled:
        ax.legend(handles=[line], title="labels: " + "/".join(rest), fontsize=8,
                  title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend(handles=[line], fontsize=8)


def plot_pareto(plt, sw, outdir, xcol, ycol, title, xmax=False, ymax=False):
    """pareto.png; with several workloads a panel per workload, each with its own front.
    Returns a description of the panels (for --describe) or None when skipped."""
    for c in (xcol, ycol):
        if c not in sw.header:
            warn("skipping pareto.png: no column '%s' in %s" % (c, sw.path))
            return None
    pts = [r for r in sw.ok if num(r.get(xcol)) is not None and num(r.get(ycol)) is not None]
    if not pts:
        warn("skipping pareto.png: no ok point has both %s and %s" % (xcol, ycol))
        return None
    first = sw.axes[0] if sw.axes else None
    # the panel names the workload: the labels name the other axes
    rest = [c for c in sw.ident if c != first and not (sw.multi and c == "workload")]
    colours = pareto_colours(plt, sw, pts, first)
    goal = "%s %s and %s %s" % ("max" if xmax else "min", xcol, "max" if ymax else "min", ycol)
    groups = sw.by_workload(pts)
    if len(groups) == 1:
        fig, ax = plt.subplots(figsize=(9.5, 6.2))
        xs, ys, mask, line, sc = draw_pareto_panel(ax, pts, xcol, ycol, xmax, ymax, first,
                                                   colours)
        if sc is not None:
            fig.colorbar(sc, ax=ax, label=first, pad=0.02)
        if use_log(xs):
            ax.set_xscale("log")
        if use_log(ys):
            ax.set_yscale("log")
        nfront = sum(mask)
        if rest and nfront <= 12:
            label_front(ax, pts, xs, ys, mask, rest, fig.get_figwidth() * 72 * 0.62,
                        fig.get_figheight() * 72 * 0.8)
        ax.set_xlabel(label_of(xcol))
        ax.set_ylabel(label_of(ycol))
        ax.grid(True, which="major", alpha=0.3)
        only = "" if groups[0][0] is None else " (workload %s: no other has these figures)" \
            % workload_name(groups[0][0])
        ax.set_title("%s\nPareto front of %s: %d of %d ok points optimal%s"
                     % (title, goal, nfront, len(xs), only), fontsize=10)
        pareto_legend(ax, colours, first, rest, line, rest and nfront <= 12)
        desc = "one panel (front %d of %d)%s" % (
            nfront, len(xs), "" if groups[0][0] is None else
            ", workload %s only" % workload_name(groups[0][0]))
    else:
        fig, desc, own = pareto_facets(plt, groups, xcol, ycol, xmax, ymax, first, rest,
                                       colours)
        scales = "\neach panel has its own %s scale%s" % (
            " and ".join(own), "s" if len(own) > 1 else "") if own else ""
        fig.suptitle("%s\nPareto front of %s within each workload (a front compares the "
                     "points of one workload)%s" % (title, goal, scales), fontsize=10)
    fig.tight_layout()
    save(fig, outdir, "pareto.png")
    plt.close(fig)
    return desc


def facet_grid(plt, n, sharex, sharey, colour_bar):
    """A figure of n panels, three to a row at most, rows as even as can be, with a narrow
    column on the right for a colour bar when asked. Returns (figure, the n panels, the colour
    bar's axes or None, panels per row)."""
    nrow = (n + 2) // 3
    ncol = (n + nrow - 1) // nrow
    fig = plt.figure(figsize=(4.7 * ncol + 2.3, 4.5 * nrow + 0.9))
    gs = fig.add_gridspec(nrow, ncol + 1 if colour_bar else ncol,
                          width_ratios=[1] * ncol + ([0.05] if colour_bar else []))
    axs = []
    for k in range(n):
        axs.append(fig.add_subplot(gs[k // ncol, k % ncol],
                                   sharex=axs[0] if sharex and axs else None,
                                   sharey=axs[0] if sharey and axs else None))
    return fig, axs, fig.add_subplot(gs[:, -1]) if colour_bar else None, ncol


def pareto_facets(plt, groups, xcol, ycol, xmax, ymax, first, rest, colours):
    """The Pareto figure of several workloads: a panel each, side by side (three to a row),
    one scale for all panels when it suits every workload (one_scale). Returns (figure,
    description, the columns whose scale is not shared)."""
    n = len(groups)
    allx = [[num(r[xcol]) for r in g] for _, g in groups]
    ally = [[num(r[ycol]) for r in g] for _, g in groups]
    logx = use_log(sum(allx, []))
    logy = use_log(sum(ally, []))
    sharex = one_scale(allx, logx)
    sharey = one_scale(ally, logy)
    bar = colours is not None and not isinstance(colours, list)
    fig, axs, cax, ncol = facet_grid(plt, n, sharex, sharey, bar)
    drawn = []
    for k, (ax, (w, g)) in enumerate(zip(axs, groups)):
        res = draw_pareto_panel(ax, g, xcol, ycol, xmax, ymax, first, colours)
        drawn.append(res)
        if logx if sharex else use_log(res[0]):
            ax.set_xscale("log")
        if logy if sharey else use_log(res[1]):
            ax.set_yscale("log")
        ax.grid(True, which="major", alpha=0.3)
        if k + ncol >= n or not sharex:  # nothing below, or a scale of its own
            ax.set_xlabel(label_of(xcol))
        else:
            ax.xaxis.set_tick_params(labelbottom=False)
        if k % ncol == 0 or not sharey:
            ax.set_ylabel(label_of(ycol))
        else:
            ax.yaxis.set_tick_params(labelleft=False)
    parts = []
    labelled = False
    for ax, (w, g), (xs, ys, mask, line, sc) in zip(axs, groups, drawn):
        nfront = sum(mask)
        if rest and nfront <= 12:  # after every panel is drawn: the shared limits are final
            labelled = True
            label_front(ax, g, xs, ys, mask, rest, 4.7 * 72 * 0.78, 4.5 * 72 * 0.78)
        ax.set_title("workload %s: %d of %d ok points optimal"
                     % (workload_name(w), nfront, len(xs)), fontsize=10)
        parts.append("%s (front %d of %d)" % (workload_name(w), nfront, len(xs)))
    scs = [d[4] for d in drawn if d[4] is not None]
    if cax is not None and scs:
        fig.colorbar(scs[0], cax=cax, label=first)
    pareto_legend(axs[ncol - 1], colours, first, rest, drawn[0][3], labelled)
    desc = "panels by workload: %s; %s scale %s, %s scale %s" % (
        ", ".join(parts), xcol, "shared" if sharex else "per panel",
        ycol, "shared" if sharey else "per panel")
    own = [c for c, shared in ((xcol, sharex), (ycol, sharey)) if not shared]
    return fig, desc, own


def axis_series(sw, axis, rows_by_workload):
    """The lines of an axis plot: the other axes (less the workload when a row of panels shows
    each), {their values: indices into sw.ok}, the keys in the sweep's order of the values."""
    others = [c for c in sw.ident if c != axis and not (rows_by_workload and c == "workload")]
    groups = {}
    for i, r in enumerate(sw.ok):
        groups.setdefault(tuple((r.get(c) or "").strip() for c in others), []).append(i)
    order = {c: {v: k for k, v in enumerate(sw.categories(c))} for c in others}
    for c in others:
        if is_numeric_axis([r.get(c) for r in sw.ok]):
            order[c] = {v: num(v) for v in order[c]}
    keys = sorted(groups, key=lambda k: tuple(order[c].get(v, 0) for c, v in zip(others, k)))
    return others, groups, keys


def axis_x_ticks(plt, ax, numeric, xval, cats):
    """Ticks at the axis's values, turned when they would overlap."""
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


AXIS_YLABELS = {"speedup": "speed-up over the dense baseline (x)",
                "energy_saving": "energy saving over the dense baseline (x)"}


def series_labels(series):
    others, _, keys = series
    return [", ".join("%s=%s" % (c, fmt_value(v)) for c, v in zip(others, key)) for key in keys]


def draw_axis_panel(ax, sw, col, sel, scope, xval, series, joined, cmap):
    """One figure column against the axis for the points sel (indices into sw.ok): a line per
    series (others, groups, keys); scope: the points whose values the y scale spans."""
    others, groups, keys = series
    labels = series_labels(series)
    yv = column_values(sw.ok, col)
    for k, key in enumerate(keys):
        idx = sorted((i for i in groups[key]
                      if i in sel and yv[i] is not None and xval[i] is not None),
                     key=lambda i: xval[i])
        if not idx:
            continue
        lbl = labels[k]
        if joined:
            ax.plot([xval[i] for i in idx], [yv[i] for i in idx], marker=MARKERS[k % 8],
                    color=cmap(k % 10), linewidth=1.5, markersize=6, label=lbl or None)
        else:
            ax.scatter([xval[i] for i in idx], [yv[i] for i in idx], s=22,
                       color="tab:blue", alpha=0.55, linewidths=0)
    present = [yv[i] for i in scope if yv[i] is not None]
    if col in ("speedup", "energy_saving") and present and min(present) < 1.5:
        ax.axhline(1.0, color="0.5", linestyle="--", linewidth=1)
    if use_log(present) and col not in ("speedup", "energy_saving"):
        ax.set_yscale("log")
    ax.set_ylabel(AXIS_YLABELS.get(col, label_of(col)))
    ax.grid(True, alpha=0.3)


def plot_axis(plt, sw, outdir, axis, title):
    """axis-<name>.png: the axis against speed-up and energy saving; with several workloads a
    row of panels per workload. Returns a description (for --describe) or None."""
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
        return None
    raw = [(r.get(axis) or "").strip() for r in sw.ok]
    numeric = is_numeric_axis(raw)
    cats = None if numeric else sw.categories(axis)
    pos = {c: k for k, c in enumerate(cats or [])}
    xval = [num(v) for v in raw] if numeric else [pos[v] for v in raw]
    index = {id(r): i for i, r in enumerate(sw.ok)}
    rows = [(w, set(index[id(r)] for r in g)) for w, g in sw.by_workload(sw.ok)]
    if axis == "workload":  # its own values tell the workloads apart
        rows = [(None, set(range(len(sw.ok))))]
    series = axis_series(sw, axis, len(rows) > 1)
    joined = len(series[1]) <= MAX_SERIES
    share = {c: len(rows) == 1 or one_scale(
        [[column_values(sw.ok, c)[i] for i in sel] for _, sel in rows],
        use_log(column_values(sw.ok, c)) and c not in AXIS_YLABELS) for c in panels}
    height = 5.0 if len(rows) == 1 else 1.3 + 3.7 * len(rows)
    fig, axs = plt.subplots(len(rows), len(panels), figsize=(6.2 * len(panels) + 1.8, height),
                            squeeze=False, sharex=len(rows) > 1)
    for r, (w, sel) in enumerate(rows):
        for c, col in enumerate(panels):
            ax = axs[r][c]
            if share[col] and r > 0:
                ax.sharey(axs[0][c])
            draw_axis_panel(ax, sw, col, sel, set(range(len(sw.ok))) if share[col] else sel,
                            xval, series, joined, plt.get_cmap("tab10"))
            axis_x_ticks(plt, ax, numeric, xval, cats)
            if r == len(rows) - 1:
                ax.set_xlabel(axis)
            head = AXIS_YLABELS[col].split(" (")[0] if col in AXIS_YLABELS else col
            ax.set_title(head if w is None else "workload %s: %s" % (workload_name(w), head),
                         fontsize=10)
    axis_figure_text(fig, axs, sw, axis, title, series, joined, len(rows) > 1)
    save(fig, outdir, name)
    plt.close(fig)
    lines = "lines: " + ", ".join(series_labels(series)) if joined else \
        "%d combinations, not joined" % len(series[1])
    return "%s; %s" % (
        "rows by workload: " + ", ".join(workload_name(w) for w, _ in rows) if len(rows) > 1
        else "one row", lines if series[0] else "one line")


def axis_figure_text(fig, axs, sw, axis, title, series, joined, by_workload):
    """The axis figure's title and its legend of the lines, below the panels; lays it out."""
    others, groups, _ = series
    note = "" if joined or not others else \
        " (%d combinations of the other axes: points not joined)" % len(groups)
    fig.suptitle("%s\n%s%s%s" % (title, axis, note, ", a row per workload" if by_workload
                                 else ""), fontsize=11)
    # a series missing from the first row may be drawn in another
    found = {}
    for row in axs:
        for h, l in zip(*row[0].get_legend_handles_labels()):
            found.setdefault(l, h)
    l = [x for x in series_labels(series) if x in found]
    h = [found[x] for x in l]
    if joined and l:
        # as many legend columns as fit the figure's width (8 pt text, marker and gap)
        per_col = max(len(x) for x in l) * 8 * 0.6 + 45
        ncol = max(1, min(len(l), 4, int(fig.get_figwidth() * 72 * 0.95 / per_col)))
        fig.legend(h, l, loc="lower center", ncol=ncol, fontsize=8, frameon=False)
        rows_leg = (len(l) + ncol - 1) // ncol
        # the legend's height is in inches: its share of a taller figure is smaller
        fig.tight_layout(rect=(0, (0.03 + 0.045 * rows_leg) * 5.0 / fig.get_figheight(), 1, 1))
    else:
        fig.tight_layout()


def breakdown_positions(sw, pts):
    """Bar positions and labels: with several workloads the bars of a workload side by side,
    a gap between workloads, the labels naming the other axes. Returns (points in bar order,
    x positions, labels, [(workload, first x, last x)] or [])."""
    cols = [c for c in sw.ident if not (sw.multi and c == "workload")] or ["id"]
    groups = sw.by_workload(pts)
    ordered, xs, spans = [], [], []
    x = 0.0
    for w, g in groups:
        spans.append((w, x, x + len(g) - 1))
        for r in g:
            ordered.append(r)
            xs.append(x)
            x += 1
        x += 0.8  # the gap between workloads
    labels = [point_label(r, cols) for r in ordered]
    keys = [((r.get("workload") or "").strip(), s) for r, s in zip(ordered, labels)]
    if len(set(keys)) < len(keys):  # axes that do not tell the points apart: add the id
        labels = ["%s #%s" % (s, (r.get("id") or "?").strip()) for s, r in zip(labels, ordered)]
    return ordered, xs, labels, (spans if sw.multi else [])


def mark_workloads(ax, spans, top):
    """Name each workload above its bars, shading every other one."""
    for k, (w, a, b) in enumerate(spans):
        if k % 2:
            ax.axvspan(a - 0.5, b + 0.5, color="0.93", zorder=0, linewidth=0)
        ax.text((a + b) / 2, top, "workload %s" % workload_name(w), ha="center", va="bottom",
                fontsize=9, fontweight="bold", color="0.2")


def plot_energy_breakdown(plt, sw, outdir, title):
    """energy_breakdown.png; with several workloads the bars grouped by workload. Returns a
    description (for --describe) or None when skipped."""
    blocks = [c for c in sw.header
              if BLOCK_RE.match(c) and c != "energy_uj" and has_data(sw.ok, c)]
    if not blocks:
        warn("skipping energy_breakdown.png: no per-block energy column (energy_<block>_uj) "
             "with data in %s" % sw.path)
        return None
    pts = [r for r in sw.ok if any(num(r.get(b)) is not None for b in blocks)]

    def total(r):
        t = num(r.get("energy_uj"))
        return t if t is not None else sum(num(r.get(b)) or 0.0 for b in blocks)

    note = ""
    if len(pts) > MAX_BARS:
        note = " (the %d of %d points of lowest energy_uj, lowest first%s)" % (
            MAX_BARS, len(pts), " within each workload" if sw.multi else "")
        pts = sorted(pts, key=total)[:MAX_BARS]
    pts, pos, labels, spans = breakdown_positions(sw, pts)
    n = len(pts)
    span = pos[-1] + 1 if pos else 0  # bars and gaps
    maxlen = max(len(s) for s in labels)
    width = max(8.0, min(26.0, 0.32 * span + 3.5))
    rotate = n * maxlen * 0.11 > width * 0.85
    height = 5.5 + (min(maxlen, 40) * 0.07 if rotate else 0)
    fig, ax = plt.subplots(figsize=(width + 2.2, height))
    cmap = plt.get_cmap("tab10" if len(blocks) <= 10 else "tab20")
    bottom = [0.0] * n
    for k, b in enumerate(blocks):
        vals = [num(r.get(b)) or 0.0 for r in pts]
        ax.bar(pos, vals, 0.75, bottom=bottom, color=cmap(k % cmap.N),
               label=BLOCK_RE.match(b).group(1), edgecolor="white", linewidth=0.3)
        bottom = [x + y for x, y in zip(bottom, vals)]
    tops = list(bottom)
    if "energy_uj" in sw.header:
        tot = [(pos[i], num(r.get("energy_uj"))) for i, r in enumerate(pts)
               if num(r.get("energy_uj")) is not None]
        if tot:
            ax.scatter([t[0] for t in tot], [t[1] for t in tot], marker="_", s=160,
                       color="black", linewidths=1.6, zorder=3, label="energy_uj (total)")
            tops += [t[1] for t in tot]
    if spans:
        top = max(tops) * 1.04
        mark_workloads(ax, spans, top)
        ax.set_ylim(0, top * 1.08)
    ax.set_xticks(pos)
    ax.set_xticklabels(labels, fontsize=8 if n <= 30 else 7)
    if rotate:
        plt.setp(ax.get_xticklabels(), rotation=60 if maxlen > 8 else 45, ha="right",
                 rotation_mode="anchor")
    ax.set_xlim(-0.6, span - 0.4)
    cols = [c for c in sw.ident if c != "workload"] if spans else sw.ident
    ax.set_xlabel("design point (" + " / ".join(cols) + ")"
                  + (", grouped by workload" if spans else ""))
    ax.set_ylabel("energy (uJ)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_title("%s\nenergy per block%s" % (title, note), fontsize=10)
    h, l = ax.get_legend_handles_labels()
    ax.legend(h[::-1], l[::-1], fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0, title="block", title_fontsize=8)
    fig.tight_layout()
    save(fig, outdir, "energy_breakdown.png")
    plt.close(fig)
    if not spans:
        return "%d bars" % n
    return "groups by workload: " + ", ".join(
        "%s (%d bars)" % (workload_name(w), int(b - a) + 1) for w, a, b in spans)


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
    ap.add_argument("--describe", action="store_true",
                    help="after each file written, a line 'NAME: what it shows' (its panels, "
                         "rows or groups of bars)")
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

    def describe(name, text):
        if args.describe and text is not None:
            print("%s: %s" % (name, text))

    describe("pareto.png", plot_pareto(plt, sw, args.outdir, pareto[0], pareto[1], title,
                                       maximise[0], maximise[1]))
    for a in axes:
        describe("axis-%s.png" % safe_name(a), plot_axis(plt, sw, args.outdir, a, title))
    describe("energy_breakdown.png", plot_energy_breakdown(plt, sw, args.outdir, title))


if __name__ == "__main__":
    main()

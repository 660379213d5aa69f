"""sprint_vp: the SPRINT virtual prototype from Python (docs/python.md).

Three things, all configured with sprint-sim's own option and parameter names (a dict such as
{"sprint.xbar.key_bits": 3, "keep-mass": 0.95, "mode": "sprint"}; parameters() lists them):

  attention(q, k, v, config)   SPRINT's attention on numpy arrays [heads, n, d], bit for bit the
                               IP's output (quantisation, crossbar scores with the configured bits
                               and non-idealities, the threshold rule and calibration, the
                               fixed-point softmax, V), with the thresholds and the keep mask
  dense_attention(q, k, v)     the dense float reference (what the fidelity figures compare with)
  simulate(config, q, k, v)    the whole simulator: the statistics (the --stats document, units
                               included) and the output, the same numbers as sprint-sim's

Bad options raise ValueError with sprint-sim's message; a job that fails raises JobError.
"""

import json

import numpy as np

from . import _sprint_vp as _native

__all__ = ["attention", "dense_attention", "simulate", "parameters", "settings", "options",
           "JobError", "SimulatorError"]


class JobError(RuntimeError):
    """sprint-sim's exit status 1: a job failed or its output differs from the reference. The
    result (statistics, output, messages) is in .result."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


class SimulatorError(RuntimeError):
    """The simulator process ended without a result (killed by a signal, or an internal error)."""


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def options(config=None, config_file=None):
    """sprint-sim's command-line options for a config dict (names as sprint-sim spells them,
    leading dashes optional) and an optional --config INI file."""
    out = []
    if config_file is not None:
        out.append("--config=%s" % config_file)
    for name, value in (config or {}).items():
        name = str(name).lstrip("-")
        if not name:
            raise ValueError("an empty option name in the config")
        out.append("--%s=%s" % (name, _text(value)))
    return out


def parameters():
    """Every sprint-sim option and model parameter: name -> {"default", and for the model
    parameters "unit", "description", "allowed"}. The one registry the simulator parses."""
    return _native.parameters()


def settings(config=None, config_file=None):
    """The effective value of every option and parameter for this config (presets applied), as
    sprint-sim --dump-config writes them; ValueError for a bad config."""
    return _native.settings(options(config, config_file))


def attention(q, k, v, config=None, masks=False, recompute=True, scores=False):
    """SPRINT's attention of q, k, v (float arrays [heads, n, d]) in the mode the config selects
    (default sprint; "mode": "dense" is the dense fixed-point datapath, "onchip-prune" prunes on
    exact scores). Returns a dict: "output" (float32 [heads, n, d], the IP's output decoded),
    "thresholds" (per head, logits), "kept_pairs", and with masks=True "mask" (bool [heads, n, n]:
    the keys each query kept). With scores=True, "scores" (float32 [heads, n, n], NaN where a key
    is not visible): the score, in logits, each key was judged on: the crossbar's approximate
    q.k (with the configured bits and non-idealities) in sprint mode, the exact one in
    onchip-prune.
    recompute=False is a study, not the IP: the softmax over the kept keys takes the scores the
    keys were judged on (the crossbar's approximate scores) instead of the exact recompute, with
    softmax and V in double precision (the paper's Fig. 9 question)."""
    return _native.attention(np.asarray(q, dtype=np.float32), np.asarray(k, dtype=np.float32),
                             np.asarray(v, dtype=np.float32), options(config), masks, recompute,
                             scores)


def dense_attention(q, k, v, causal=False):
    """The dense float attention of q, k, v [heads, n, d] (softmax(q k^T / sqrt(d)) v in double
    precision, rounded to float32): sprint-sim's reference (a)."""
    return _native.dense_float(np.asarray(q, dtype=np.float32), np.asarray(k, dtype=np.float32),
                               np.asarray(v, dtype=np.float32), causal)


def simulate(config=None, q=None, k=None, v=None, config_file=None):
    """Runs the simulator (in a child process of its own) on the config's workload, or on q, k, v
    [heads, n, d]. Returns a dict: "stats" (the --stats document as a dict: every figure with its
    unit), "output" (float32 [heads, n, d] of the selected mode's job), "summary" (what sprint-sim
    prints, empty under quiet) and "exit_status" (0). Raises ValueError for bad options (nothing
    runs), JobError when a job fails, SimulatorError when the child dies. Ctrl-C stops the run
    (KeyboardInterrupt)."""
    for name in (config or {}):
        if str(name).lstrip("-") in ("stats", "output", "quiet"):
            raise ValueError("simulate() writes --stats and --output itself and returns them; "
                             "leave out '%s'" % name)
    arrays = [None if a is None else np.asarray(a, dtype=np.float32) for a in (q, k, v)]
    r = _native.simulate(options(config, config_file), *arrays)
    if r["exit_status"] < 0:
        raise SimulatorError("the simulator was killed by signal %d: %s"
                             % (r.get("signal", 0), r["stderr"].strip()))
    result = {
        "exit_status": r["exit_status"],
        "stats": json.loads(r["stats"]) if r.get("stats") else None,
        "output": r.get("output"),
        "summary": r["stdout"],
        "messages": r["stderr"],
    }
    if r["exit_status"] == 1:
        raise JobError(r["stderr"].strip() or "a job failed", result)
    if r["exit_status"] == 2:  # bad input found in the run (a file, a fit check)
        raise ValueError(r["stderr"].strip())
    if r["exit_status"] != 0:
        raise SimulatorError(r["stderr"].strip() or "exit status %d" % r["exit_status"])
    return result

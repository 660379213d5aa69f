// The evaluation of the jobs as simulated: each against the core's bit-exact reference and the
// fidelity references, with its bounds, energy and endurance, and the warnings a user should see.
#include "core/metrics.h"
#include "core/reference.h"
#include "platforms/sim/report_internal.h"

namespace sprint::platform {

using report::fmt;
using report::fmt_int;
using report::json;
using report::num;

namespace {

// Numeric leaves ("value") of `after` minus `before`: a module's counts during one job.
json stats_delta(const json& after, const json& before) {
    if (!after.is_object()) return after;
    json r = json::object();
    for (auto it = after.begin(); it != after.end(); ++it) {
        const json* b =
            before.is_object() && before.contains(it.key()) ? &before[it.key()] : nullptr;
        if (it.key() == "value" && it->is_number() && b && b->is_number())
            r[it.key()] = it->get<double>() - b->get<double>();
        else if (it.key() == "per_head" && it->is_array()) {  // element-wise, heads from 0
            r[it.key()] = json::array();
            for (std::size_t h = 0; h < it->size(); ++h)
                r[it.key()].push_back((*it)[h].get<double>() - (b && b->is_array() && h < b->size()
                                                                    ? (*b)[h].get<double>()
                                                                    : 0.0));
        } else
            r[it.key()] = stats_delta(*it, b ? *b : json());
    }
    return r;
}

// What a user should see at once: the pruning job (the first, when it prunes) loses attention
// mass or output accuracy, or is slower than the baseline it is compared with.
// A job that keeps every key (dense, dense-stream) and is still far from float attention: its
// softmax arithmetic, not pruning, loses this workload's attention (flat heads at long N round
// most probabilities to zero), and a comparison with it says little.
void warn_keep_all_error(const JobReport& r, std::vector<std::string>& w) {
    const core::Fidelity& f = r.fid.overall;
    if (!core::keeps_all(r.mode) || !f.accuracy || f.relative_l2_error <= kWarnErrorAbove) return;
    w.push_back("the " + std::string(core::to_string(r.mode)) + " output keeps every key and is " +
                fmt(100.0 * f.relative_l2_error, 1) +
                "% off dense float attention: the softmax arithmetic, not pruning, loses this "
                "workload's attention (--softmax float shows it), so a comparison with it says "
                "little");
}

std::vector<std::string> workload_warnings(const std::vector<JobReport>& reps) {
    std::vector<std::string> w;
    if (reps.empty()) return w;
    const JobReport& r = reps[0];
    if (!core::keeps_all(r.mode)) {
        const std::string mode = core::to_string(r.mode);
        const core::Fidelity& f = r.fid.overall;
        if (f.accuracy && f.mass_retained < kWarnMassBelow)
            w.push_back("the keys " + mode + " kept hold " + fmt(100.0 * f.mass_retained, 1) +
                        "% of the softmax mass (under " + fmt(100.0 * kWarnMassBelow, 0) +
                        "%): pruning drops attention this workload needs (--keep-mass " +
                        fmt(kWarnMassBelow, 2) + " sets thresholds by mass)");
        if (f.accuracy && f.relative_l2_error > kWarnErrorAbove)
            w.push_back("the " + mode + " output is " + fmt(100.0 * f.relative_l2_error, 1) +
                        "% off dense float attention (relative L2 over " +
                        fmt(100.0 * kWarnErrorAbove, 0) + "%)");
        for (std::size_t i = 1; i < reps.size(); ++i)
            if (reps[i].run->result.cycles < r.run->result.cycles)
                w.push_back(mode + " is slower than " + core::to_string(reps[i].mode) + " (" +
                            fmt_int(r.run->result.cycles) + " vs " +
                            fmt_int(reps[i].run->result.cycles) + " cycles)");
    }
    for (const JobReport& job : reps) warn_keep_all_error(job, w);
    return w;
}

}  // namespace

json JobRun::model() const {
    return stats_delta(stats_after, stats_before);
}
json JobRun::dram() const {
    return stats_delta(dram_after, dram_before);
}

Evaluation evaluate(const PlatformConfig& c, const Inputs& in, const core::Tensor3& dense,
                    const std::vector<JobRun>& runs) {
    Evaluation ev;
    for (const JobRun& r : runs) {
        JobReport rep;
        rep.mode = r.desc.opt.mode;
        rep.run = &r;
        // Against the core's output with the job's own thresholds (computed during the run).
        rep.verified = r.reference.valid();
        rep.bit_exact = rep.verified && r.out == r.reference.get();
        ev.all_exact &= rep.bit_exact || !rep.verified;
        const core::Tensor3 dec =
            core::decode_output(r.out, r.desc.opt.output, in.q.heads, in.q.n, in.q.d, in.w.heads);
        rep.fid = r.fidelity->finish(dec, dense);
        rep.new_fetch = double(r.result.k_rows_fetched) /
                        double(std::max<uint64_t>(1, rep.fid.overall.visible_pairs));
        rep.time_us = double(r.result.cycles) * c.ip.clock_ns / 1000.0;
        rep.bounds = report::job_bounds(r, c);
        rep.energy = core::cost(c.tech, report::job_counts(r, c, in.q.d), rep.time_us * 1000.0);
        for (uint32_t u = 0; u < c.ip.units; ++u)
            rep.unit_energy.push_back(
                core::cost(c.tech, report::job_counts(r, c, in.q.d, int(u)), rep.time_us * 1000.0));
        // Each head's dynamic energy (leakage is the job's: heads overlap in the pipeline).
        for (int h = 0; h < in.q.heads; ++h)
            rep.head_energy.push_back(
                core::cost(c.tech, report::job_counts(r, c, in.q.d, -1, h), 0.0));
        rep.ops = 4.0 * in.q.d * double(rep.fid.overall.visible_pairs);
        rep.queries = num(r.model(), {"controller", "queries"});
        // The hottest cell's writes in this job (the growth of the lifetime maximum: the same
        // columns are written by every job), and how many such jobs the cells survive.
        rep.cell_writes = num(r.model(), {"xbar", "max_cell_writes"});
        rep.endurance_jobs =
            rep.cell_writes > 0 ? c.ip.xbar.endurance_writes / rep.cell_writes : 0.0;
        ev.scores += rep.fid.overall.visible_pairs;
        ev.reports.push_back(rep);
    }
    ev.warnings = workload_warnings(ev.reports);
    return ev;
}

}  // namespace sprint::platform

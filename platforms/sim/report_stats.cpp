// The --stats document: the run, the workload, every parameter, and per job its registers,
// bounds, fidelity, engines, energy and the modules' statistics, each value with unit and
// description (docs/stats.schema.json).
#include <algorithm>
#include <iomanip>
#include <sstream>

#include "platforms/sim/report_internal.h"
#include "platforms/sim/version.h"

namespace sprint::platform {

using report::json;
using report::v;

namespace {

// The figures that need the references have value null when they were not computed
// (--fidelity=false).
json fidelity_json(const core::Fidelity& f) {
    const auto acc = [&f](double x) { return f.accuracy ? json(x) : json(nullptr); };
    return {
        {"visible_pairs", v(f.visible_pairs, "pairs", "(query, key) pairs after mask and padding")},
        {"kept_pairs", v(f.kept_pairs, "pairs", "pairs kept for exact recompute")},
        {"keep_fraction", v(f.keep_fraction, "fraction", "kept / visible pairs")},
        {"false_prune_rate", v(acc(f.false_prune_rate), "fraction",
                               "of the pairs exact-score pruning keeps, the share the IP pruned")},
        {"false_keep_rate", v(acc(f.false_keep_rate), "fraction",
                              "of the pairs exact-score pruning drops, the share the IP kept")},
        {"attention_mass_retained", v(acc(f.mass_retained), "share",
                                      "softmax mass of the dense float scores the kept keys hold")},
        {"output_cosine_vs_dense_float",
         v(acc(f.cosine_similarity), "",
           "cosine of the output rows against dense float attention")},
        {"output_relative_l2_vs_dense_float",
         v(acc(f.relative_l2_error), "",
           "relative L2 error of the output against dense float attention")},
        {"ideal_new_fetch_fraction",
         v(f.ideal_new_fetch_fraction, "fraction",
           "the paper's locality measure: keys kept now and not by the previous query / visible "
           "pairs")}};
}

json engines_json(const JobRun& r, const PlatformConfig& c) {
    const double clock_ns = c.ip.clock_ns;
    json e = json::object();
    const json m = r.model(), d = r.dram();
    for (const auto& row : report::engine_rows(c.ip.units, c.dram.channels)) {
        e[row.key]["busy_cycles"] = {{"value", row.busy(m, d) / clock_ns},
                                     {"unit", "cycles"},
                                     {"description", "time " + row.label + " was working"}};
        if (row.stall)
            e[row.key]["stall_cycles"] = {
                {"value", row.stall(m, d) / clock_ns},
                {"unit", "cycles"},
                {"description",
                 "time " + row.label +
                     " waited: stages for input, output or SRAM room; blocks: requests queued for "
                     "them (AT); fetcher: memory requests waiting for END_REQ (AT)"}};
    }
    return e;
}

json job_json(const JobReport& rep, const PlatformConfig& c) {
    const JobRun& r = *rep.run;
    json jj;
    jj["mode"] = core::to_string(rep.mode);
    jj["cycles"] = v(double(r.result.cycles), "cycles", "START to completion (CYCLES register)");
    jj["time"] = v(rep.time_us, "us", "cycles x clock period");
    jj["mem_read_bytes"] = v(double(r.result.mem_read_bytes), "B", "MEM_RD_BYTES register");
    jj["mem_write_bytes"] = v(double(r.result.mem_write_bytes), "B", "MEM_WR_BYTES register");
    jj["kept_keys"] = v(double(r.result.kept_keys), "pairs", "KEPT_KEYS register");
    jj["k_rows_fetched"] = v(double(r.result.k_rows_fetched), "rows", "K_ROWS_FETCHED register");
    jj["v_rows_fetched"] = v(double(r.result.v_rows_fetched), "rows", "V_ROWS_FETCHED register");
    jj["new_fetch_fraction"] = v(rep.new_fetch, "fraction", "K rows fetched / visible pairs");
    jj["paper_new_fetch_fraction"] =
        v(rep.fid.overall.ideal_new_fetch_fraction, "fraction",
          "the paper's locality measure: sum over queries of |kept(t) minus kept(t-1)| / visible "
          "pairs");
    jj["achieved_bandwidth"] = v(double(r.result.mem_read_bytes + r.result.mem_write_bytes) /
                                     std::max(1e-9, rep.time_us * 1e3),
                                 "GB/s", "bytes moved on mem / job time");
    jj["bit_exact_vs_core"] =
        v(rep.verified ? json(rep.bit_exact) : json(nullptr), "",
          "the output read back equals the SystemC-free core's bit for bit (null: --verify=false)");
    const Bounds& b = rep.bounds;
    jj["bounds"] = {
        {"datapath",
         v(b.datapath, "cycles", "datapath units busy (QK, softmax, V at their lanes)")},
        {"sram", v(b.sram, "cycles", "busier SRAM port (datapath reads, fetcher writes)")},
        {"memory_bandwidth", v(b.memory_bandwidth, "cycles", "bytes on mem / memory bandwidth")},
        {"memory_latency", v(b.memory_latency, "cycles",
                             "memory requests x latency / max_outstanding (Little's law)")},
        {"crossbar", v(b.crossbar, "cycles", "crossbar programming, evaluations and read-backs")},
        {"front",
         v(b.front, "cycles",
           "the front's own work: the busier of the crossbar array and the comparators' mask "
           "read-out, which overlap")},
        {"limit", b.limit},
        {"cycles_over_largest", v(double(rep.run->result.cycles) / std::max(1.0, b.largest), "",
                                  "job cycles / the largest lower bound")}};
    jj["fidelity"] = {{"overall", fidelity_json(rep.fid.overall)}, {"per_head", json::array()}};
    for (const auto& f : rep.fid.per_head) jj["fidelity"]["per_head"].push_back(fidelity_json(f));
    jj["per_head"] = json::array();
    for (const auto& h : r.heads)
        jj["per_head"].push_back(
            {{"head", h.head},
             {"cycles", v(h.cycles, "cycles", "head-table read to its last output row written")},
             {"queries", v(h.queries, "queries", "query rows of the head (padding skipped)")},
             {"visible_pairs", v(h.visible, "pairs", "(query, key) pairs after mask and padding")},
             {"kept_pairs", v(h.kept, "pairs", "pairs kept for exact recompute")},
             {"k_rows_fetched", v(h.k_fetched, "rows", "K rows the head brought into SRAM")},
             {"v_rows_fetched", v(h.v_fetched, "rows", "V rows the head brought into SRAM")}});
    jj["max_outstanding_requests"] =
        v(double(r.max_in_flight), "requests", "most memory requests of the IP in flight at once");
    jj["engines"] = engines_json(r, c);
    jj["energy"] = report::energy_json(rep);
    jj["model"] = r.model();
    jj["memory"] = r.dram();
    return jj;
}

// A parameter's value as JSON of its kind: a number, true/false, or text.
json typed_value(const core::ParamRegistry::Entry& e) {
    using Kind = core::ParamRegistry::Entry::Kind;
    const std::string v = e.get();
    double x = 0.0;
    switch (e.kind) {
        case Kind::Integer:
            if (v.find_first_not_of("0123456789") == std::string::npos && !v.empty())
                return json(std::stoull(v));
            if (v.size() > 1 && v[0] == '-') return json(std::stoll(v));
            return json(v);
        case Kind::Number:
            return core::parse_number(v, x) ? json(x) : json(v);
        case Kind::Flag:
            return json(v == "true");
        case Kind::Text:
            break;
    }
    return json(v);
}

}  // namespace

std::string stats_json(const Arguments& args, const Inputs& in, const Evaluation& ev, double wall,
                       const StandalonePlatform& p, const std::vector<std::string>& violations) {
    const RunOptions& o = args.run;
    json j;
    j["tool"] = "sprint-sim";
    j["version"] = tool_version();
    j["git_commit"] = tool_commit();
    j["run"] = {{"command_line", o.command_line},
                {"started", o.started},
                {"host", host_name()},
                {"version", tool_version()},
                {"git_commit", tool_commit()}};
    json thresholds = json::array();
    for (const auto& hp : in.w.heads) thresholds.push_back(hp.threshold);
    j["workload"] = {{"source", in.source}, {"heads", in.q.heads},    {"seq_len", in.q.n},
                     {"head_dim", in.q.d},  {"causal", o.job.causal}, {"thresholds", thresholds}};
    json cfg = json::object();
    for (const auto* e : args.registry.entries()) cfg[e->name] = typed_value(*e);
    j["config"] = cfg;
    j["timing"] = o.timing;
    j["wall_seconds"] = v(wall, "s", "host time spent in sc_start");
    j["reference_seconds"] =
        v(ev.reference_seconds, "s",
          "host time of the fidelity references, computed on a second thread as each query "
          "completes (beside wall_seconds, not part of it)");
    j["setup_seconds"] = v(ev.setup_seconds, "s",
                           "host time before sc_start: options, inputs, threshold calibration, "
                           "elaboration");
    j["check_seconds"] =
        v(ev.check_seconds, "s",
          "host time after sc_start until the summary: references joined, outputs compared");
    j["peak_memory"] =
        v(double(report::peak_rss_mib()), "MiB", "peak resident memory of the process");
    j["key_scores_per_second"] =
        v(double(ev.scores) / wall, "1/s", "visible (query, key) pairs simulated per wall second");
    j["jobs"] = json::array();
    for (const auto& rep : ev.reports) j["jobs"].push_back(job_json(rep, args.platform));
    j["warnings"] = ev.warnings;
    if (o.check_protocol)
        j["protocol"] = {{"links", p.protocol_links()},
                         {"transactions", p.protocol_transactions()},
                         {"violations", violations}};
    j["model_totals"] = {{"sprint", p.sprint.stats().to_json()},
                         {"dram", p.dram.stats().to_json()},
                         {"bus", p.bus.stats().to_json()}};
    std::ostringstream text;
    text << std::setw(2) << j << "\n";
    return text.str();
}

}  // namespace sprint::platform

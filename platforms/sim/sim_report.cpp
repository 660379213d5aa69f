#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "core/metrics.h"
#include "core/reference.h"
#include "modules/compute_unit.h"
#include "platforms/sim/simulation.h"
#include "platforms/sim/version.h"

namespace sprint::platform {

using nlohmann::json;

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

json v(const json& x, const char* unit, const char* desc) {
    return {{"value", x}, {"unit", unit}, {"description", desc}};
}

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

long peak_rss_mib() {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;  // ru_maxrss is in KiB on Linux
}

std::string fmt_int(uint64_t x) {
    std::string s = std::to_string(x);
    for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(std::size_t(i), ",");
    return s;
}

std::string fmt(double x, int prec) {
    std::ostringstream os;
    os << std::fixed << std::setprecision(prec) << x;
    return os.str();
}

// The engines the summary and the stats file report: each with its busy time and, for the
// pipeline stages, its stall time (ns), read from a job's counter deltas.
struct EngineRow {
    std::string label, key;
    std::function<double(const json&, const json&)> busy, stall;
};

// The statistic at `path` in a stats tree, or null.
const json* stat(const json& j, const std::vector<std::string>& path) {
    const json* p = &j;
    for (const std::string& k : path) {
        if (!p->is_object() || !p->contains(k)) return nullptr;
        p = &(*p)[k];
    }
    return p;
}

double num(const json& j, const std::vector<std::string>& path) {
    const json* p = stat(j, path);
    return p && p->contains("value") && (*p)["value"].is_number() ? (*p)["value"].get<double>()
                                                                  : 0.0;
}

// One row per engine; with several compute units, each unit's stages and datapath have a row of
// their own ("unit_1.compute", "unit 1: stage compute (datapath)").
std::vector<EngineRow> engine_rows(uint32_t units, uint32_t channels) {
    std::vector<EngineRow> rows;
    rows.push_back({"stage front (Q, crossbar)", "front",
                    [](const json& m, const json&) {
                        return num(m, {"controller", "stage_front", "busy_ns"});
                    },
                    [](const json& m, const json&) {
                        return num(m, {"controller", "stage_front", "starved_ns"}) +
                               num(m, {"controller", "stage_front", "blocked_ns"});
                    }});
    rows.push_back({"crossbar array", "xbar",
                    [](const json& m, const json&) {
                        return num(m, {"xbar", "busy_ns"});
                    },
                    [](const json& m, const json&) {
                        return num(m, {"xbar", "queued_ns"});
                    }});
    const std::pair<const char*, const char*> stages[] = {
        {"stage fetch K", "fetch_k"},
        {"stage fetch V", "fetch_v"},
        {"stage compute (datapath)", "compute"},
        {"stage write-back (outputs)", "writeback"}};
    for (uint32_t u = 0; u < units; ++u) {
        const std::string unit = unit_name(u);
        const std::string label = units > 1 ? "unit " + std::to_string(u) + ": " : "";
        const std::string key = units > 1 ? unit + "." : "";
        for (const auto& s : stages) {
            const std::string g = std::string("stage_") + s.second;
            rows.push_back({label + s.first, key + s.second,
                            [g, unit](const json& m, const json&) {
                                return num(m, {"controller", unit, g, "busy_ns"});
                            },
                            [g, unit](const json& m, const json&) {
                                return num(m, {"controller", unit, g, "starved_ns"}) +
                                       num(m, {"controller", unit, g, "blocked_ns"});
                            }});
        }
        rows.push_back({label + "datapath units", key + "datapath",
                        [unit](const json& m, const json&) {
                            return num(m, {unit, "datapath", "qk_busy_ns"}) +
                                   num(m, {unit, "datapath", "softmax_busy_ns"}) +
                                   num(m, {unit, "datapath", "v_busy_ns"});
                        },
                        [unit](const json& m, const json&) {
                            return num(m, {unit, "datapath", "queued_ns"});
                        }});
    }
    rows.push_back({"fetcher", "fetcher",
                    [](const json& m, const json&) {
                        return num(m, {"fetcher", "busy_ns"});
                    },
                    [](const json& m, const json&) {
                        return num(m, {"fetcher", "mem_request_stall_ns"});
                    }});
    rows.push_back(
        {channels > 1 ? "memory data buses (mean)" : "memory data bus", "memory_bus",
         [channels](const json&, const json& d) { return num(d, {"busy_ps"}) / 1000.0 / channels; },
         nullptr});
    return rows;
}

json engines_json(const JobRun& r, const PlatformConfig& c) {
    const double clock_ns = c.ip.clock_ns;
    json e = json::object();
    const json m = r.model(), d = r.dram();
    for (const auto& row : engine_rows(c.ip.units, c.dram.channels)) {
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

using Table = std::vector<std::vector<std::string>>;

// Rows of a name column then one right-aligned column per job, each at least `min_width` wide;
// returns the width used.
std::size_t print_table(std::ostream& out, const Table& rows, std::size_t name_width,
                        std::size_t min_width) {
    std::size_t w = min_width;
    for (const auto& l : rows)
        for (std::size_t i = 1; i < l.size(); ++i) w = std::max(w, l[i].size() + 2);
    for (const auto& l : rows) {
        out << "  " << std::left << std::setw(int(name_width)) << l[0];
        for (std::size_t i = 1; i < l.size(); ++i) out << std::right << std::setw(int(w)) << l[i];
        out << "\n";
    }
    return w;
}

void print_header(std::ostream& out, const RunOptions& o, const PlatformConfig& c,
                  const Inputs& in) {
    const IpConfig& ip = c.ip;
    out << "sprint-sim: " << in.q.heads << " heads x N=" << in.q.n << " x d=" << in.q.d << ", "
        << in.source;
    if (o.thresholds.empty() && !core::keeps_all(o.job.mode)) {
        out << ", thresholds calibrated to keep "
            << (o.keep_mass > 0.0 ? "softmax mass " : "fraction ")
            << (o.keep_mass > 0.0 ? o.keep_mass : o.keep_fraction) << " on the "
            << (o.job.mode == core::Mode::OnchipPrune
                    ? std::string("exact scores")
                    : std::string(core::to_string(o.calibrate_on)) + " comparator margins");
        if (o.calibrate_queries) out << " of the first " << o.calibrate_queries << " queries";
        if (!o.calibrate_q_file.empty())
            out << " of the calibration files " << o.calibrate_q_file << ", " << o.calibrate_k_file;
    }
    out << (o.job.causal ? ", causal" : "") << "\n";
    out << "IP (" << o.timing << "): " << 1.0 / ip.clock_ns << " GHz, crossbar " << ip.xbar.tiles
        << " tiles of " << ip.xbar.tile_rows << "x" << ip.xbar.tile_cols << " (" << ip.xbar.key_bits
        << "-bit keys, " << ip.xbar.query_bits << "-bit queries), " << ip.units
        << (ip.units == 1 ? " compute unit" : " compute units") << " with SRAM " << ip.sram.k_bytes
        << " + " << ip.sram.v_bytes << " B" << (ip.units == 1 ? "" : " each") << ", softmax "
        << core::to_string(o.job.softmax)
        << (o.job.k_readback && o.job.mode == core::Mode::Sprint ? ", K-MSB read-back" : "")
        << (ip.comparators.adc_bits
                ? ", " + std::to_string(ip.comparators.adc_bits) + "-bit ADC read-out" +
                      (ip.comparators.adc_topk
                           ? " keeping the top " + std::to_string(ip.comparators.adc_topk)
                           : std::string(" against the threshold"))
                : std::string())
        << "\n";
    out << "memory: " << c.dram.preset << ", "
        << (c.dram.channels > 1 ? std::to_string(c.dram.channels) + " channels x " : "")
        << c.dram.bandwidth_gbps << " GB/s, " << c.dram.latency_ns << " ns\n\n";
}

Table result_rows(const std::vector<JobReport>& reps) {
    Table rows = {{""}};
    for (const auto& r : reps) rows[0].push_back(core::to_string(r.mode));
    auto row = [&](const std::string& name, auto f) {
        std::vector<std::string> line{name};
        for (const auto& r : reps) line.push_back(f(r));
        rows.push_back(line);
    };
    row("cycles", [](const JobReport& r) { return fmt_int(r.run->result.cycles); });
    row("time (us)", [](const JobReport& r) { return fmt(r.time_us, 1); });
    row("memory read (MiB)", [](const JobReport& r) {
        return fmt(double(r.run->result.mem_read_bytes) / 1048576.0, 2);
    });
    row("memory written (MiB)", [](const JobReport& r) {
        return fmt(double(r.run->result.mem_write_bytes) / 1048576.0, 2);
    });
    row("keep fraction", [](const JobReport& r) { return fmt(r.fid.overall.keep_fraction, 4); });
    row("K rows fetched / visible pairs", [](const JobReport& r) { return fmt(r.new_fetch, 4); });
    row("new kept keys per query (paper)",
        [](const JobReport& r) { return fmt(r.fid.overall.ideal_new_fetch_fraction, 4); });
    // Figures of the references: "skipped" with --fidelity=false.
    const auto acc = [](const JobReport& r, double x, int digits) {
        return r.fid.overall.accuracy ? fmt(x, digits) : std::string("skipped");
    };
    row("attention mass retained",
        [&](const JobReport& r) { return acc(r, r.fid.overall.mass_retained, 4); });
    row("output rel. error vs dense float",
        [&](const JobReport& r) { return acc(r, r.fid.overall.relative_l2_error, 4); });
    row("output cosine vs dense float",
        [&](const JobReport& r) { return acc(r, r.fid.overall.cosine_similarity, 5); });
    row("memory bandwidth (GB/s)", [](const JobReport& r) {
        return fmt(double(r.run->result.mem_read_bytes + r.run->result.mem_write_bytes) /
                       std::max(1e-9, r.time_us * 1e3),
                   2);
    });
    row("max memory requests in flight",
        [](const JobReport& r) { return fmt_int(r.run->max_in_flight); });
    row("limiting bound", [](const JobReport& r) { return r.bounds.limit; });
    row("largest bound (cycles)",
        [](const JobReport& r) { return fmt_int(uint64_t(std::llround(r.bounds.largest))); });
    row("cycles / largest bound", [](const JobReport& r) {
        return fmt(double(r.run->result.cycles) / std::max(1.0, r.bounds.largest), 2);
    });
    row("energy (uJ)", [](const JobReport& r) { return fmt(r.energy.total_pj * 1e-6, 2); });
    row("energy per query (nJ)", [](const JobReport& r) {
        return fmt(r.energy.total_pj * 1e-3 / std::max(1.0, r.queries), 2);
    });
    row("GOPs/s, GOPs/J (dense-equivalent)", [](const JobReport& r) {
        return fmt(r.ops / std::max(1e-9, r.time_us * 1e3), 0) + ", " +
               fmt(1e3 * r.ops / std::max(1e-9, r.energy.total_pj), 0);
    });
    row("area (mm2)", [](const JobReport& r) { return fmt(r.energy.area_mm2, 2); });
    row("writes on the most written cell",
        [](const JobReport& r) { return fmt_int(uint64_t(std::llround(r.cell_writes))); });
    row("jobs until cell endurance", [](const JobReport& r) {
        return r.cell_writes > 0 ? fmt(r.endurance_jobs, 0) : std::string("-");
    });
    row("bit-exact vs core reference", [](const JobReport& r) {
        return std::string(!r.verified ? "skipped" : r.bit_exact ? "yes" : "NO");
    });
    return rows;
}

// Energy per block (dynamic and leakage together), one column per job, in uJ.
Table energy_table(const std::vector<JobReport>& reps) {
    std::vector<std::string> blocks;
    for (const auto& r : reps)
        for (const auto& l : r.energy.lines)
            if (std::find(blocks.begin(), blocks.end(), l.block) == blocks.end())
                blocks.push_back(l.block);
    Table rows;
    for (const auto& b : blocks) {
        std::vector<std::string> line{b};
        for (const auto& r : reps) {
            const auto it = r.energy.per_block_pj.find(b);
            line.push_back(fmt((it == r.energy.per_block_pj.end() ? 0.0 : it->second) * 1e-6, 2));
        }
        rows.push_back(line);
    }
    // With several compute units, each unit's part of sram and datapath.
    const std::size_t units = reps.empty() ? 0 : reps[0].unit_energy.size();
    for (std::size_t u = 0; units > 1 && u < units; ++u) {
        std::vector<std::string> line{"  unit " + std::to_string(u) + ": sram + datapath"};
        for (const auto& r : reps) line.push_back(fmt(r.unit_energy[u].total_pj * 1e-6, 2));
        rows.push_back(line);
    }
    return rows;
}

// Busy and stalled cycles of the pipeline stages, busy cycles of the blocks.
Table engine_table(const std::vector<JobReport>& reps, const PlatformConfig& c) {
    const double clock_ns = c.ip.clock_ns;
    Table rows;
    for (const auto& e : engine_rows(c.ip.units, c.dram.channels)) {
        std::vector<std::string> line{e.label};
        for (const auto& r : reps) {
            const json m = r.run->model(), d = r.run->dram();
            const double busy = e.busy(m, d) / clock_ns,
                         stall = e.stall ? e.stall(m, d) / clock_ns : -1.0;
            line.push_back(fmt_int(uint64_t(std::llround(busy))) +
                           (stall >= 0 ? " / " + fmt_int(uint64_t(std::llround(stall)))
                                       : std::string(" / -")));
        }
        rows.push_back(line);
    }
    return rows;
}

Bounds job_bounds(const JobRun& r, const PlatformConfig& c) {
    const json m = r.model();
    const double clk = c.ip.clock_ns;
    Bounds b;
    // The units work in parallel: the busiest one's datapath and SRAM port bound the job.
    for (uint32_t u = 0; u < c.ip.units; ++u) {
        const std::string unit = unit_name(u);
        b.datapath = std::max(b.datapath, (num(m, {unit, "datapath", "qk_busy_ns"}) +
                                           num(m, {unit, "datapath", "softmax_busy_ns"}) +
                                           num(m, {unit, "datapath", "v_busy_ns"})) /
                                              clk);
        b.sram = std::max(b.sram, std::max(num(m, {unit, "sram", "read_port_busy_ns"}),
                                           num(m, {unit, "sram", "write_port_busy_ns"})) /
                                      clk);
    }
    const double bytes = double(r.result.mem_read_bytes + r.result.mem_write_bytes);
    b.memory_bandwidth = bytes / (c.dram.bandwidth_gbps * c.dram.channels) / clk;  // GB/s = B/ns
    // Little's law on requests: each is in flight at least one latency, max_outstanding at once.
    const double requests = num(m, {"fetcher", "mem_reads"}) + num(m, {"fetcher", "mem_writes"});
    b.memory_latency = requests * c.dram.latency_ns / double(c.ip.fetcher.max_outstanding) / clk;
    b.crossbar = num(m, {"xbar", "busy_ns"}) / clk;
    b.front = num(m, {"controller", "stage_front", "busy_ns"}) / clk;
    const std::pair<const char*, double> all[] = {{"front", b.front},
                                                  {"datapath", b.datapath},
                                                  {"sram", b.sram},
                                                  {"mem-bandwidth", b.memory_bandwidth},
                                                  {"mem-latency", b.memory_latency},
                                                  {"crossbar", b.crossbar}};
    for (const auto& [name, v] : all)
        if (v > b.largest) {
            b.largest = v;
            b.limit = name;
        }
    return b;
}

// What a user should see at once: the pruning job (the first, when it prunes) loses attention
// mass or output accuracy, or is slower than the baseline it is compared with.
std::vector<std::string> workload_warnings(const std::vector<JobReport>& reps) {
    std::vector<std::string> w;
    if (reps.empty() || core::keeps_all(reps[0].mode)) return w;
    const JobReport& r = reps[0];
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
    return w;
}

// The job's energy: total, per query, per block, every line (count x energy per event), the
// energy-delay product, throughput and efficiency; and the area.
json energy_json(const JobReport& rep) {
    const double t_us = rep.time_us;
    json e;
    e["total"] = v(rep.energy.total_pj * 1e-6, "uJ", "dynamic energy of every event + leakage");
    e["per_query"] = v(rep.energy.total_pj * 1e-3 / std::max(1.0, rep.queries), "nJ",
                       "energy / query rows processed");
    e["edp"] = v(rep.energy.total_pj * 1e-6 * t_us, "uJ x us", "energy-delay product");
    e["ops"] = v(rep.ops, "ops",
                 "dense-equivalent operations: 4 d per visible (query, key) pair (QK and V, "
                 "multiply and add)");
    e["gops_per_s"] = v(rep.ops / std::max(1e-9, t_us * 1e3), "GOPs/s", "ops / job time");
    e["gops_per_j"] =
        v(1e3 * rep.ops / std::max(1e-9, rep.energy.total_pj), "GOPs/J", "ops / energy");
    e["per_block"] = json::object();
    for (const auto& [b, pj] : rep.energy.per_block_pj)
        e["per_block"][b] = v(pj * 1e-6, "uJ", ("dynamic + leakage of " + b).c_str());
    e["lines"] = json::array();
    for (const auto& l : rep.energy.lines)
        e["lines"].push_back({{"block", l.block},
                              {"action", l.action},
                              {"count", l.count},
                              {"per_event", l.per_event},
                              {"unit", l.unit},
                              {"pJ", l.pj}});
    e["max_cell_writes"] =
        v(rep.cell_writes, "writes", "writes this job put on the most written crossbar cell");
    e["jobs_to_endurance"] =
        v(rep.endurance_jobs, "jobs", "sprint.xbar.endurance_writes / max_cell_writes (0: none)");
    e["per_unit"] = json::object();
    for (std::size_t u = 0; u < rep.unit_energy.size(); ++u)
        e["per_unit"][unit_name(uint32_t(u))] =
            v(rep.unit_energy[u].total_pj * 1e-6, "uJ",
              "the unit's SRAM buffers and datapath: dynamic + leakage");
    // Per head: the dynamic energy of the events each head caused (every module counts per head);
    // leakage stays the job's, since heads overlap in the pipeline.
    e["per_head"] = json::array();
    for (std::size_t h = 0; h < rep.head_energy.size(); ++h) {
        const core::EnergyReport& he = rep.head_energy[h];
        double queries = 0.0;
        for (const auto& l : he.lines)
            if (l.block == "controller" && l.action == "query") queries = l.count;
        json hj = {{"head", h},
                   {"dynamic", v(he.total_pj * 1e-6, "uJ", "the head's events x the table")},
                   {"queries", v(queries, "queries", "query rows of the head")},
                   {"per_query",
                    v(he.total_pj / std::max(1.0, queries), "pJ/query", "dynamic / queries")}};
        hj["per_block"] = json::object();
        for (const auto& [b, pj] : he.per_block_pj)
            hj["per_block"][b] = v(pj * 1e-6, "uJ", ("dynamic energy of " + b).c_str());
        e["per_head"].push_back(hj);
    }
    e["area"] = v(rep.energy.area_mm2, "mm2", "sum of the blocks' area");
    e["area_per_block"] = json::object();
    for (const auto& [b, a] : rep.energy.area_per_block_mm2)
        e["area_per_block"][b] = v(a, "mm2", ("area of " + b).c_str());
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
           "front stage busy: head table, programming, Q reads and evaluations in series")},
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
    jj["energy"] = energy_json(rep);
    jj["model"] = r.model();
    jj["memory"] = r.dram();
    return jj;
}

}  // namespace

json JobRun::model() const {
    return stats_delta(stats_after, stats_before);
}
json JobRun::dram() const {
    return stats_delta(dram_after, dram_before);
}

// What the cost model multiplies, from counts read through `get` (a module's statistic by its
// path): each action's events as the modules counted them, with `regs` the memory traffic from
// the IP's byte registers (else the fetcher's counts of the same traffic: a test keeps their sums
// equal), and with `structures` each block's leaking, area-taking structures from the
// configuration. The one place that says which statistic an energy entry prices.
// With `unit` >= 0, only what that compute unit counted: its buffers and datapath.
core::CostCounts cost_counts(const CountOf& get, const PlatformConfig& c, int d, int unit,
                             const JobResult* regs, bool structures) {
    core::CostCounts k;
    auto ev = [&](const char* block, const char* action, double n) {
        k.events[{block, action}] += n;
    };
    const bool whole = unit < 0;
    if (whole) {
        ev("xbar", "mac", get({"xbar", "analog_macs"}));
        ev("xbar", "cell_write", get({"xbar", "cell_writes"}));
        ev("xbar", "readback", get({"xbar", "keys_read_back"}) * d * c.ip.xbar.key_bits);
        // In ADC read-out mode the ADCs decide, not the comparators.
        ev("comparators", "decision",
           c.ip.comparators.adc_bits ? 0.0 : get({"comparators", "decisions"}));
        ev("comparators", "adc_conversion", get({"comparators", "adc_conversions"}));
        // The job's byte counters (MEM_RD_BYTES, MEM_WR_BYTES), or the fetcher's.
        ev("dram", "read",
           8.0 * (regs ? double(regs->mem_read_bytes) : get({"fetcher", "mem_read_bytes"})));
        ev("dram", "write",
           8.0 * (regs ? double(regs->mem_write_bytes) : get({"fetcher", "mem_write_bytes"})));
        ev("fetcher", "request", get({"fetcher", "mem_reads"}) + get({"fetcher", "mem_writes"}));
        ev("controller", "query", get({"controller", "queries"}));
        if (structures) {
            k.structures["xbar"] = c.ip.xbar.tiles;
            k.structures["comparators"] = double(c.ip.xbar.tiles) * c.ip.xbar.tile_cols;
            k.structures["control"] = 1.0;
        }
    }
    for (uint32_t u = 0; u < c.ip.units; ++u) {
        if (!whole && u != uint32_t(unit)) continue;
        const std::string n = unit_name(u);
        ev("sram", "read", get({n, "sram", "read_bytes"}));
        ev("sram", "write", get({n, "sram", "write_bytes"}));
        ev("datapath", "qk_mac", get({n, "datapath", "qk_macs"}));
        ev("datapath", "v_mac", get({n, "datapath", "v_macs"}));
        ev("datapath", "exp", get({n, "datapath", "exp_ops"}));
        ev("datapath", "div", get({n, "datapath", "div_ops"}));
    }
    if (structures) {
        const double units = whole ? double(c.ip.units) : 1.0;
        k.structures["sram"] = units * (c.ip.sram.k_bytes + c.ip.sram.v_bytes) / 1024.0;
        k.structures["datapath"] = units;
    }
    return k;
}

namespace {

// A job's counts (its statistics' deltas); with `head` >= 0 that head's (the per_head split:
// dynamic events only, leakage and area are the job's).
core::CostCounts job_counts(const JobRun& r, const PlatformConfig& c, int d, int unit = -1,
                            int head = -1) {
    const json m = r.model();
    const CountOf get = [&](const std::vector<std::string>& path) {
        if (head < 0) return num(m, path);
        const json* p = stat(m, path);
        if (!p || !p->contains("per_head"))
            throw std::runtime_error("no per-head statistic " + path.back() + " for the energy");
        const json& a = (*p)["per_head"];
        return std::size_t(head) < a.size() ? a[std::size_t(head)].get<double>() : 0.0;
    };
    return cost_counts(get, c, d, unit, head < 0 ? &r.result : nullptr, head < 0);
}

}  // namespace

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
        rep.bounds = job_bounds(r, c);
        rep.energy = core::cost(c.tech, job_counts(r, c, in.q.d), rep.time_us * 1000.0);
        for (uint32_t u = 0; u < c.ip.units; ++u)
            rep.unit_energy.push_back(
                core::cost(c.tech, job_counts(r, c, in.q.d, int(u)), rep.time_us * 1000.0));
        // Each head's dynamic energy (leakage is the job's: heads overlap in the pipeline).
        for (int h = 0; h < in.q.heads; ++h)
            rep.head_energy.push_back(core::cost(c.tech, job_counts(r, c, in.q.d, -1, h), 0.0));
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

void print_summary(std::ostream& out, const RunOptions& o, const PlatformConfig& c,
                   const Inputs& in, const Evaluation& ev, double wall) {
    const std::vector<JobReport>& reps = ev.reports;
    print_header(out, o, c, in);
    const Table results = result_rows(reps);
    const Table engines = engine_table(reps, c);
    std::size_t name_width = 0;
    for (const Table* t : {&results, &engines})
        for (const auto& l : *t) name_width = std::max(name_width, l[0].size());
    const std::size_t w = print_table(out, results, name_width, 12);
    std::vector<std::string> skipped;
    if (!reps.empty() && !reps[0].fid.overall.accuracy)
        skipped.push_back(
            "the fidelity references (a) and (b): mass, output error (--fidelity=false)");
    if (!reps.empty() && !reps[0].verified)
        skipped.push_back("the bit-exact check against the core (--verify=false)");
    for (std::size_t k = 0; k < skipped.size(); ++k)
        out << (k ? "; " : "  skipped: ") << skipped[k] << (k + 1 == skipped.size() ? "\n" : "");
    out << "\n  engines: cycles busy / stalled (stages: waiting for input, output or SRAM room;\n"
           "  blocks: requests queued for them; fetcher: memory requests awaiting END_REQ)\n";
    print_table(out, engines, name_width, w);
    out << "\n  energy by block, uJ (dynamic + leakage; technology " << c.tech.name
        << ", docs/energy.md)\n";
    print_table(out, energy_table(reps), name_width, w);
    if (reps.size() > 1) out << "\n";
    auto bytes = [](const JobReport& r) {
        return double(r.run->result.mem_read_bytes + r.run->result.mem_write_bytes);
    };
    for (std::size_t i = 1; i < reps.size(); ++i) {
        const double su = double(reps[i].run->result.cycles) /
                          double(std::max<uint64_t>(1, reps[0].run->result.cycles));
        const double tr = 1.0 - bytes(reps[0]) / std::max(1.0, bytes(reps[i]));
        const double er = reps[i].energy.total_pj / std::max(1e-9, reps[0].energy.total_pj);
        out << "  " << core::to_string(reps[0].mode) << " vs " << core::to_string(reps[i].mode)
            << ": speed-up " << fmt(su, 2) << "x, energy " << fmt(er, 2)
            << "x lower, memory traffic " << fmt(100.0 * std::fabs(tr), 1)
            << (tr >= 0 ? "% lower\n" : "% higher\n");
    }
    if (!ev.warnings.empty()) out << "\n";
    for (const auto& w : ev.warnings) out << "  warning: " << w << "\n";
    out << "\nhost time: set-up " << fmt(ev.setup_seconds, 2) << " s, simulation " << fmt(wall, 2)
        << " s, checks after it " << fmt(ev.check_seconds, 2) << " s (fidelity references "
        << fmt(ev.reference_seconds, 2) << " s on a second thread as queries complete); "
        << fmt(double(ev.scores) / wall / 1e6, 2)
        << " M key scores per second simulated, peak memory " << peak_rss_mib() << " MiB\n";
}

namespace {

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
    j["peak_memory"] = v(double(peak_rss_mib()), "MiB", "peak resident memory of the process");
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

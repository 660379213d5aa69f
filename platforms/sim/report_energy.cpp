// The energy lines: what the cost model multiplies (the one place that says which statistic an
// energy entry prices), and each job's energy by block for the summary and in full for --stats.
#include <algorithm>

#include "modules/compute_unit.h"
#include "platforms/sim/report_internal.h"

namespace sprint::platform {

using report::fmt;
using report::json;
using report::num;
using report::stat;
using report::Table;
using report::v;

// What the cost model multiplies, from counts read through `get` (a module's statistic by its
// path): each action's events as the modules counted them, with `regs` the memory traffic from
// the IP's byte registers (else the fetcher's counts of the same traffic: a test keeps their sums
// equal), and with `structures` each block's leaking, area-taking structures from the
// configuration: those of the design `opt.mode` runs on (core::scores_in_memory: only sprint mode
// has the crossbar and the comparators). The one place that says which statistic an energy entry
// prices. With `unit` >= 0, only what that compute unit counted: its buffers and datapath.
core::CostCounts cost_counts(const CountOf& get, const PlatformConfig& c,
                             const core::JobOptions& opt, int d, int unit, const JobResult* regs,
                             bool structures) {
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
        // The query-max rule's max-tracking comparisons are priced as decisions.
        ev("comparators", "decision",
           c.ip.comparators.adc_bits
               ? 0.0
               : get({"comparators", "decisions"}) + get({"comparators", "max_track_compares"}));
        ev("comparators", "adc_conversion", get({"comparators", "adc_conversions"}));
        // The job's byte counters (MEM_RD_BYTES, MEM_WR_BYTES), or the fetcher's.
        ev("dram", "read",
           8.0 * (regs ? double(regs->mem_read_bytes) : get({"fetcher", "mem_read_bytes"})));
        ev("dram", "write",
           8.0 * (regs ? double(regs->mem_write_bytes) : get({"fetcher", "mem_write_bytes"})));
        ev("fetcher", "request", get({"fetcher", "mem_reads"}) + get({"fetcher", "mem_writes"}));
        ev("controller", "query", get({"controller", "queries"}));
        if (structures && core::scores_in_memory(opt.mode)) {
            k.structures["xbar"] = c.ip.xbar.tiles;
            k.structures["comparators"] = double(c.ip.xbar.tiles) * c.ip.xbar.tile_cols;
        }
        if (structures) k.structures["control"] = 1.0;
    }
    for (uint32_t u = 0; u < c.ip.units; ++u) {
        if (!whole && u != uint32_t(unit)) continue;
        const std::string n = unit_name(u);
        ev("sram", "read", get({n, "sram", "read_bytes"}));
        ev("sram", "write", get({n, "sram", "write_bytes"}));
        ev("datapath", "qk_mac", get({n, "datapath", "qk_macs"}));
        // prob8 weighs V with 8-bit probabilities; fixed (and float, priced alike) with 17-bit
        // exponentials.
        ev("datapath", opt.softmax == core::SoftmaxKind::Prob8 ? "v_mac_p8" : "v_mac",
           get({n, "datapath", "v_macs"}));
        ev("datapath", "v_mac", get({n, "datapath", "rescale_macs"}));  // the same multipliers
        ev("datapath", "v_mac", get({n, "datapath", "merge_adds"}));    // the V unit's adders
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

core::CostCounts report::job_counts(const JobRun& r, const PlatformConfig& c, int d, int unit,
                                    int head) {
    const json m = r.model();
    const CountOf get = [&](const std::vector<std::string>& path) {
        if (head < 0) return num(m, path);
        const json* p = stat(m, path);
        if (!p || !p->contains("per_head"))
            throw std::runtime_error("no per-head statistic " + path.back() + " for the energy");
        const json& a = (*p)["per_head"];
        return std::size_t(head) < a.size() ? a[std::size_t(head)].get<double>() : 0.0;
    };
    return cost_counts(get, c, r.desc.opt, d, unit, head < 0 ? &r.result : nullptr, head < 0);
}

Table report::energy_table(const std::vector<JobReport>& reps) {
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

// The job's energy: total, per query, per block, every line (count x energy per event), the
// energy-delay product, throughput and efficiency; and the area.
json report::energy_json(const JobReport& rep) {
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

}  // namespace sprint::platform

#include "core/energy.h"

#include <cmath>
#include <set>
#include <stdexcept>

namespace sprint::core {

TechTable TechTable::defaults() {
    TechTable t;
    t.name = "65nm";
    t.description =
        "65 nm, 1 GHz: the reference figures of docs/paper.md and public sources; [D] entries "
        "are our estimates (docs/energy.md gives the reasoning), none set from the paper's results";
    t.entries = {
        {"xbar", "mac", 0.10, "pJ/MAC", "[S] ReRAM in-memory compute at 65 nm"},
        {"xbar", "cell_write", 0.6, "pJ/cell",
         "[X] one set/reset pulse (NVMExplorer cell, Accelergy NeuroSim plug-in)"},
        {"xbar", "readback", 3.1, "pJ/bit", "[S] ReRAM read at 65 nm (K-MSB read-back)"},
        {"comparators", "decision", 0.033, "pJ/decision",
         "[D] 1/30 of a 5-bit ADC conversion (0.99 pJ [X]), the paper's comparator/ADC ratio [F]"},
        {"comparators", "adc_conversion", 1.20, "pJ/conversion",
         "[X] 6-bit ADC, ISAAC scaled to 32 nm (ADC read-out mode only)"},
        // The main memory's energies belong to the memory technology: a platform sets them from
        // its memory (platforms/components/memory.cpp, dram.preset); 0 until it does.
        {"dram", "read", 0.0, "pJ/bit", "set by the memory technology (dram.preset)"},
        {"dram", "write", 0.0, "pJ/bit", "set by the memory technology (dram.preset)"},
        {"sram", "read", 2.25, "pJ/B",
         "[X] 65 nm 128 KB 64-bit buffer, 18 pJ per access (Accelergy Eyeriss example), per byte"},
        {"sram", "write", 1.75, "pJ/B", "[X] the same buffer, 14 pJ per 64-bit write, per byte"},
        {"datapath", "qk_mac", 0.2, "pJ/MAC", "[X] 8-bit MAC at 45 nm (Horowitz ISSCC'14)"},
        {"datapath", "v_mac", 0.45, "pJ/MAC",
         "[D] 17-bit exponential x int8 V MAC into a 48-bit accumulator (softmax fixed): the "
         "8-bit MAC's 0.2 pJ (Horowitz ISSCC'14) scaled by the multiplier's width, plus a wider "
         "add"},
        {"datapath", "v_mac_p8", 0.2, "pJ/MAC",
         "[X] 8-bit probability x int8 V MAC at 45 nm (Horowitz ISSCC'14) (softmax prob8)"},
        {"datapath", "exp", 0.4, "pJ/op", "[D] two 64-entry LUT reads and one 8-bit multiply"},
        {"datapath", "div", 1.0, "pJ/op",
         "[D] one division (48 by 32 bits for fixed, 24 by 32 for prob8), about ten 32-bit adds"},
        {"fetcher", "request", 1.0, "pJ/request",
         "[D] address generation and bookkeeping of one memory request"},
        {"controller", "query", 0.5, "pJ/query", "[D] sequencing of one query"},
        {"xbar", "leakage", 0.05, "mW/tile", "[D] a 128 x 128 tile's DACs and sense periphery"},
        {"comparators", "leakage", 0.0005, "mW/column", "[D] one comparator"},
        {"sram", "leakage", 0.02, "mW/KB", "[D] 65 nm 6T SRAM"},
        {"datapath", "leakage", 0.5, "mW/unit", "[D] QK and V MAC arrays, softmax, score buffer"},
        {"control", "leakage", 0.2, "mW", "[D] controller and fetcher"},
        {"xbar", "area", 0.02, "mm2/tile",
         "[D] 128 x 128 ReRAM cells (4F^2) plus DACs and sense amplifiers"},
        {"comparators", "area", 0.00005, "mm2/column",
         "[D] 1/20 of an ADC's area (the paper's ratio [F]), ADC ~0.001 mm2 [X] ISAAC"},
        {"sram", "area", 0.012, "mm2/KB", "[D] 65 nm 6T cell 0.52 um^2, periphery x2.5"},
        {"datapath", "area", 0.25, "mm2/unit", "[D] 128 int8 MACs, softmax LUTs, score buffer"},
        {"control", "area", 0.05, "mm2", "[D] controller, registers and fetcher"},
    };
    return t;
}

TechTable TechTable::from_json(const nlohmann::json& j) {
    TechTable t;
    if (!j.is_object() || !j.contains("entries") || !j["entries"].is_array())
        throw std::runtime_error("a technology table is an object with an \"entries\" array");
    t.name = j.value("name", std::string());
    t.description = j.value("description", std::string());
    std::set<std::pair<std::string, std::string>> seen;
    for (std::size_t i = 0; i < j["entries"].size(); ++i) {
        const auto& e = j["entries"][i];
        const std::string where = "entry " + std::to_string(i + 1);
        for (const char* f : {"block", "action", "unit", "source"})
            if (!e.is_object() || !e.contains(f) || !e[f].is_string())
                throw std::runtime_error(where + ": \"" + f + "\" must be a string");
        if (!e.contains("value") || !e["value"].is_number())
            throw std::runtime_error(where + " (" + e["block"].get<std::string>() + "." +
                                     e["action"].get<std::string>() +
                                     "): \"value\" must be a number");
        TechEntry te{e["block"], e["action"], e["value"], e["unit"], e["source"]};
        const std::string bad = check_value(te.block, te.action, te.value);
        if (!bad.empty()) throw std::runtime_error(where + ": " + bad);
        if (!seen.insert({te.block, te.action}).second)
            throw std::runtime_error(where + ": " + te.block + "." + te.action + " is given twice");
        t.entries.push_back(te);
    }
    return t;
}

void TechTable::apply(const TechTable& other) {
    for (const TechEntry& o : other.entries) {
        TechEntry* mine = nullptr;
        for (TechEntry& e : entries)
            if (e.block == o.block && e.action == o.action) mine = &e;
        if (!mine)
            throw std::runtime_error("technology entry " + o.block + "." + o.action +
                                     " is not an action of the model (see --dump-tech)");
        if (mine->unit != o.unit)
            throw std::runtime_error("technology entry " + o.block + "." + o.action + " is in '" +
                                     o.unit + "'; the model counts it in '" + mine->unit + "'");
        mine->value = o.value;
        mine->source = o.source;
    }
    if (!other.name.empty()) name = other.name;
    if (!other.description.empty()) description = other.description;
}

nlohmann::json TechTable::to_json() const {
    nlohmann::json j = {
        {"name", name}, {"description", description}, {"entries", nlohmann::json::array()}};
    for (const TechEntry& e : entries)
        j["entries"].push_back({{"block", e.block},
                                {"action", e.action},
                                {"value", e.value},
                                {"unit", e.unit},
                                {"source", e.source}});
    return j;
}

const TechEntry* TechTable::find(const std::string& block, const std::string& action) const {
    for (const TechEntry& e : entries)
        if (e.block == block && e.action == action) return &e;
    return nullptr;
}

double TechTable::value(const std::string& block, const std::string& action) const {
    const TechEntry* e = find(block, action);
    return e ? e->value : 0.0;
}

void TechTable::register_params(ParamRegistry& reg, const std::string& prefix) {
    // The registry checks 0 to kValueMax; validate() adds the lower bound of a value above 0.
    for (TechEntry& e : entries)
        reg.add_double(prefix + "." + e.block + "." + e.action, e.value, e.unit, e.source, 0.0,
                       kValueMax);
}

std::string TechTable::check_value(const std::string& block, const std::string& action, double v) {
    if (v == 0.0 || (std::isfinite(v) && v >= kValueMin && v <= kValueMax)) return "";
    return "technology value " + block + "." + action + " = " + format_double(v) +
           " is out of range (0, or " + format_double(kValueMin) + " to " +
           format_double(kValueMax) + " in its unit)";
}

std::string TechTable::validate() const {
    for (const TechEntry& e : entries) {
        std::string bad = check_value(e.block, e.action, e.value);
        if (!bad.empty()) return bad;
    }
    return "";
}

EnergyReport cost(const TechTable& table, const CostCounts& counts, double time_ns) {
    EnergyReport r;
    for (const auto& [key, n] : counts.events) {
        const TechEntry* e = table.find(key.first, key.second);
        if (!e)
            throw std::runtime_error("no energy in the technology table for " + key.first + "." +
                                     key.second);
        EnergyLine l{key.first, key.second, e->unit, n, e->value, n * e->value};
        r.lines.push_back(l);
        r.per_block_pj[key.first] += l.pj;
        r.total_pj += l.pj;
    }
    for (const auto& [block, n] : counts.structures) {
        const TechEntry* leak = table.find(block, "leakage");
        const TechEntry* area = table.find(block, "area");
        if (!leak || !area)
            throw std::runtime_error("no leakage or area in the technology table for " + block);
        // mW x ns = pJ
        EnergyLine l{block, "leakage", leak->unit, n, leak->value, n * leak->value * time_ns};
        r.lines.push_back(l);
        r.per_block_pj[block] += l.pj;
        r.total_pj += l.pj;
        r.area_per_block_mm2[block] = n * area->value;
        r.area_mm2 += n * area->value;
    }
    return r;
}

}  // namespace sprint::core

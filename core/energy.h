// The cost model: energy and area from counted events. A technology table lists, per block and
// action, what one event costs (dynamic energy), what one structure leaks (static power) and how
// much area one structure takes; every entry has its unit and a source tag as in docs/paper.md
// ([F] figure of the paper, [S] secondary summary, [X] another public source, [D] our choice).
// Energy of a job = sum over actions of count x energy per event + sum over blocks of structures x
// leakage x job time; area = sum over blocks of structures x area per structure. The counts come
// from the simulation (what the modules counted); this file only multiplies. SystemC-free.
//
// File format (JSON, docs/energy.md; `sprint-sim --dump-tech` writes the built-in 65 nm table):
//   {"name": "...", "description": "...",
//    "entries": [{"block": "xbar", "action": "mac", "value": 0.1, "unit": "pJ/MAC",
//                 "source": "[S] ..."}, ...]}
// Actions "leakage" (unit mW per structure) and "area" (mm2 per structure) are static entries.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/params.h"

namespace sprint::core {

struct TechEntry {
    std::string block, action;
    double value = 0.0;
    std::string unit, source;
};

class TechTable {
  public:
    std::string name, description;
    std::vector<TechEntry> entries;

    // The built-in default: 65 nm, from the reference figures of the paper and public sources.
    static TechTable defaults();
    // A table from its JSON form; throws std::runtime_error naming the entry or field at fault.
    static TechTable from_json(const nlohmann::json& j);
    // Replace the values of this table's entries with those `other` gives for the same
    // (block, action); an entry `other` has that this table has not is an error (names it).
    void apply(const TechTable& other);
    nlohmann::json to_json() const;
    const TechEntry* find(const std::string& block, const std::string& action) const;
    double value(const std::string& block, const std::string& action) const;  // 0 when absent
    // Every entry as a parameter tech.<block>.<action> (overridable like any other).
    void register_params(ParamRegistry& reg, const std::string& prefix);
    // The range of a technology value, in its entry's unit: 0, or kValueMin to kValueMax. Wider
    // than any technology (the defaults span 5e-5 to 24.4), narrow enough that every energy,
    // power and area the model derives from counts stays finite and prints in a few digits.
    static constexpr double kValueMin = 1e-12, kValueMax = 1e12;
    // "" when `v` is in that range, else the reason, naming the entry and the value.
    static std::string check_value(const std::string& block, const std::string& action, double v);
    // check_value over every entry: "" or the first entry out of range.
    std::string validate() const;
};

// What a job did, as the cost model sees it: events per (block, action), and the structures per
// block that leak and take area (tiles, comparator columns, KB of SRAM, units ...).
struct CostCounts {
    std::map<std::pair<std::string, std::string>, double> events;
    std::map<std::string, double> structures;
};

struct EnergyLine {
    std::string block, action, unit;
    double count = 0.0, per_event = 0.0, pj = 0.0;
};

struct EnergyReport {
    std::vector<EnergyLine> lines;  // dynamic lines, then one leakage line per block
    double total_pj = 0.0;
    std::map<std::string, double> per_block_pj;
    double area_mm2 = 0.0;
    std::map<std::string, double> area_per_block_mm2;
};

// Counts x table, plus leakage over `time_ns`; area from the structures. An event of an action
// the table lacks is an error (std::runtime_error naming it): nothing is silently free.
EnergyReport cost(const TechTable& table, const CostCounts& counts, double time_ns);

}  // namespace sprint::core

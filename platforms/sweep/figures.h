// The summary figures a sweep keeps per point, read from sprint-sim's --stats JSON: one owner
// for their names, units, descriptions and where each comes from. The selected mode's job gives
// the figures; the dense baseline beside it (--compare, sprint-sim's default) gives baseline_*,
// speedup and energy_saving.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sprint::sweep {

struct FigureInfo {
    std::string name, unit, description;
    bool higher_is_better = false;  // speed-up, mass retained, ...: what a Pareto front maximises
    bool text = false;              // a name (bound_limit), not a number
};

struct Figure {
    std::string name;
    std::optional<double> value;  // numbers (a flag: 1 or 0); nullopt = not available
    std::string text;             // a text figure (bound_limit, baseline_mode)
};

// Every figure name, in the order exports list them.
const std::vector<FigureInfo>& figure_infos();
const FigureInfo* figure_info(const std::string& name);
// A figure's name from a short form a user may type (mass, energy, time, latency, area, error,
// cosine), or the name itself.
std::string figure_name(const std::string& alias);

// The figure list as a Markdown table (what `sprint-sweep figures` prints, docs/sweeps.md).
std::string figures_markdown();

// The figures of one run from its stats document; throws std::runtime_error when the document
// is not a sprint-sim stats file.
std::vector<Figure> extract_figures(const nlohmann::json& stats);

}  // namespace sprint::sweep

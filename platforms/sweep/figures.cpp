#include "platforms/sweep/figures.h"

#include <map>
#include <stdexcept>

namespace sprint::sweep {

namespace {

const char* const kBlocks[] = {"comparators", "control", "controller", "datapath",
                               "dram",        "fetcher", "sram",       "xbar"};
const char* const kBounds[] = {"crossbar", "datapath",         "front",
                               "sram",     "memory_bandwidth", "memory_latency"};

std::vector<FigureInfo> make_infos() {
    std::vector<FigureInfo> f = {
        {"cycles", "cycles", "START to completion of the selected mode's job"},
        {"time_us", "us", "job time at the IP clock"},
        {"energy_uj", "uJ", "job energy, dynamic and leakage"},
        {"energy_per_query_nj", "nJ", "energy per query"},
        {"area_mm2", "mm2", "IP area"},
        {"edp_uj_us", "uJ x us", "energy-delay product"},
        {"gops_per_s", "GOPs/s", "dense-equivalent throughput"},
        {"gops_per_j", "GOPs/J", "dense-equivalent efficiency"},
        {"mem_read_bytes", "B", "main-memory bytes read"},
        {"mem_write_bytes", "B", "main-memory bytes written"},
        {"k_rows_fetched", "rows", "K rows fetched from memory"},
        {"v_rows_fetched", "rows", "V rows fetched from memory"},
        {"kept_keys", "pairs", "(query, key) pairs kept"},
        {"bandwidth_gbps", "GB/s", "achieved memory bandwidth"},
        {"max_outstanding", "requests", "most memory requests in flight"},
        {"keep_fraction", "fraction", "kept / visible pairs"},
        {"new_fetch_fraction", "fraction", "K rows fetched / visible pairs"},
        {"paper_new_fetch_fraction", "fraction", "new kept keys per query (the paper's measure)"},
        {"mass_retained", "share", "softmax mass the kept keys hold (fidelity reference)"},
        {"output_error", "fraction", "relative L2 error of the output against dense float"},
        {"output_cosine", "", "cosine of the output against dense float"},
        {"false_prune_rate", "fraction", "keys the exact scores keep that the IP pruned"},
        {"false_keep_rate", "fraction", "keys the IP kept that the exact scores prune"},
        {"bit_exact", "flag", "output equals the core reference bit for bit (1), or not (0)"},
        {"max_cell_writes", "writes", "writes on the most written crossbar cell"},
        {"jobs_to_endurance", "jobs", "jobs until the cell endurance is reached"},
        {"bound_limit", "", "the largest lower bound's name"},
        {"cycles_over_largest", "", "cycles / the largest lower bound"},
    };
    for (const char* b : kBounds)
        f.push_back({std::string("bound_") + b, "cycles", std::string("lower bound: ") + b});
    for (const char* b : kBlocks)
        f.push_back(
            {std::string("energy_") + b + "_uj", "uJ", std::string("energy of block ") + b});
    f.push_back({"baseline_mode", "", "the dense baseline run beside the selected mode"});
    f.push_back({"baseline_cycles", "cycles", "the baseline's cycles"});
    f.push_back({"baseline_energy_uj", "uJ", "the baseline's energy"});
    f.push_back({"speedup", "x", "baseline cycles / cycles"});
    f.push_back({"energy_saving", "x", "baseline energy / energy"});
    f.push_back({"traffic_saving", "x", "baseline memory bytes / memory bytes"});
    f.push_back(
        {"sim_wall_seconds", "s", "sprint-sim's simulation phase (sc_start) for the point"});
    f.push_back({"peak_memory_mib", "MiB", "sprint-sim's peak resident memory"});
    for (auto& i : f) {
        i.text = i.name == "bound_limit" || i.name == "baseline_mode";
        i.higher_is_better = i.name == "speedup" || i.name == "energy_saving" ||
                             i.name == "traffic_saving" || i.name == "mass_retained" ||
                             i.name == "output_cosine" || i.name == "gops_per_s" ||
                             i.name == "gops_per_j" || i.name == "jobs_to_endurance" ||
                             i.name == "bit_exact" || i.name == "bandwidth_gbps";
    }
    return f;
}

// The number at `path` (an entry {value, unit, description} or a plain value).
const nlohmann::json* find(const nlohmann::json& j, std::initializer_list<const char*> path) {
    const nlohmann::json* at = &j;
    for (const char* p : path) {
        if (!at->is_object() || !at->contains(p)) return nullptr;
        at = &(*at)[p];
    }
    if (at->is_object() && at->contains("value")) at = &(*at)["value"];
    return at;
}

std::optional<double> number(const nlohmann::json& j, std::initializer_list<const char*> path) {
    const nlohmann::json* v = find(j, path);
    if (!v) return std::nullopt;
    if (v->is_object() && v->contains("value")) v = &(*v)["value"];  // a {value, unit, ...} entry
    if (v->is_number()) return v->get<double>();
    if (v->is_boolean()) return v->get<bool>() ? 1.0 : 0.0;
    return std::nullopt;
}

}  // namespace

const std::vector<FigureInfo>& figure_infos() {
    static const std::vector<FigureInfo> infos = make_infos();
    return infos;
}

const FigureInfo* figure_info(const std::string& name) {
    for (const auto& f : figure_infos())
        if (f.name == name) return &f;
    return nullptr;
}

std::string figures_markdown() {
    std::string md = "| figure | unit | --pareto default | meaning |\n|---|---|---|---|\n";
    for (const auto& f : figure_infos()) {
        md += "| `" + f.name + "` | " + f.unit + " | " +
              (f.text               ? "- (text)"
               : f.higher_is_better ? "max"
                                    : "min") +
              " | " + f.description + " |\n";
    }
    return md;
}

std::string figure_name(const std::string& alias) {
    static const std::pair<const char*, const char*> aliases[] = {
        {"mass", "mass_retained"},  {"energy", "energy_uj"}, {"time", "time_us"},
        {"latency", "time_us"},     {"area", "area_mm2"},    {"error", "output_error"},
        {"cosine", "output_cosine"}};
    for (const auto& [a, n] : aliases)
        if (alias == a) return n;
    return alias;
}

namespace {

// A model run's document (sprint-sim --model): its totals over every layer and repeat; the
// figures only a single job has (bounds, per-block energy, rates) are not available.
std::vector<Figure> extract_model_figures(const nlohmann::json& stats) {
    const nlohmann::json& layers = stats["layers"];
    if (!layers.is_array() || layers.empty() || !stats.contains("totals"))
        throw std::runtime_error("the model's stats file has no layers or totals");
    const nlohmann::json& first = layers[0]["stats"]["jobs"][0];
    const std::string mode = first.value("mode", "");
    const nlohmann::json& totals = stats["totals"];
    if (!totals.contains(mode)) throw std::runtime_error("the model's stats file has no totals");
    const nlohmann::json& t = totals[mode];
    const nlohmann::json* base =
        totals.contains("dense") && mode != "dense" ? &totals["dense"] : nullptr;
    bool exact = true;
    for (const auto& l : layers)
        for (const auto& j : l["stats"]["jobs"])
            exact &= number(j, {"bit_exact_vs_core"}).value_or(0.0) != 0.0;
    std::map<std::string, std::optional<double>> v = {
        {"cycles", number(t, {"cycles"})},
        {"time_us", number(t, {"time_us"})},
        {"energy_uj", number(t, {"energy_uj"})},
        {"area_mm2", number(first, {"energy", "area"})},
        {"mem_read_bytes", number(t, {"mem_read_bytes"})},
        {"mem_write_bytes", number(t, {"mem_write_bytes"})},
        {"kept_keys", number(t, {"kept_pairs"})},
        {"keep_fraction", number(t, {"keep_fraction"})},
        {"mass_retained", number(t, {"mass_retained"})},
        {"output_error", number(t, {"relative_l2_error"})},
        {"bit_exact", exact ? 1.0 : 0.0},
        {"sim_wall_seconds", number(stats, {"wall_seconds"})}};
    if (base) {
        const auto bc = number(*base, {"cycles"}), be = number(*base, {"energy_uj"});
        const auto bb = number(*base, {"memory_bytes"}), b = number(t, {"memory_bytes"});
        v["baseline_cycles"] = bc;
        v["baseline_energy_uj"] = be;
        if (bc && v["cycles"] && *v["cycles"] > 0) v["speedup"] = *bc / *v["cycles"];
        if (be && v["energy_uj"] && *v["energy_uj"] > 0) v["energy_saving"] = *be / *v["energy_uj"];
        if (bb && b && *b > 0) v["traffic_saving"] = *bb / *b;
    }
    std::vector<Figure> out;
    for (const auto& f : figure_infos()) {
        if (f.name == "baseline_mode")
            out.push_back({f.name, std::nullopt, base ? "dense" : ""});
        else if (f.text)
            out.push_back({f.name, std::nullopt, ""});
        else
            out.push_back({f.name, v.count(f.name) ? v[f.name] : std::nullopt, ""});
    }
    return out;
}

}  // namespace

std::vector<Figure> extract_figures(const nlohmann::json& stats) {
    if (stats.is_object() && stats.contains("layers")) return extract_model_figures(stats);
    if (!stats.is_object() || !stats.contains("jobs") || !stats["jobs"].is_array() ||
        stats["jobs"].empty())
        throw std::runtime_error("the stats file has no jobs");
    const nlohmann::json& job = stats["jobs"][0];
    std::vector<Figure> out;
    auto put = [&](const std::string& name, std::optional<double> v) {
        out.push_back({name, v, ""});
    };
    put("cycles", number(job, {"cycles"}));
    put("time_us", number(job, {"time"}));
    put("energy_uj", number(job, {"energy", "total"}));
    put("energy_per_query_nj", number(job, {"energy", "per_query"}));
    put("area_mm2", number(job, {"energy", "area"}));
    put("edp_uj_us", number(job, {"energy", "edp"}));
    put("gops_per_s", number(job, {"energy", "gops_per_s"}));
    put("gops_per_j", number(job, {"energy", "gops_per_j"}));
    put("mem_read_bytes", number(job, {"mem_read_bytes"}));
    put("mem_write_bytes", number(job, {"mem_write_bytes"}));
    put("k_rows_fetched", number(job, {"k_rows_fetched"}));
    put("v_rows_fetched", number(job, {"v_rows_fetched"}));
    put("kept_keys", number(job, {"kept_keys"}));
    put("bandwidth_gbps", number(job, {"achieved_bandwidth"}));
    put("max_outstanding", number(job, {"max_outstanding_requests"}));
    put("keep_fraction", number(job, {"fidelity", "overall", "keep_fraction"}));
    put("new_fetch_fraction", number(job, {"new_fetch_fraction"}));
    put("paper_new_fetch_fraction", number(job, {"paper_new_fetch_fraction"}));
    put("mass_retained", number(job, {"fidelity", "overall", "attention_mass_retained"}));
    put("output_error", number(job, {"fidelity", "overall", "output_relative_l2_vs_dense_float"}));
    put("output_cosine", number(job, {"fidelity", "overall", "output_cosine_vs_dense_float"}));
    put("false_prune_rate", number(job, {"fidelity", "overall", "false_prune_rate"}));
    put("false_keep_rate", number(job, {"fidelity", "overall", "false_keep_rate"}));
    put("bit_exact", number(job, {"bit_exact_vs_core"}));
    put("max_cell_writes", number(job, {"energy", "max_cell_writes"}));
    put("jobs_to_endurance", number(job, {"energy", "jobs_to_endurance"}));
    const nlohmann::json* limit = find(job, {"bounds", "limit"});
    out.push_back({"bound_limit", std::nullopt,
                   limit && limit->is_string() ? limit->get<std::string>() : ""});
    put("cycles_over_largest", number(job, {"bounds", "cycles_over_largest"}));
    for (const char* b : kBounds) put(std::string("bound_") + b, number(job, {"bounds", b}));
    for (const char* b : kBlocks)
        put(std::string("energy_") + b + "_uj", number(job, {"energy", "per_block", b}));

    // The baseline: the first other job in dense mode (the strong dense baseline).
    const nlohmann::json* base = nullptr;
    for (std::size_t i = 1; i < stats["jobs"].size() && !base; ++i)
        if (stats["jobs"][i].value("mode", "") == "dense") base = &stats["jobs"][i];
    std::optional<double> bc, be, st;
    if (base) {
        bc = number(*base, {"cycles"});
        be = number(*base, {"energy", "total"});
        const auto br = number(*base, {"mem_read_bytes"}), bw = number(*base, {"mem_write_bytes"});
        const auto r = number(job, {"mem_read_bytes"}), w = number(job, {"mem_write_bytes"});
        if (br && bw && r && w && *r + *w > 0) st = (*br + *bw) / (*r + *w);
    }
    out.push_back({"baseline_mode", std::nullopt, base ? "dense" : ""});
    put("baseline_cycles", bc);
    put("baseline_energy_uj", be);
    const auto c = number(job, {"cycles"}), e = number(job, {"energy", "total"});
    put("speedup", bc && c && *c > 0 ? std::optional<double>(*bc / *c) : std::nullopt);
    put("energy_saving", be && e && *e > 0 ? std::optional<double>(*be / *e) : std::nullopt);
    put("traffic_saving", st);
    put("sim_wall_seconds", number(stats, {"wall_seconds"}));
    put("peak_memory_mib", number(stats, {"peak_memory"}));
    return out;
}

}  // namespace sprint::sweep

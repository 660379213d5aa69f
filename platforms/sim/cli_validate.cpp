// Checking and applying sprint-sim's option values: each value against its option's rule, the
// presets (workload, memory, IP size) and technology tables under the explicit values, the
// platform configuration's own validation, and the options that only work together.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <utility>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "core/workload.h"
#include "platforms/sim/accelergy.h"
#include "platforms/sim/cli.h"
#include "platforms/sim/cli_internal.h"

namespace po = boost::program_options;

namespace sprint::platform {

std::string cli::readable(const std::string& f) {
    std::error_code ec;
    std::ifstream in(f, std::ios::binary);
    return std::filesystem::is_regular_file(f, ec) && in ? "" : "cannot be opened for reading";
}

std::vector<std::string> cli::split_list(const std::string& s) {
    std::vector<std::string> items(1);
    for (char c : s) {
        if (c == ',')
            items.emplace_back();
        else
            items.back() += c;
    }
    for (auto& it : items) {
        const auto a = it.find_first_not_of(" \t"), b = it.find_last_not_of(" \t");
        it = a == std::string::npos ? "" : it.substr(a, b - a + 1);
    }
    return items;
}

namespace {

// A simulated time "<number><unit>" (ps, ns, us, ms, s) in ps; false if it is not one.
bool parse_time_ps(const std::string& s, double& ps) {
    static const std::pair<const char*, double> units[] = {
        {"ps", 1.0}, {"ns", 1e3}, {"us", 1e6}, {"ms", 1e9}, {"s", 1e12}};
    for (const auto& [u, scale] : units) {
        const std::size_t n = std::strlen(u);
        if (s.size() <= n || s.compare(s.size() - n, n, u) != 0) continue;
        const std::string num = s.substr(0, s.size() - n);
        double v;
        if (!core::parse_number(num, v) || v < 0 || num.find_first_of("eE") != std::string::npos)
            return false;
        ps = v * scale;
        return true;
    }
    return false;
}

}  // namespace

// --vcd-window "T0:T1", either side may be empty.
std::string cli::parse_vcd_window(const std::string& s, double& from, double& to) {
    const auto colon = s.find(':');
    if (colon == std::string::npos)
        return "is not FROM:TO (for example 2us:10us, or 5us: to the end)";
    const std::string a = s.substr(0, colon), b = s.substr(colon + 1);
    from = 0.0;
    to = std::numeric_limits<double>::infinity();
    if (!a.empty() && !parse_time_ps(a, from))
        return "'" + a + "' is not a time with a unit (ps, ns, us, ms, s)";
    if (!b.empty() && !parse_time_ps(b, to))
        return "'" + b + "' is not a time with a unit (ps, ns, us, ms, s)";
    if (to <= from) return "ends before it begins";
    return "";
}

// --vcd-heads "0,2,4-7".
std::string cli::parse_head_set(const std::string& s, std::set<uint32_t>& heads) {
    heads.clear();
    for (const std::string& item : split_list(s)) {
        const auto dash = item.find('-');
        uint64_t lo = 0, hi = 0;
        auto num = [](const std::string& t, uint64_t& v) {
            if (t.empty() || t.size() > 6 || t.find_first_not_of("0123456789") != std::string::npos)
                return false;
            v = std::stoull(t);
            return true;
        };
        if (dash == std::string::npos
                ? !num(item, lo)
                : !num(item.substr(0, dash), lo) || !num(item.substr(dash + 1), hi))
            return "'" + item + "' is not a head index or a range A-B";
        if (dash == std::string::npos) hi = lo;
        if (hi < lo) return "'" + item + "' is an empty range";
        for (uint64_t h = lo; h <= hi; ++h) heads.insert(uint32_t(h));
    }
    return "";
}

// Thresholds go into the head table as float32.
std::string cli::check_threshold_list(const std::string& s) {
    for (const std::string& item : split_list(s)) {
        double v;
        if (item.empty()) return "an empty value in the list";
        if (!core::parse_number(item, v)) return "'" + item + "' is not a finite number";
        if (std::fabs(v) > double(std::numeric_limits<float>::max()))
            return "'" + item +
                   "' is beyond the float32 range of the head table (magnitude at most 3.4e38)";
    }
    return "";
}

std::vector<double> cli::parse_list(const std::string& s) {
    std::vector<double> v;
    for (const std::string& item : split_list(s)) {
        double x = 0.0;
        core::parse_number(item, x);
        v.push_back(x);
    }
    return v;
}

void cli::set_or_throw(core::ParamRegistry& reg, const std::string& name,
                       const std::string& value) {
    const std::string err = reg.set(name, value);
    if (!err.empty()) throw std::runtime_error(err);
}

namespace {

// A workload preset fills the workload options not given explicitly.
void apply_workload_preset(const po::variables_map& vm, RunOptions& run, ArgumentsImpl& m) {
    if (const core::WorkloadPreset* wp = core::find_workload_preset(run.workload)) {
        auto unless = [&](const char* name, auto& field, auto value) {
            if (!vm.count(name)) field = value;
        };
        const core::SyntheticSpec& w = wp->spec;
        unless("heads", run.heads, w.heads);
        unless("seq-len", run.seq_len, w.n);
        unless("head-dim", run.head_dim, w.d);
        unless("locality", run.locality, w.locality);
        unless("sharpness", run.sharpness, w.sharpness);
        unless("sharpness-spread", run.sharpness_spread, w.sharpness_spread);
        unless("sinks", run.sinks, w.sinks);
        unless("sink-strength", run.sink_strength, w.sink_strength);
        unless("band", run.band, w.band);
        unless("band-width", run.band_width, w.band_width);
        unless("min-valid", run.min_valid, w.min_valid);
        unless("causal", m.causal, wp->causal);
    }
}

// The technology tables of --tech into `tech`, in the order given (under every explicit tech.*
// value, which the caller applies after).
void apply_tech_files(const std::string& files, const po::variables_map& vm, double clock_default,
                      core::TechTable& tech) {
    // Accelergy's idle energy is per cycle: the clock the run will have.
    const double clock_ns = vm.count("sprint.clock_ns")
                                ? std::stod(vm["sprint.clock_ns"].as<std::string>())
                                : clock_default;
    std::stringstream list(files);
    for (std::string file; std::getline(list, file, ',');) {
        try {
            if (!cli::readable(file).empty()) throw std::runtime_error(cli::readable(file));
            if (tech_file_is_json(file)) {
                std::ifstream in(file);
                tech.apply(core::TechTable::from_json(nlohmann::json::parse(in)));
            } else {
                std::vector<std::string> ignored;
                tech.apply(tech_from_accelergy(file, tech, clock_ns, ignored));
                for (const std::string& i : ignored)
                    std::cerr << "sprint-sim: --tech " << file << ": ignored " << i << "\n";
            }
        } catch (const std::exception& e) {
            throw std::runtime_error("option '--tech': file '" + file + "': " + e.what());
        }
    }
}

// A technology file that bills the memory otherwise than the memory chosen with --dram.preset is
// said, not silent: the file wins (it may describe the very part), but the choice shows.
void say_memory_energy_replaced(const PlatformConfig& platform) {
    MemoryConfig::MemoryEnergy e;
    if (!MemoryConfig::preset_energy(platform.dram.preset, e)) return;
    for (const auto& [action, preset] : {std::pair<const char*, double>{"read", e.read_pj_per_bit},
                                         {"write", e.write_pj_per_bit}}) {
        const double v = platform.tech.value("dram", action);
        if (v != preset)
            std::cerr << "sprint-sim: --tech: dram." << action << " " << v
                      << " pJ/bit from the technology file, not the " << platform.dram.preset
                      << " memory's " << preset << " (--tech.dram." << action << " sets it)\n";
    }
}

}  // namespace

// The stored options and parameters into `run` and `platform`, each checked: the run options,
// the model parameters over their presets, then what the job and the outputs make of them.
void Arguments::apply(const po::variables_map& vm) {
    apply_run_options(vm);
    apply_model_parameters(vm);
    apply_job_options();
}

void Arguments::apply_run_options(const po::variables_map& vm) {
    ArgumentsImpl& m = *m_impl;
    // Run options; `given` lists the ones that describe the run (for --dump-config and checks).
    static const std::set<std::string> not_the_run = {
        "config",      "dump-config", "stats",      "output",    "vcd",         "trace-tlm",
        "trace-stl",   "per-query",   "vcd-window", "vcd-heads", "dump-regmap", "help",
        "dump-params", "dump-tech",   "version",    "dry-run",   "quiet"};
    for (const auto* e : m.run_reg.entries()) {
        if (!vm.count(e->name)) continue;
        cli::set_or_throw(m.run_reg, e->name, vm[e->name].as<std::string>());
        if (!not_the_run.count(e->name)) run.given.push_back(e->name);
    }
    apply_workload_preset(vm, run, m);
}

void Arguments::apply_model_parameters(const po::variables_map& vm) {
    const ArgumentsImpl& m = *m_impl;
    // Model parameters: the memory preset first (its timing and its energies), then every
    // explicit value over it.
    if (vm.count("dram.preset")) {
        const std::string p = vm["dram.preset"].as<std::string>();
        cli::set_or_throw(registry, "dram.preset", p);
        MemoryConfig::apply_preset(p, platform.dram);
        MemoryConfig::apply_energy(p, platform.tech);
    }
    if (!run.tech_file.empty()) {
        apply_tech_files(run.tech_file, vm, platform.ip.clock_ns, platform.tech);
        if (vm.count("dram.preset")) say_memory_energy_replaced(platform);
    }
    // The IP size preset next, under every explicit parameter.
    if (m.preset != "none") IpConfig::apply_size_preset(m.preset, platform.ip);
    for (const auto* e : registry.entries())
        if (vm.count(e->name) && e->name != "dram.preset")
            cli::set_or_throw(registry, e->name, vm[e->name].as<std::string>());
    const std::string perr = platform.validate();
    if (!perr.empty()) throw std::runtime_error(perr);
}

// The job's enumerations, the thresholds and the output bounds from their option text, and the
// options that only work together.
void Arguments::apply_job_options() {
    const ArgumentsImpl& m = *m_impl;
    core::parse(m.mode, run.job.mode);
    core::parse(m.softmax, run.job.softmax);
    core::parse(m.output_format, run.job.output);
    core::parse(m.empty_row, run.job.empty_row);
    run.job.causal = m.causal;
    sprint::parse(run.timing, platform.ip.timing);
    platform.ip.check_protocol = run.check_protocol;
    run.thresholds =
        m.threshold_text.empty() ? std::vector<double>{} : cli::parse_list(m.threshold_text);
    const bool files = !run.q_file.empty() || !run.k_file.empty() || !run.v_file.empty();
    if (files && (run.q_file.empty() || run.k_file.empty() || run.v_file.empty()))
        throw std::runtime_error("options '--q', '--k' and '--v' must be given together");
    if (run.dry_run &&
        (!run.stats_file.empty() || !run.output_file.empty() || !run.vcd_file.empty() ||
         !run.trace_tlm_file.empty() || !run.trace_stl_file.empty() || !run.per_query_file.empty()))
        throw std::runtime_error(
            "option '--dry-run' simulates nothing: '--stats', '--output', '--vcd', '--per-query' "
            "and the traces need a run (a dry run writes only --dump-config)");
    if (!m.vcd_window.empty()) cli::parse_vcd_window(m.vcd_window, run.vcd_from_ps, run.vcd_to_ps);
    if (!m.vcd_heads.empty()) cli::parse_head_set(m.vcd_heads, run.vcd_heads);
    if ((!m.vcd_window.empty() || !m.vcd_heads.empty()) && run.vcd_file.empty())
        throw std::runtime_error(
            "options '--vcd-window' and '--vcd-heads' bound the --vcd file: give '--vcd FILE'");
    if (run.calibrate_q_file.empty() != run.calibrate_k_file.empty())
        throw std::runtime_error(
            "options '--calibrate-q' and '--calibrate-k' must be given together");
    apply_keep_rule();
}

// --keep-mass is the default rule; --keep-fraction replaces it, and the two together are an error
// (one threshold rule per run).
void Arguments::apply_keep_rule() {
    const auto given = [&](const char* name) {
        return std::find(run.given.begin(), run.given.end(), name) != run.given.end();
    };
    if (!given("keep-fraction")) return;
    if (given("keep-mass") && run.keep_mass > 0.0)
        throw std::runtime_error(
            "options '--keep-mass' and '--keep-fraction' are two threshold rules: give one (or "
            "'--keep-mass 0' with '--keep-fraction')");
    run.keep_mass = 0.0;
}

}  // namespace sprint::platform

// The effective configuration of sprint-sim written out: --dump-config's INI file (read back by
// --config), --dump-params' Markdown table, and the values by name (the sweep's fit checks).
#include <map>
#include <sstream>

#include "platforms/sim/cli.h"
#include "platforms/sim/cli_internal.h"
#include "platforms/sim/version.h"

namespace sprint::platform {

std::string Arguments::params_markdown() const {
    std::ostringstream os;
    os << "| parameter | default | unit | allowed | description [source] "
          "|\n|---|---|---|---|---|\n";
    for (const auto* e : registry.entries())
        os << "| `" << e->name << "` | " << e->default_value << " | " << e->unit << " | "
           << e->allowed << " | " << e->description << " |\n";
    return os.str();
}

std::optional<std::string> Arguments::value(const std::string& name) const {
    if (const auto* e = m_impl->run_reg.find(name)) return e->get();
    if (const auto* e = registry.find(name)) return e->get();
    return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> Arguments::values() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto* e : m_impl->run_reg.entries()) out.emplace_back(e->name, e->get());
    for (const auto* e : registry.entries()) out.emplace_back(e->name, e->get());
    return out;
}

std::string Arguments::config_text() const {
    const ArgumentsImpl& m = *m_impl;
    std::ostringstream os;
    os << "# sprint-sim effective configuration; read it back with --config FILE\n"
       << "# written by sprint-sim " << tool_version() << " (git " << tool_commit() << ") on "
       << host_name() << ", " << (run.started.empty() ? utc_timestamp() : run.started) << "\n";
    if (!run.command_line.empty()) {
        os << "# command:";
        for (const auto& w : run.command_line) os << " " << w;
        os << "\n";
    }
    for (const auto& sec : m.sections) {
        if (sec.first == "General" || sec.first == "Outputs") continue;
        os << "\n# " << sec.first << "\n";
        for (const auto& n : sec.second) {
            const auto* e = m.run_reg.find(n);
            const std::string v = e->get();
            if (n == "model") {  // what every layer shares: the model itself is a command option
                if (!v.empty())
                    os << "# a model run: sprint-sim --config THIS_FILE --model " << v << "\n";
                continue;
            }
            if ((n == "q" || n == "k" || n == "v" || n == "threshold" || n == "calibrate-q" ||
                 n == "tech" || n == "calibrate-k") &&
                v.empty())
                continue;
            // One threshold rule: the fraction only when it is the rule in use (keep-mass 0).
            if (n == "keep-fraction" && run.keep_mass > 0.0) {
                os << "# " << n << " = " << v << "  (unused: the rule is keep-mass)\n";
                continue;
            }
            os << n << " = " << v << "\n";
        }
    }
    // Memory timing and energy equal to the preset's are written as comments, so a changed preset
    // (in the file or on the command line) still brings its own when the file is read back.
    MemoryConfig preset;
    MemoryConfig::apply_preset(platform.dram.preset, preset);
    MemoryConfig::MemoryEnergy energy;
    MemoryConfig::preset_energy(platform.dram.preset, energy);
    const std::map<std::string, bool> from_preset = {
        {"dram.latency_ns", platform.dram.latency_ns == preset.latency_ns},
        {"dram.write_latency_ns", platform.dram.write_latency_ns == preset.write_latency_ns},
        {"dram.bandwidth_gbps", platform.dram.bandwidth_gbps == preset.bandwidth_gbps},
        {"dram.burst_bytes", platform.dram.burst_bytes == preset.burst_bytes},
        {"tech.dram.read", platform.tech.value("dram", "read") == energy.read_pj_per_bit},
        {"tech.dram.write", platform.tech.value("dram", "write") == energy.write_pj_per_bit}};
    os << "\n"
       << registry.dump_ini([&](const core::ParamRegistry::Entry& e) {
              auto it = from_preset.find(e.name);
              return it != from_preset.end() && it->second;
          });
    return os.str();
}

}  // namespace sprint::platform

// Internal to sprint-sim's command line, shared by its four files: the option table
// (cli_options.cpp), parsing the command line and the config file (cli_parse.cpp), checking and
// applying the values (cli_validate.cpp) and writing the effective configuration out
// (cli_config.cpp). Nothing else includes it.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/program_options/options_description.hpp>

#include "core/params.h"

namespace sprint::platform {

// The run options' side of Arguments: their registry (text for the enumerations and lists) and
// the help sections.
struct ArgumentsImpl {
    // Run options as the registry sees them (text for the enumerations and lists).
    std::string mode = "sprint", softmax = "fixed", output_format = "int16", empty_row = "self";
    std::string preset = "none";
    std::string threshold_text, config_file;
    std::string vcd_window, vcd_heads;
    bool causal = false, help = false, version = false;
    core::ParamRegistry run_reg{"option", "--"};
    // Help sections, also those of --dump-config: (title, names).
    std::vector<std::pair<std::string, std::vector<std::string>>> sections;
};

namespace cli {

// One Boost description entry of a registry entry (cli_options.cpp). Run options may be flags (a
// value of their own when given alone: `--compare`); model parameters always take a value
// (`--sprint.xbar.midpoint false`).
void add_entry(boost::program_options::options_description& d, const core::ParamRegistry::Entry& e,
               bool flags = true);

// Value checks and conversions (cli_validate.cpp), shared by the option table's checkers and the
// validation. Each check returns "" when the value is good, else what is wrong.

// "" when `f` is a regular file that opens for reading.
std::string readable(const std::string& f);
// The items of a comma-separated list, blanks around each removed; an empty item (as in "1," or
// "1,,2") stays, so that it is reported instead of dropped.
std::vector<std::string> split_list(const std::string& s);
// --vcd-window "T0:T1", either side may be empty: simulated times in ps.
std::string parse_vcd_window(const std::string& s, double& from, double& to);
// --vcd-heads "0,2,4-7".
std::string parse_head_set(const std::string& s, std::set<uint32_t>& heads);
// --threshold: finite numbers within float32 (they go into the head table as float32).
std::string check_threshold_list(const std::string& s);
// The numbers of a list check_threshold_list accepted.
std::vector<double> parse_list(const std::string& s);
// A value into a registry, its error thrown as std::runtime_error.
void set_or_throw(core::ParamRegistry& reg, const std::string& name, const std::string& value);

}  // namespace cli
}  // namespace sprint::platform

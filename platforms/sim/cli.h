// Command line and config file of sprint-sim (Boost.Program_options): the option table
// (cli_options.cpp), parsing (cli_parse.cpp), checking and applying the values (cli_validate.cpp),
// the effective configuration written out (cli_config.cpp). Run options (workload, job,
// outputs) have dashed names; every model parameter is an option under its hierarchical dotted
// name (--sprint.sram.k_bytes 4096), and the same names work in an INI config file
// ([sprint.sram] k_bytes = 4096, or sprint.sram.k_bytes = 4096). The command line wins over the
// file. Everything is checked before any simulation starts.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/program_options/variables_map.hpp>

#include "core/calibration.h"
#include "core/params.h"
#include "core/types.h"
#include "platforms/components/standalone_platform.h"

namespace sprint::platform {

// The attention mass the kept keys should hold: under it the summary warns, and the default
// threshold rule keeps it (--keep-mass).
constexpr double kWarnMassBelow = 0.90;

// Which baselines run beside the selected mode.
enum class Compare : uint8_t { None, Strong, All };

struct RunOptions {
    // Workload.
    int heads = 12, seq_len = 512, head_dim = 64;  // BERT-base-like layer
    double locality = 0.9, sharpness = 2.5;
    std::string workload = "custom";  // a core::workload_presets() name sets the fields below
    double sharpness_spread = 0.0, sink_strength = 0.0, band = 0.0, band_width = 16.0;
    double min_valid = 1.0;
    int sinks = 0;
    uint64_t seed = 1;
    uint32_t valid_len = 0;  // 0 = seq_len (no padding)
    std::string q_file, k_file, v_file;
    std::string model_file;  // --model: every layer of a model file (model_file.h)
    // Threshold: one value, or one per head (logit units); else calibrated per head to keep
    // keep_mass of the softmax mass (> 0; by default the share under which the summary warns,
    // kWarnMassBelow), or keep_fraction of the pairs when --keep-fraction is given.
    std::vector<double> thresholds;
    double keep_fraction = 0.10, keep_mass = kWarnMassBelow;
    core::CalibrateOn calibrate_on = core::CalibrateOn::Ideal;
    uint32_t calibrate_queries = 0;  // the first K queries of each head; 0: all
    // A separate calibration set (Q and K .npy files, [heads, Nc, d]) instead of the workload.
    std::string calibrate_q_file, calibrate_k_file;
    // Job.
    core::JobOptions job;
    std::string timing = "lt";
    Compare compare = Compare::Strong;
    bool check_protocol = false;
    // Checks after the simulation: the fidelity references (a) and (b) per query, and the
    // bit-exact core reference (c) of each job's output.
    bool fidelity = true, verify = true;
    // Outputs.
    std::string stats_file, output_file, vcd_file, dump_config_file;
    std::string trace_tlm_file, trace_stl_file;  // transaction traces (CSV; DRAMSys STL)
    std::string per_query_file;                  // one CSV row per query of every job
    // Bounds of the --vcd file: simulated time [from, to) in ps, and heads (empty: all).
    double vcd_from_ps = 0.0, vcd_to_ps = std::numeric_limits<double>::infinity();
    std::set<uint32_t> vcd_heads;
    bool dump_regmap = false, dump_params = false, dump_tech = false;
    bool dry_run = false;   // check everything, write --dump-config, simulate nothing
    bool quiet = false;     // no progress line
    std::string tech_file;  // --tech: a technology table (JSON) over the built-in one
    std::string verbosity = "low";
    std::vector<std::string> given;         // run options given explicitly (for --dump-config)
    std::vector<std::string> command_line;  // argv as given
    std::string started;                    // when parse() ran, UTC
};

struct ArgumentsImpl;

// Parsed arguments: the run options plus the platform configuration and its parameter registry.
class Arguments {
  public:
    Arguments();
    Arguments(const Arguments&) = delete;
    Arguments& operator=(const Arguments&) = delete;

    RunOptions run;
    PlatformConfig platform;
    core::ParamRegistry registry;  // refers to fields of `platform`

    enum class Action { Run, Help, Version, Exit };
    // Parse argv (and --config FILE). Returns Help for --help, Version for --version, Exit after
    // a table dump (--dump-regmap, --dump-params, --dump-tech: nothing is simulated)
    // (--dump-regmap only). Throws std::runtime_error with a message naming the problem.
    Action parse(int argc, const char* const argv[]);
    void print_help(std::ostream& os) const;
    // The effective configuration as an INI file that --config reads back.
    std::string config_text() const;
    // Every model parameter as a Markdown table (what --dump-params prints, docs/parameters.md).
    std::string params_markdown() const;
    // The effective value of a run option (seq-len) or a model parameter (sprint.sram.k_bytes)
    // after parse(), as --dump-config writes it; nullopt when no option or parameter has the name.
    std::optional<std::string> value(const std::string& name) const;
    // Every run option and model parameter with its effective value, by name.
    std::vector<std::pair<std::string, std::string>> values() const;

  private:
    // The stored options and parameters into `run` and `platform`, each checked
    // (cli_validate.cpp): the run options and a workload preset under them, the model parameters
    // over the memory preset, the technology tables and the IP size preset, then the job.
    void apply(const boost::program_options::variables_map& vm);
    void apply_run_options(const boost::program_options::variables_map& vm);
    void apply_model_parameters(const boost::program_options::variables_map& vm);
    void apply_job_options();
    void apply_keep_rule();
    std::shared_ptr<ArgumentsImpl> m_impl;  // cli_internal.h
};

}  // namespace sprint::platform

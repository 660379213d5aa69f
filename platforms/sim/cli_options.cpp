// The option table of sprint-sim: every run option (dashed names, in help sections) with its
// unit, allowed values, check and description, beside the model parameters the platform
// registers (dotted names), and the --help text made from them.
#include <iostream>
#include <map>
#include <sstream>

#include <boost/program_options.hpp>

#include "core/workload.h"
#include "platforms/sim/cli.h"
#include "platforms/sim/cli_internal.h"

namespace po = boost::program_options;

namespace sprint::platform {

using cli::check_threshold_list;
using cli::parse_head_set;
using cli::parse_vcd_window;
using cli::readable;

namespace {

void add_general_options(core::ParamRegistry& r, RunOptions& o, ArgumentsImpl& m) {
    r.add_string("config", m.config_file, "file",
                 "read options from this INI file (the command line wins)", "a readable file");
    r.add_string("dump-config", o.dump_config_file, "file",
                 "write the effective configuration (every option and parameter) to this file",
                 "a writable path");
    r.add_bool("dump-regmap", o.dump_regmap,
               "print the register map (Markdown) of the configuration given and exit without "
               "simulating");
    r.add_bool("dump-params", o.dump_params,
               "print every model parameter as a Markdown table and exit without simulating");
    r.add_bool("dump-tech", o.dump_tech,
               "print the technology table (energy, leakage, area; JSON, the --tech format) and "
               "exit without simulating");
    r.add_bool("dry-run", o.dry_run,
               "check the options, the workload and every job against the IP and the memory, "
               "write --dump-config if given, and exit without simulating");
    r.add_choice("verbosity", o.verbosity,
                 "SystemC report verbosity (-v, -vv, -vvv: medium, high, full)",
                 {"none", "low", "medium", "high", "full", "debug"});
    r.add_bool("quiet", o.quiet,
               "no progress line on stderr (shown only on a terminal, for runs over a second)");
    r.add_bool("help", m.help, "print this help");
    r.add_bool("version", m.version, "print the tool's version and git commit, and exit");
    m.sections.push_back({"General",
                          {"help", "version", "dry-run", "config", "dump-config", "dump-regmap",
                           "dump-params", "dump-tech", "verbosity", "quiet"}});
}

void add_workload_options(core::ParamRegistry& r, RunOptions& o, ArgumentsImpl& m) {
    r.add_int("heads", o.heads, "heads", "synthetic workload: attention heads", 1, 4096);
    r.add_int("seq-len", o.seq_len, "tokens", "synthetic workload: sequence length N", 1, 1 << 20);
    r.add_int("head-dim", o.head_dim, "elements", "synthetic workload: head dimension d", 1,
              1 << 16);
    r.add_double("locality", o.locality, "", "synthetic workload: correlation of adjacent queries",
                 0.0, 0.999999);
    r.add_double("sharpness", o.sharpness, "logit std-dev",
                 "synthetic workload: spread of the logits across keys", 0.001, 100.0);
    r.add_uint("seed", o.seed, "", "synthetic workload: random seed", 0, ~uint64_t(0));
    std::vector<std::string> workloads{"custom"};
    for (const auto& w : core::workload_presets()) workloads.push_back(w.name);
    r.add_choice("workload", o.workload,
                 "a model's attention shape and structure (docs/workloads.md): sets heads, "
                 "seq-len, head-dim, causal and the structure options below unless they are given; "
                 "custom = the options as given",
                 workloads);
    r.add_double(
        "sharpness-spread", o.sharpness_spread, "",
        "synthetic workload: head h's sharpness is sharpness x (1 + spread x (2h/(H-1) - 1))", 0.0,
        0.99);
    r.add_int("sinks", o.sinks, "tokens",
              "synthetic workload: heavy-hitter tokens 0 .. sinks-1 every query attends to", 0,
              1 << 20);
    r.add_double("sink-strength", o.sink_strength, "logit std-dev",
                 "synthetic workload: the sinks' extra logit", 0.0, 100.0);
    r.add_double("band", o.band, "logit std-dev",
                 "synthetic workload: extra logit of keys near the query (a local band)", 0.0,
                 100.0);
    r.add_double("band-width", o.band_width, "tokens",
                 "synthetic workload: the band falls as exp(-(i-j)^2 / (2 width^2))", 0.1, 1e6);
    r.add_double("min-valid", o.min_valid, "fraction",
                 "synthetic workload: each head's valid length uniform in [min-valid, 1] x N "
                 "(padding; --valid-len sets one length for all)",
                 0.001, 1.0);
    r.add_uint("valid-len", o.valid_len, "tokens",
               "valid length of every head (padding after it); 0 = N", 0, 1u << 20);
    r.add_string("q", o.q_file, "file",
                 ".npy float32 queries [heads, N, d] or [N, d] (with --k and --v)",
                 "a readable .npy file", readable);
    r.add_string("k", o.k_file, "file", ".npy float32 keys, same shape as --q",
                 "a readable .npy file", readable);
    r.add_string("v", o.v_file, "file", ".npy float32 values, same shape as --q",
                 "a readable .npy file", readable);
    r.add_string("model", o.model_file, "file",
                 "run every layer of a model file (YAML: each layer's workload options and how "
                 "often it repeats; docs/workloads.md) in one process: each layer's summary, a "
                 "row per layer and the model's totals",
                 "a readable model file", readable);
    m.sections.push_back({"Workload (built-in synthetic generator, or Q/K/V from .npy files)",
                          {"model", "workload", "heads", "seq-len", "head-dim", "valid-len",
                           "locality", "sharpness", "sharpness-spread", "sinks", "sink-strength",
                           "band", "band-width", "min-valid", "seed", "q", "k", "v"}});
}

void add_threshold_options(core::ParamRegistry& r, RunOptions& o, ArgumentsImpl& m) {
    r.add_double("keep-mass", o.keep_mass, "share",
                 "calibrate each head's threshold so the kept keys hold this share of each "
                 "query's dense softmax mass, on average over the calibration queries (the "
                 "default rule: the share under which the summary warns); 0 = unused",
                 0.0, 1.0);
    r.add_double("keep-fraction", o.keep_fraction, "fraction",
                 "instead of --keep-mass: calibrate each head's threshold so this fraction of "
                 "its visible pairs is kept, on the scores the keep rule compares (comparator "
                 "margins in sprint mode, exact scores in onchip-prune mode)",
                 1e-6, 1.0);
    r.add_enum("calibrate-on", o.calibrate_on,
               "calibrate on the ideal comparator margins or on the hardware's (with the "
               "configured non-idealities)",
               {{"ideal", core::CalibrateOn::Ideal}, {"hardware", core::CalibrateOn::Hardware}});
    r.add_uint("calibrate-queries", o.calibrate_queries, "queries",
               "calibration set: the first K queries of each head; 0 = all", 0, 1u << 20);
    r.add_string("calibrate-q", o.calibrate_q_file, "file",
                 "calibration set from files: .npy float32 queries [heads, Nc, d] (with "
                 "--calibrate-k; the workload's heads and d, any Nc) instead of the workload's own",
                 "a readable .npy file", readable);
    r.add_string("calibrate-k", o.calibrate_k_file, "file",
                 "calibration set from files: .npy float32 keys, the shape of --calibrate-q",
                 "a readable .npy file", readable);
    r.add_string("threshold", m.threshold_text, "logit",
                 "keep threshold: one value for all heads or one per head, comma-separated "
                 "(overrides --keep-fraction)",
                 "finite float32 numbers separated by commas", check_threshold_list);
    m.sections.push_back({"Threshold",
                          {"keep-fraction", "keep-mass", "calibrate-on", "calibrate-queries",
                           "calibrate-q", "calibrate-k", "threshold"}});
}

void add_job_options(core::ParamRegistry& r, RunOptions& o, ArgumentsImpl& m) {
    std::vector<std::string> presets{"none"};
    for (const auto& n : IpConfig::size_preset_names()) presets.push_back(n);
    r.add_choice("preset", m.preset,
                 "IP size of the paper: S, M, L = 1, 2, 4 compute units of 8 KB K + 8 KB V SRAM "
                 "each, 16 fetcher request slots per unit (sets sprint.units, sprint.sram.k_bytes, "
                 "sprint.sram.v_bytes, sprint.fetcher.max_outstanding; explicit values win); none "
                 "= the parameters as given",
                 presets);
    r.add_choice("mode", m.mode, "operating mode of the IP",
                 {"sprint", "dense", "onchip-prune", "dense-stream"});
    r.add_bool("causal", m.causal, "causal mask (query i sees keys 0..i)");
    o.job.k_readback = true;  // the paper's design
    r.add_bool("k-readback", o.job.k_readback,
               "sprint mode: K-MSB read-back, only the low 8 - key_bits bits of each kept K row "
               "come from memory, the top bits are read back out of the crossbar (false: whole "
               "K rows fetched)");
    r.add_choice("softmax", m.softmax,
                 "softmax arithmetic: fixed (unnormalised fixed-point exponentials, one division "
                 "per output element), prob8 (the paper's 8-bit probabilities; collapses on long, "
                 "flat rows) or float (studies)",
                 {"fixed", "prob8", "float"});
    r.add_choice("output-format", m.output_format, "element format the IP writes",
                 {"float32", "int16"});
    r.add_choice("empty-row", m.empty_row, "what a query keeps when nothing passes the threshold",
                 {"self", "max"});
    r.add_choice(
        "timing", o.timing,
        "timing mode of every link in the IP and of its memory port: lt (loosely timed, "
        "b_transport, temporal decoupling) or at (approximately timed, 4-phase nb_transport)",
        {"lt", "at"});
    r.add_bool("check-protocol", o.check_protocol,
               "insert a TLM-2.0 base-protocol checker on every link of the IP and the platform; "
               "violations are listed and the exit status is 1");
    r.add_enum("compare", o.compare,
               "baselines run on the same workload and printed beside the selected mode: true = "
               "the strong dense baseline (query blocks), all = dense, dense-stream, "
               "onchip-prune and sprint, false = none (--compare=false)",
               {{"true", Compare::Strong}, {"false", Compare::None}, {"all", Compare::All}});
    r.set_implicit("compare", "true");
    r.add_bool(
        "fidelity", o.fidelity,
        "the fidelity references of each query: dense float attention (a) and the "
        "exact-score keep decisions (b), for the mass retained, the output error against "
        "dense float and the false prune/keep rates; false skips them (those figures print as "
        "skipped, null in --stats; keep fraction and new-fetch counts remain)");
    r.add_bool("verify", o.verify,
               "check each job's output bit for bit against the core's reference (c), computed "
               "on a worker thread during the simulation; false skips the check (printed as "
               "skipped, null in --stats)");
    m.sections.push_back(
        {"Job",
         {"preset", "mode", "causal", "k-readback", "softmax", "output-format", "empty-row",
          "timing", "check-protocol", "compare", "fidelity", "verify"}});
}

void add_cost_model_options(core::ParamRegistry& r, RunOptions& o, ArgumentsImpl& m) {
    r.add_string("tech", o.tech_file, "file",
                 "technology tables, comma-separated, applied in order: JSON (the --dump-tech "
                 "format) or Accelergy ERT/ART YAML (docs/energy.md); their entries replace the "
                 "built-in 65 nm values; tech.<block>.<action> options override single entries",
                 "readable files, comma-separated", [](const std::string& list) {
                     std::stringstream in(list);
                     for (std::string f; std::getline(in, f, ',');)
                         if (!readable(f).empty()) return "'" + f + "' " + readable(f);
                     return std::string();
                 });
    m.sections.push_back({"Cost model", {"tech"}});
}

void add_outputs_options(core::ParamRegistry& r, RunOptions& o, ArgumentsImpl& m) {
    r.add_string("stats", o.stats_file, "file", "write hierarchical statistics (JSON, with units)",
                 "a writable path");
    r.add_string("output", o.output_file, "file",
                 "write the attention output read back from memory (.npy float32 [heads, N, d])",
                 "a writable path");
    r.add_string("vcd", o.vcd_file, "file",
                 "write waveforms of the IP's architectural state (VCD, 1 ps; a name ending in "
                 ".fst writes FST through GTKWave's vcd2fst)",
                 "a writable path");
    r.add_string("vcd-window", m.vcd_window, "time",
                 "trace only simulated time [FROM, TO) into --vcd, for example 2us:10us (either "
                 "side may be empty)",
                 "FROM:TO, times with a unit ps, ns, us, ms or s", [](const std::string& s) {
                     double a, b;
                     return parse_vcd_window(s, a, b);
                 });
    r.add_string("vcd-heads", m.vcd_heads, "heads",
                 "trace into --vcd only while one of these heads (of any job) is in the pipeline, "
                 "from its head-table read to its last output row",
                 "head indices and ranges separated by commas (0,2,4-7)", [](const std::string& s) {
                     std::set<uint32_t> h;
                     return parse_head_set(s, h);
                 });
    r.add_string("trace-tlm", o.trace_tlm_file, "file",
                 "write every transaction on the IP's csr and mem links as CSV: link, transport, "
                 "command, address, length, response and phase times in ps (docs/observability.md)",
                 "a writable path");
    r.add_string("trace-stl", o.trace_stl_file, "file",
                 "write the mem link's reads and writes as a DRAMSys STL trace (one line per "
                 "dram.burst_bytes granule, ns timestamps: a 1 GHz player clock)",
                 "a writable path");
    r.add_string("per-query", o.per_query_file, "file",
                 "write one CSV row per query of every job: head, query, unit, kept keys, rows "
                 "fetched and re-used, cycles, compute time and stalls, dynamic energy; rows for "
                 "each head's own work and the job's leakage make the columns sum to --stats "
                 "(docs/observability.md)",
                 "a writable path");
    m.sections.push_back({"Outputs",
                          {"stats", "output", "vcd", "vcd-window", "vcd-heads", "trace-tlm",
                           "trace-stl", "per-query"}});
}

}  // namespace

Arguments::Arguments() : m_impl(std::make_shared<ArgumentsImpl>()) {
    platform.register_params(registry);
    add_general_options(m_impl->run_reg, run, *m_impl);
    add_workload_options(m_impl->run_reg, run, *m_impl);
    add_threshold_options(m_impl->run_reg, run, *m_impl);
    add_job_options(m_impl->run_reg, run, *m_impl);
    add_cost_model_options(m_impl->run_reg, run, *m_impl);
    add_outputs_options(m_impl->run_reg, run, *m_impl);
}

void cli::add_entry(po::options_description& d, const core::ParamRegistry::Entry& e, bool flags) {
    const std::string name = e.name == "help" ? "help,h" : e.name;
    std::string help = e.description;
    if (!e.unit.empty()) help += " [" + e.unit + "]";
    help += "; " + e.allowed;
    auto* v = po::value<std::string>()->value_name(e.unit.empty() ? "arg" : e.unit);
    if (flags && !e.implicit.empty()) v->implicit_value(e.implicit);
    if (!e.default_value.empty()) help += "; default " + e.default_value;
    d.add_options()(name.c_str(), v, help.c_str());
}

void Arguments::print_help(std::ostream& os) const {
    const ArgumentsImpl& m = *m_impl;
    os << "sprint-sim: SystemC/TLM-2.0 virtual prototype of the SPRINT sparse attention "
          "accelerator\n"
          "Usage: sprint-sim [options]        (no options: BERT-base-like layer, SPRINT vs "
          "dense)\n\n"
          "Examples:\n"
          "  sprint-sim                                  the default layer, SPRINT beside the "
          "strong dense baseline\n"
          "  sprint-sim --workload gpt2-large            a model's attention shape "
          "(docs/workloads.md)\n"
          "  sprint-sim --preset M --timing at --vcd run.vcd\n"
          "                                              M-SPRINT, approximately timed, with "
          "waveforms\n"
          "  sprint-sim --compare=false --vcd-heads 0 --vcd run.vcd\n"
          "                                              SPRINT's first head only: gtkwave run.vcd "
          "waveforms/overview.gtkw\n"
          "  sprint-sim --keep-mass 0.9 --stats run.json thresholds by softmax mass; every "
          "statistic as JSON\n"
          "  sprint-sim --q q.npy --k k.npy --v v.npy --output out.npy\n"
          "                                              your own tensors, the IP's output "
          "written back\n"
          "  sprint-sim --sprint.sram.k_bytes 16384 --dram.preset hbm2 --compare all\n"
          "                                              one design point against every "
          "baseline\n"
          "  sprint-sim --dry-run --dump-config run.ini  check a configuration and write it; "
          "simulate nothing\n"
          "  sprint-sweep run sweeps/sram_x_memory.yaml  many design points (docs/sweeps.md)\n\n"
          "Source tags in the descriptions: [F] read from the paper's figures or tables, [S] a "
          "secondary summary\nof the paper, [X] another public source, [D] our own choice or "
          "derivation (docs/parameters.md).\n\n";
    for (const auto& sec : m.sections) {
        po::options_description d(sec.first, 120, 60);
        for (const auto& n : sec.second) {
            const auto* e = m.run_reg.find(n);
            cli::add_entry(d, *e);
        }
        os << d << "\n";
    }
    std::map<std::string, std::vector<const core::ParamRegistry::Entry*>> groups;
    for (const auto* e : registry.entries())
        groups[e->name.substr(0, e->name.rfind('.'))].push_back(e);
    os << "Model parameters (hierarchical names; also [section] key = value in the config file):\n";
    for (const auto& g : groups) {
        po::options_description d("  " + g.first, 120, 60);
        for (const auto* e : g.second) cli::add_entry(d, *e, false);
        os << d;
    }
    os << "\nThe dram.* timing values default to the chosen dram.preset; explicit values override "
          "it.\n";
}

}  // namespace sprint::platform

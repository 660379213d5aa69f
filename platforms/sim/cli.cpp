#include "platforms/sim/cli.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <set>
#include <sstream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "core/workload.h"
#include "platforms/sim/accelergy.h"
#include "platforms/sim/version.h"
#include "tlm_interfaces/register_map.h"

namespace po = boost::program_options;

namespace sprint::platform {

struct Arguments::Impl {
    // Run options as the registry sees them (text for the enumerations and lists).
    std::string mode = "sprint", softmax = "fixed", output_format = "float32", empty_row = "self";
    std::string preset = "none";
    std::string threshold_text, config_file;
    std::string vcd_window, vcd_heads;
    bool causal = false, help = false, version = false;
    core::ParamRegistry run_reg{"option", "--"};
    // Help sections: (title, names).
    std::vector<std::pair<std::string, std::vector<std::string>>> sections;
};

namespace {

// The items of a comma-separated list, blanks around each removed; an empty item (as in "1," or
// "1,,2") stays, so that it is reported instead of dropped.
// "" when `f` is a regular file that opens for reading, else what is wrong.
std::string readable(const std::string& f) {
    std::error_code ec;
    std::ifstream in(f, std::ios::binary);
    return std::filesystem::is_regular_file(f, ec) && in ? "" : "cannot be opened for reading";
}

std::vector<std::string> split_list(const std::string& s) {
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

// --vcd-window "T0:T1", either side may be empty.
std::string parse_vcd_window(const std::string& s, double& from, double& to) {
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
std::string parse_head_set(const std::string& s, std::set<uint32_t>& heads) {
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
std::string check_threshold_list(const std::string& s) {
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

std::vector<double> parse_list(const std::string& s) {
    std::vector<double> v;
    for (const std::string& item : split_list(s)) {
        double x = 0.0;
        core::parse_number(item, x);
        v.push_back(x);
    }
    return v;
}

}  // namespace

Arguments::Arguments() : m_impl(std::make_shared<Impl>()) {
    platform.register_params(registry);
    Impl& m = *m_impl;
    core::ParamRegistry& r = m.run_reg;
    RunOptions& o = run;
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
    m.sections.push_back({"Workload (built-in synthetic generator, or Q/K/V from .npy files)",
                          {"workload", "heads", "seq-len", "head-dim", "valid-len", "locality",
                           "sharpness", "sharpness-spread", "sinks", "sink-strength", "band",
                           "band-width", "min-valid", "seed", "q", "k", "v"}});

    r.add_double("keep-fraction", o.keep_fraction, "fraction",
                 "calibrate each head's threshold so this fraction of its visible pairs is kept, "
                 "on the scores the keep rule compares (comparator margins in sprint mode, exact "
                 "scores in onchip-prune mode)",
                 1e-6, 1.0);
    r.add_double("keep-mass", o.keep_mass, "share",
                 "calibrate each head's threshold so the kept keys hold this share of each "
                 "query's dense softmax mass, on average over the calibration queries (instead "
                 "of --keep-fraction); 0 = unused",
                 0.0, 1.0);
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
                 "softmax arithmetic: hardware fixed point or float (studies)", {"fixed", "float"});
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

namespace {

// Run options may be flags (a value of their own when given alone: `--compare`); model parameters
// always take a value (`--sprint.xbar.midpoint false`).
void add_entry(po::options_description& d, const core::ParamRegistry::Entry& e, bool flags = true) {
    const std::string name = e.name == "help" ? "help,h" : e.name;
    std::string help = e.description;
    if (!e.unit.empty()) help += " [" + e.unit + "]";
    help += "; " + e.allowed;
    auto* v = po::value<std::string>()->value_name(e.unit.empty() ? "arg" : e.unit);
    if (flags && !e.implicit.empty()) v->implicit_value(e.implicit);
    if (!e.default_value.empty()) help += "; default " + e.default_value;
    d.add_options()(name.c_str(), v, help.c_str());
}

}  // namespace

void Arguments::print_help(std::ostream& os) const {
    const Impl& m = *m_impl;
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
            add_entry(d, *e);
        }
        os << d << "\n";
    }
    std::map<std::string, std::vector<const core::ParamRegistry::Entry*>> groups;
    for (const auto* e : registry.entries())
        groups[e->name.substr(0, e->name.rfind('.'))].push_back(e);
    os << "Model parameters (hierarchical names; also [section] key = value in the config file):\n";
    for (const auto& g : groups) {
        po::options_description d("  " + g.first, 120, 60);
        for (const auto* e : g.second) add_entry(d, *e, false);
        os << d;
    }
    os << "\nThe dram.* timing values default to the chosen dram.preset; explicit values override "
          "it.\n";
}

namespace {

// Boost's error text puts the option's name into placeholders such as %canonical_option% and
// loops forever when the name holds one itself: a name with '%' (no option has one) is refused
// here, before Boost sees it.
void refuse_percent_name(const std::string& name, const std::string& where) {
    if (name.find('%') != std::string::npos)
        throw std::runtime_error(where + "unrecognised option '" + name + "'");
}

// The command line into `vm`; no positional arguments: a stray word is an error, not ignored.
void store_command_line(int argc, const char* const argv[], const po::options_description& all,
                        po::variables_map& vm) {
    for (int i = 1; i < argc; ++i)
        if (argv[i][0] == '-') {
            const std::string w = argv[i];
            refuse_percent_name(w.substr(0, w.find('=')), "");
        }
    try {
        po::options_description cmdline;
        cmdline.add(all).add_options()("stray-argument", po::value<std::vector<std::string>>(), "");
        po::positional_options_description stray;
        stray.add("stray-argument", -1);
        po::store(po::command_line_parser(argc, argv)
                      .options(cmdline)
                      .positional(stray)
                      .style(po::command_line_style::default_style &
                             ~po::command_line_style::allow_guessing)
                      .run(),
                  vm);
    } catch (const po::error& e) {
        throw std::runtime_error(e.what());
    }
    if (vm.count("stray-argument"))
        throw std::runtime_error("unexpected argument '" +
                                 vm["stray-argument"].as<std::vector<std::string>>()[0] +
                                 "' (options start with --, e.g. --heads 2)");
}

// The --config file into `vm`, below what the command line already holds; returns every
// (name, value) the file gives, also those the command line overrides.
std::vector<std::pair<std::string, std::string>> store_config_file(
    const std::string& file, const po::options_description& all, po::variables_map& vm) {
    std::error_code ec;
    std::ifstream f(file);
    if (!std::filesystem::is_regular_file(file, ec) || !f)
        throw std::runtime_error("option '--config': file '" + file +
                                 "' cannot be opened for reading");
    std::stringstream in;
    in << f.rdbuf();
    for (std::string line; std::getline(in, line);) {
        const std::size_t at = line.find_first_not_of(" \t");
        if (at == std::string::npos || line[at] == '#' || line[at] == ';' || line[at] == '[')
            continue;
        std::string key = line.substr(at, line.find('=') - at);
        key.erase(key.find_last_not_of(" \t\r") + 1);
        refuse_percent_name(key, "config file '" + file + "': ");
    }
    in.clear();
    in.seekg(0);
    try {
        const po::parsed_options parsed = po::parse_config_file(in, all, false);
        // po::store keeps values already stored: a 'config' key in the file would be dropped
        // silently behind the command line's, so it is looked for before storing.
        for (const auto& opt : parsed.options)
            if (opt.string_key == "config")
                throw std::runtime_error("config file '" + file +
                                         "': 'config' cannot be nested (one config file per run)");
        po::store(parsed, vm);
        std::vector<std::pair<std::string, std::string>> given;
        for (const auto& opt : parsed.options)
            for (const std::string& v : opt.value) given.emplace_back(opt.string_key, v);
        return given;
    } catch (const po::error& e) {
        throw std::runtime_error("config file '" + file + "': " + e.what());
    }
}

void set_or_throw(core::ParamRegistry& reg, const std::string& name, const std::string& value) {
    const std::string err = reg.set(name, value);
    if (!err.empty()) throw std::runtime_error(err);
}

}  // namespace

Arguments::Action Arguments::parse(int argc, const char* const argv[]) {
    Impl& m = *m_impl;
    po::options_description all;
    for (const auto* e : m.run_reg.entries()) add_entry(all, *e);
    for (const auto* e : registry.entries()) add_entry(all, *e, false);
    po::variables_map vm;
    // -v, -vv, -vvv: SystemC report verbosity medium, high, full.
    std::vector<std::string> words(argv, argv + argc);
    run.command_line = words;
    run.started = utc_timestamp();
    for (auto& w : words) {
        if (w == "-v") w = "--verbosity=medium";
        if (w == "-vv") w = "--verbosity=high";
        if (w == "-vvv") w = "--verbosity=full";
    }
    std::vector<const char*> args;
    for (const auto& w : words) args.push_back(w.c_str());
    store_command_line(int(args.size()), args.data(), all, vm);
    if (vm.count("config")) {
        const std::string file = vm["config"].as<std::string>();
        // Every value of the file is checked, also one the command line overrides: a bad value
        // in a config file does not wait for the day the command line stops covering it.
        Arguments scratch;
        for (const auto& [name, value] : store_config_file(file, all, vm)) {
            core::ParamRegistry& reg =
                scratch.m_impl->run_reg.find(name) ? scratch.m_impl->run_reg : scratch.registry;
            const std::string err = reg.set(name, value);
            if (!err.empty()) throw std::runtime_error("config file '" + file + "': " + err);
        }
    }
    if (vm.count("help")) {
        set_or_throw(m.run_reg, "help", vm["help"].as<std::string>());
        if (m.help) return Action::Help;
    }
    if (vm.count("version")) {
        set_or_throw(m.run_reg, "version", vm["version"].as<std::string>());
        if (m.version) return Action::Version;
    }
    apply(vm);
    if (run.dump_regmap || run.dump_params || run.dump_tech) return Action::Exit;
    return Action::Run;
}

void Arguments::apply(const po::variables_map& vm) {
    Impl& m = *m_impl;
    // Run options; `given` lists the ones that describe the run (for --dump-config and checks).
    static const std::set<std::string> not_the_run = {
        "config",      "dump-config", "stats",      "output",    "vcd",         "trace-tlm",
        "trace-stl",   "per-query",   "vcd-window", "vcd-heads", "dump-regmap", "help",
        "dump-params", "dump-tech",   "version",    "dry-run",   "quiet"};
    for (const auto* e : m.run_reg.entries()) {
        if (!vm.count(e->name)) continue;
        set_or_throw(m.run_reg, e->name, vm[e->name].as<std::string>());
        if (!not_the_run.count(e->name)) run.given.push_back(e->name);
    }
    // A workload preset fills the workload options not given explicitly.
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
    // Model parameters: the memory preset first, then every explicit value over it.
    if (vm.count("dram.preset")) {
        const std::string p = vm["dram.preset"].as<std::string>();
        set_or_throw(registry, "dram.preset", p);
        MemoryConfig::apply_preset(p, platform.dram);
    }
    // The technology tables from --tech (in the order given), under every explicit tech.* value.
    if (!run.tech_file.empty()) {
        // Accelergy's idle energy is per cycle: the clock the run will have.
        const double clock_ns = vm.count("sprint.clock_ns")
                                    ? std::stod(vm["sprint.clock_ns"].as<std::string>())
                                    : platform.ip.clock_ns;
        std::stringstream list(run.tech_file);
        for (std::string file; std::getline(list, file, ',');) {
            try {
                if (!readable(file).empty()) throw std::runtime_error(readable(file));
                if (tech_file_is_json(file)) {
                    std::ifstream in(file);
                    platform.tech.apply(core::TechTable::from_json(nlohmann::json::parse(in)));
                } else {
                    std::vector<std::string> ignored;
                    platform.tech.apply(
                        tech_from_accelergy(file, platform.tech, clock_ns, ignored));
                    for (const std::string& i : ignored)
                        std::cerr << "sprint-sim: --tech " << file << ": ignored " << i << "\n";
                }
            } catch (const std::exception& e) {
                throw std::runtime_error("option '--tech': file '" + file + "': " + e.what());
            }
        }
    }
    // The IP size preset next, under every explicit parameter.
    if (m.preset != "none") IpConfig::apply_size_preset(m.preset, platform.ip);
    for (const auto* e : registry.entries())
        if (vm.count(e->name) && e->name != "dram.preset")
            set_or_throw(registry, e->name, vm[e->name].as<std::string>());
    const std::string perr = platform.validate();
    if (!perr.empty()) throw std::runtime_error(perr);

    core::parse(m.mode, run.job.mode);
    core::parse(m.softmax, run.job.softmax);
    core::parse(m.output_format, run.job.output);
    core::parse(m.empty_row, run.job.empty_row);
    run.job.causal = m.causal;
    sprint::parse(run.timing, platform.ip.timing);
    platform.ip.check_protocol = run.check_protocol;
    run.thresholds =
        m.threshold_text.empty() ? std::vector<double>{} : parse_list(m.threshold_text);
    const bool files = !run.q_file.empty() || !run.k_file.empty() || !run.v_file.empty();
    if (files && (run.q_file.empty() || run.k_file.empty() || run.v_file.empty()))
        throw std::runtime_error("options '--q', '--k' and '--v' must be given together");
    if (run.dry_run &&
        (!run.stats_file.empty() || !run.output_file.empty() || !run.vcd_file.empty() ||
         !run.trace_tlm_file.empty() || !run.trace_stl_file.empty() || !run.per_query_file.empty()))
        throw std::runtime_error(
            "option '--dry-run' simulates nothing: '--stats', '--output', '--vcd', '--per-query' "
            "and the traces need a run (a dry run writes only --dump-config)");
    if (!m.vcd_window.empty()) parse_vcd_window(m.vcd_window, run.vcd_from_ps, run.vcd_to_ps);
    if (!m.vcd_heads.empty()) parse_head_set(m.vcd_heads, run.vcd_heads);
    if ((!m.vcd_window.empty() || !m.vcd_heads.empty()) && run.vcd_file.empty())
        throw std::runtime_error(
            "options '--vcd-window' and '--vcd-heads' bound the --vcd file: give '--vcd FILE'");
    if (run.calibrate_q_file.empty() != run.calibrate_k_file.empty())
        throw std::runtime_error(
            "options '--calibrate-q' and '--calibrate-k' must be given together");
}

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
    const Impl& m = *m_impl;
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
            if ((n == "q" || n == "k" || n == "v" || n == "threshold" || n == "calibrate-q" ||
                 n == "tech" || n == "calibrate-k") &&
                v.empty())
                continue;
            os << n << " = " << v << "\n";
        }
    }
    // Memory timing equal to the preset's is written as a comment, so a changed preset (in the
    // file or on the command line) still brings its own timing when the file is read back.
    MemoryConfig preset;
    MemoryConfig::apply_preset(platform.dram.preset, preset);
    const std::map<std::string, bool> from_preset = {
        {"dram.latency_ns", platform.dram.latency_ns == preset.latency_ns},
        {"dram.write_latency_ns", platform.dram.write_latency_ns == preset.write_latency_ns},
        {"dram.bandwidth_gbps", platform.dram.bandwidth_gbps == preset.bandwidth_gbps},
        {"dram.burst_bytes", platform.dram.burst_bytes == preset.burst_bytes}};
    os << "\n"
       << registry.dump_ini([&](const core::ParamRegistry::Entry& e) {
              auto it = from_preset.find(e.name);
              return it != from_preset.end() && it->second;
          });
    return os.str();
}

}  // namespace sprint::platform

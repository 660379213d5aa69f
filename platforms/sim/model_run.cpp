// sprint-sim --model FILE: every layer of a model file (model_file.h) in one process, on one
// platform. Each layer is a workload of its own (its options over the command line's), checked,
// built and calibrated before anything runs; then the host runs each layer's jobs (the selected
// mode and its baselines) in turn, each layer's tensors placed at the start of memory over the
// previous layer's. Each layer is evaluated as a single run is (references, fidelity, bit-exact
// check) and reported with its summary and warnings; then a row per layer and the model's totals,
// each layer counted `repeat` times, and a verdict line.
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "platforms/sim/model_file.h"
#include "platforms/sim/output_files.h"
#include "platforms/sim/report_internal.h"
#include "platforms/sim/sim_run.h"
#include "platforms/sim/simulator.h"
#include "platforms/sim/version.h"

namespace sprint::platform {

std::string model_option(int argc, const char* const argv[]) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--model" && i + 1 < argc) return argv[i + 1];
        if (a.rfind("--model=", 0) == 0) return a.substr(8);
    }
    return "";
}

namespace {

using Clock = std::chrono::steady_clock;
using report::fmt;

// One layer: its arguments, inputs, jobs and what they gave.
struct Layer {
    const ModelLayer* spec = nullptr;
    Arguments args;
    Inputs in;
    std::vector<JobDesc> plan;
    std::vector<JobRun> runs;
    core::Tensor3 dense;
    Evaluation ev;
    double wall = 0.0;
    bool ran = false;
};

// The options of the command line a layer's arguments keep: all but --model and the outputs,
// which the model run writes itself.
std::vector<std::string> layer_argv(int argc, const char* const argv[], const ModelLayer& l) {
    static const std::vector<std::string> drop = {"model", "stats",      "per-query",
                                                  "vcd",   "vcd-window", "vcd-heads"};
    std::vector<std::string> v{argv[0]};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const std::string name = a.rfind("--", 0) == 0 ? a.substr(2, a.find('=') - 2) : "";
        if (std::find(drop.begin(), drop.end(), name) != drop.end()) {
            if (a.find('=') == std::string::npos) ++i;  // its value is the next word
            continue;
        }
        v.push_back(a);
    }
    for (const auto& [k, val] : l.options) v.push_back("--" + k + "=" + val);
    return v;
}

// What the model run cannot do yet, and what a layer may not set twice.
void check_model_options(const Arguments& base, const ModelFile& m) {
    const RunOptions& o = base.run;
    for (const auto& [opt, set] : {std::pair("output", !o.output_file.empty()),
                                   std::pair("trace-tlm", !o.trace_tlm_file.empty()),
                                   std::pair("trace-stl", !o.trace_stl_file.empty()),
                                   std::pair("dump-config", !o.dump_config_file.empty())})
        if (set)
            throw std::runtime_error(std::string("option '--") + opt +
                                     "' is not available with --model (run one layer's options "
                                     "without --model for it)");
    for (const auto& l : m.layers)
        for (const auto& [k, v] : l.options)
            if (std::find(o.given.begin(), o.given.end(), k) != o.given.end())
                throw std::runtime_error("model file " + m.path + ": layer '" + l.name +
                                         "' sets '" + k +
                                         "', which the command line sets too: set it in one place");
}

// Every layer parsed and checked against the IP and the memory (all that do not fit named
// together), then (`build`) its inputs built and its jobs planned; throws with the reasons.
void prepare_layers(const ModelFile& m, int argc, const char* const argv[],
                    std::vector<std::unique_ptr<Layer>>& layers, bool build = true) {
    std::string misfits;
    uint64_t host_bytes = 0;
    for (const auto& spec : m.layers) {
        auto l = std::make_unique<Layer>();
        l->spec = &spec;
        const std::vector<std::string> words = layer_argv(argc, argv, spec);
        std::vector<const char*> av;
        for (const auto& w : words) av.push_back(w.c_str());
        try {
            l->args.parse(int(av.size()), av.data());
            const Shape sh = workload_shape(l->args.run);
            check_fits(l->args.run, l->args.platform, sh);
            host_bytes += host_bytes_needed(l->args.run, sh);
        } catch (const DoesNotFit& e) {
            misfits += "\n  layer '" + spec.name + "': " + e.what();
        } catch (const std::exception& e) {
            throw std::runtime_error("model file " + m.path + ": layer '" + spec.name +
                                     "': " + e.what());
        }
        layers.push_back(std::move(l));
    }
    if (!misfits.empty()) throw DoesNotFit("layers that do not fit:" + misfits);
    if (host_bytes > machine_bytes())
        throw std::runtime_error("the model's layers need about " +
                                 std::to_string(host_bytes >> 20) +
                                 " MiB of host memory together, "
                                 "more than the " +
                                 std::to_string(machine_bytes() >> 20) + " MiB this machine has");
    for (auto& l : layers) {
        if (!build) break;  // checked only
        l->in = build_inputs(l->args.run, l->args.platform.ip.numerics());
        const RunOptions& o = l->args.run;
        l->plan = plan_jobs(o, {l->in.q.heads, l->in.q.n, l->in.q.d}, l->args.platform.dram_base,
                            nullptr, l->args.platform.ip.xbar.key_bits);
        l->runs.resize(l->plan.size());
        l->dense = core::Tensor3(l->in.q.heads, l->in.q.n, l->in.q.d);
    }
}

// ---- the model's table and totals ---------------------------------------------------------------

struct Totals {
    double cycles = 0, energy_pj = 0, read = 0, written = 0, visible = 0, kept = 0, mass_w = 0,
           err_w = 0;
    double bytes() const { return read + written; }
};

void add(Totals& t, const JobReport& r, double repeat) {
    const core::Fidelity& f = r.fid.overall;
    t.cycles += repeat * double(r.run->result.cycles);
    t.energy_pj += repeat * r.energy.total_pj;
    t.read += repeat * double(r.run->result.mem_read_bytes);
    t.written += repeat * double(r.run->result.mem_write_bytes);
    t.visible += repeat * double(f.visible_pairs);
    t.kept += repeat * double(f.kept_pairs);
    t.mass_w += repeat * f.mass_retained * double(f.visible_pairs);
    t.err_w += repeat * f.relative_l2_error * double(f.visible_pairs);
}

std::string row(int width, const std::string& name, const std::string& repeat,
                const std::string& shape, const Totals& a, const Totals* b, bool accuracy) {
    std::ostringstream s;
    s << "  " << std::left << std::setw(width) << name << std::right << std::setw(7) << repeat
      << std::setw(16) << shape << std::setw(14) << fmt(a.cycles, 0);
    if (b)
        s << std::setw(14) << fmt(b->cycles, 0) << std::setw(9)
          << fmt(b->cycles / std::max(1.0, a.cycles), 2) + "x" << std::setw(11)
          << fmt(a.energy_pj * 1e-6, 1) << std::setw(11) << fmt(b->energy_pj * 1e-6, 1)
          << std::setw(9) << fmt(b->energy_pj / std::max(1e-9, a.energy_pj), 2) + "x"
          << std::setw(12) << fmt(a.bytes() / 1048576.0, 2) << std::setw(10)
          << fmt(b->bytes() / 1048576.0, 2);
    s << std::setw(8) << fmt(a.kept / std::max(1.0, a.visible), 3);
    if (accuracy)
        s << std::setw(8) << fmt(a.mass_w / std::max(1.0, a.visible), 3) << std::setw(9)
          << fmt(a.err_w / std::max(1.0, a.visible), 4);
    return s.str() + "\n";
}

// The table (a row per layer, its figures for one instance; the total counts every repeat) and
// the verdict; the totals into `sel`, `base`.
void print_model_table(std::ostream& out, const ModelFile& m,
                       const std::vector<std::unique_ptr<Layer>>& layers, Totals& sel,
                       Totals& base) {
    const double clock_ns = layers[0]->args.platform.ip.clock_ns;
    const auto& r0 = layers[0]->ev.reports;
    const bool has_base = r0.size() > 1, acc = r0[0].fid.overall.accuracy;
    const std::string sm = core::to_string(r0[0].mode),
                      bm = has_base ? core::to_string(r0[1].mode) : "";
    out << "\nmodel " << m.name << " (" << m.path << "): " << layers.size()
        << " layers, each row one instance; the total counts every repeat\n";
    int width = 16;  // the layer names' column: the longest name and a space
    for (const auto& l : layers) width = std::max(width, int(l->spec->name.size()) + 1);
    out << "  " << std::left << std::setw(width) << "layer" << std::right << std::setw(7)
        << "repeat" << std::setw(16) << "heads x N x d" << std::setw(14) << (sm + " cycles");
    if (has_base)
        out << std::setw(14) << (bm + " cycles") << std::setw(9) << "speed-up" << std::setw(11)
            << "uJ " + sm << std::setw(11) << "uJ " + bm << std::setw(9) << "energy"
            << std::setw(12) << "MiB " + sm << std::setw(10) << "MiB " + bm;
    out << std::setw(8) << "keep" << (acc ? "    mass   error" : "") << "\n";
    uint64_t instances = 0, slower = 0, slower_inst = 0, costlier = 0;
    for (const auto& l : layers) {
        const auto& reps = l->ev.reports;
        Totals a, b;
        add(a, reps[0], 1.0);
        if (has_base) add(b, reps[1], 1.0);
        const double rep = l->spec->repeat;
        add(sel, reps[0], rep);
        if (has_base) add(base, reps[1], rep);
        instances += l->spec->repeat;
        if (has_base && b.cycles < a.cycles) ++slower, slower_inst += l->spec->repeat;
        if (has_base && b.energy_pj < a.energy_pj) ++costlier;
        const std::string shape = std::to_string(l->in.q.heads) + "x" + std::to_string(l->in.q.n) +
                                  "x" + std::to_string(l->in.q.d);
        out << row(width, l->spec->name, std::to_string(l->spec->repeat), shape, a,
                   has_base ? &b : nullptr, acc);
    }
    out << row(width, "total", std::to_string(instances), "", sel, has_base ? &base : nullptr, acc);
    if (!has_base) return;
    out << "  verdict: " << sm << " is " << (slower ? "slower" : "faster") << " than " << bm
        << " on " << (slower ? slower : layers.size()) << " of " << layers.size() << " layers ("
        << (slower ? slower_inst : instances) << " of " << instances
        << " instances) and uses more energy on " << costlier << "; over the model " << sm << " vs "
        << bm << ": " << fmt(sel.cycles * clock_ns * 1e-3, 1) << " against "
        << fmt(base.cycles * clock_ns * 1e-3, 1) << " us, "
        << report::speed_words(base.cycles / std::max(1.0, sel.cycles)) << ", energy "
        << report::ratio(base.energy_pj / std::max(1e-9, sel.energy_pj), "lower", "higher")
        << ", keeping " << fmt(100.0 * sel.kept / std::max(1.0, sel.visible), 1) << "% of the keys";
    if (acc)
        out << " and " << fmt(sel.mass_w / std::max(1.0, sel.visible), 3) << " of the softmax mass";
    out << " (pair-weighted)";
    std::size_t warned = 0;
    for (const auto& l : layers) warned += !l->ev.warnings.empty();
    out << "; the summaries above warn on " << warned << " of " << layers.size() << " layers\n";
}

// The model's totals of one mode, each figure an entry {value, unit, description} as in the
// layers' documents.
nlohmann::json totals_json(const Totals& t, double clock_ns) {
    auto e = [](double v, const char* unit, const char* what) {
        return nlohmann::json{{"value", v}, {"unit", unit}, {"description", what}};
    };
    const double vis = std::max(1.0, t.visible);
    return {{"cycles", e(t.cycles, "cycles", "every layer's job, times its repeats")},
            {"time_us", e(t.cycles * clock_ns * 1e-3, "us", "the cycles at the IP's clock")},
            {"energy_uj", e(t.energy_pj * 1e-6, "uJ", "every layer's energy, times its repeats")},
            {"mem_read_bytes", e(t.read, "B", "main-memory bytes read, times the repeats")},
            {"mem_write_bytes", e(t.written, "B", "main-memory bytes written, times the repeats")},
            {"memory_bytes",
             e(t.bytes(), "B", "main-memory bytes read and written, times the repeats")},
            {"visible_pairs", e(t.visible, "pairs", "(query, key) pairs after masks and padding")},
            {"kept_pairs", e(t.kept, "pairs", "pairs kept")},
            {"keep_fraction", e(t.kept / vis, "fraction", "kept / visible pairs")},
            {"mass_retained",
             e(t.mass_w / vis, "share", "the layers' softmax mass retained, pair-weighted")},
            {"relative_l2_error",
             e(t.err_w / vis, "", "the layers' output error vs dense float, pair-weighted")}};
}

// A model run's state and its three steps.
class ModelRun {
  public:
    ModelRun(std::ostream& out, std::ostream& err) : m_out(out), m_err(err) {}
    // Options, model file and every layer checked and built: nothing to go on, else the exit
    // status (a dry run, or bad input).
    std::optional<int> prepare(const std::string& file, int argc, const char* const argv[]);
    // Every layer's jobs on one platform: false (with the error on err) when one did not complete.
    bool simulate();
    // Each layer's summary, the model's table, the checks and the --stats file: the exit status.
    int report();

  private:
    void write_stats(const Totals& sel, const Totals& base, const nlohmann::json& layer_docs);

    std::ostream &m_out, &m_err;
    Clock::time_point m_start = Clock::now(), m_sim_start;
    Arguments m_base;
    ModelFile m_model;
    OutputFiles m_outputs;
    std::vector<std::unique_ptr<Layer>> m_layers;
    std::optional<FidelityWorker> m_fidelity;
    std::unique_ptr<StandalonePlatform> m_platform;
    double m_wall = 0.0, m_reference_seconds = 0.0;
};

std::optional<int> ModelRun::prepare(const std::string& file, int argc, const char* const argv[]) {
    try {
        if (m_base.parse(argc, argv) != Arguments::Action::Run)
            throw std::runtime_error(
                "option '--model' runs a model: --help, --version and the "
                "tables go without it");
        m_model = read_model_file(file);
        check_model_options(m_base, m_model);
        m_outputs.input("model", file);
        for (const auto& l : m_model.layers)
            for (const auto& [k, v] : l.options)
                if (model_file_option(k)) m_outputs.input(k, v);
        m_outputs.claim("stats", m_base.run.stats_file);
        m_outputs.claim("per-query", m_base.run.per_query_file);
        m_outputs.claim("vcd", m_base.run.vcd_file);
        if (is_fst(m_base.run.vcd_file))
            throw std::runtime_error(
                "option '--vcd': FST is not available with --model yet "
                "(write a .vcd and convert it with vcd2fst)");
        prepare_layers(m_model, argc, argv, m_layers);
    } catch (const std::exception& e) {
        m_err << "sprint-sim: error: " << e.what() << "\n";
        return kExitBadInput;
    }
    if (m_base.run.dry_run) {
        m_out << "sprint-sim: dry run: model " << m_model.name << ", " << m_layers.size()
              << " layers checked against the IP and the memory; nothing simulated\n";
        return kExitOk;
    }
    return std::nullopt;
}

bool ModelRun::simulate() {
    set_verbosity(m_base.run.verbosity);
    for (auto& l : m_layers)
        start_references(l->args.run, l->in, l->args.platform.ip, l->plan, l->runs, m_fidelity);
    std::size_t layer = 0, current = 0;
    std::string script_error;
    const bool per_query = m_outputs.claimed("per-query");
    const bool progress = !m_base.run.quiet && isatty(STDERR_FILENO);
    m_platform = std::make_unique<StandalonePlatform>(m_base.platform, [&](Host& host) {
        try {
            for (layer = 0; layer < m_layers.size(); ++layer) {
                Layer& l = *m_layers[layer];
                if (progress)  // which layer runs, on a terminal (not with --quiet)
                    m_err << "\rsprint-sim: layer " << layer + 1 << " of " << m_layers.size()
                          << " (" << l.spec->name << ")\033[K" << std::flush;
                const auto t0 = Clock::now();
                run_jobs(host, *m_platform, l.in, l.plan, l.runs, current,
                         l.args.platform.dram_base, l.args.platform, &l.dense, l.args.run.fidelity,
                         per_query);
                l.wall = std::chrono::duration<double>(Clock::now() - t0).count();
                l.ran = true;
                if (!std::all_of(l.runs.begin(), l.runs.end(),
                                 [](const JobRun& r) { return r.result.ok(); }))
                    break;
            }
        } catch (const std::exception& e) {
            script_error = e.what();
        }
    });
    m_platform->sprint.set_kept_observer(
        [&](uint32_t h, uint32_t i, const std::vector<uint32_t>& kept) {
            m_fidelity->push(m_layers[layer]->runs[current].fidelity.get(), h, i, kept);
        });
    if (m_outputs.claimed("vcd")) open_vcd(*m_platform, m_outputs, m_base.run);
    m_sim_start = Clock::now();
    sc_core::sc_start();
    m_wall = std::chrono::duration<double>(Clock::now() - m_sim_start).count();
    if (progress) m_err << "\r\033[K" << std::flush;  // the line erased
    try {
        m_reference_seconds = m_fidelity->finish();
        if (!script_error.empty()) throw std::runtime_error("host: " + script_error);
    } catch (const std::exception& e) {
        m_err << "sprint-sim: error: " << e.what() << "\n";
        return false;
    }
    for (auto& l : m_layers)
        if (!l->ran || !jobs_ok(l->runs, m_err)) {
            m_err << "sprint-sim: error: model " << m_model.name << ": layer '" << l->spec->name
                  << "' did not complete\n";
            return false;
        }
    return true;
}

int ModelRun::report() {
    bool exact = true;
    nlohmann::json layer_docs = nlohmann::json::array();
    const std::vector<std::string> violations = m_platform->protocol_violations();
    for (auto& l : m_layers) {
        l->ev = evaluate(l->args.platform, l->in, l->dense, l->runs);
        l->ev.reference_seconds = m_reference_seconds;
        exact &= l->ev.all_exact;
        m_out << "== layer " << l->spec->name << " (x" << l->spec->repeat << ") ==\n";
        print_summary(m_out, l->args.run, l->args.platform, l->in, l->ev, l->wall);
        m_out << "\n";
        if (m_outputs.claimed("stats"))
            layer_docs.push_back(
                {{"name", l->spec->name},
                 {"repeat", l->spec->repeat},
                 {"stats", nlohmann::json::parse(stats_json(l->args, l->in, l->ev, l->wall,
                                                            *m_platform, violations))}});
    }
    Totals sel, base;
    print_model_table(m_out, m_model, m_layers, sel, base);
    m_out << "host time: set-up "
          << fmt(std::chrono::duration<double>(m_sim_start - m_start).count(), 2)
          << " s, simulation of " << m_layers.size() << " layers " << fmt(m_wall, 2) << " s\n";
    if (m_base.run.check_protocol)
        m_out << "protocol checks: " << m_platform->protocol_transactions() << " transactions on "
              << m_platform->protocol_links() << " links, " << violations.size() << " violations\n";
    if (!exact) {
        m_err << "sprint-sim: error: the IP's output differs from the core's bit-exact "
                 "reference\n";
        return kExitJobProblem;
    }
    if (!violations.empty()) {
        m_err << "sprint-sim: error: " << violations.size() << " TLM protocol violations\n";
        return kExitJobProblem;
    }
    try {
        write_stats(sel, base, layer_docs);
    } catch (const std::exception& e) {
        m_err << "sprint-sim: error: " << e.what() << "\n";
        return kExitJobProblem;
    }
    return kExitOk;
}

// --per-query: every layer's rows (a single run's columns) behind a layer column.
std::string model_per_query(const std::vector<std::unique_ptr<Layer>>& layers) {
    std::string out;
    for (std::size_t k = 0; k < layers.size(); ++k) {
        const Layer& l = *layers[k];
        std::string name = l.spec->name;
        if (name.find_first_of(",\"\n") != std::string::npos) {  // quoted, quotes doubled
            std::string q = "\"";
            for (char c : name) q += c == '"' ? std::string("\"\"") : std::string(1, c);
            name = q + "\"";
        }
        std::istringstream rows(per_query_csv(l.args.platform, l.in, l.ev));
        std::string line;
        for (bool header = true; std::getline(rows, line); header = false)
            if (!header)
                out += name + "," + line + "\n";
            else if (k == 0)
                out += "layer," + line + "\n";
    }
    return out;
}

void ModelRun::write_stats(const Totals& sel, const Totals& base,
                           const nlohmann::json& layer_docs) {
    if (m_outputs.claimed("per-query")) m_outputs.write("per-query", model_per_query(m_layers));
    m_platform->close_vcd();
    if (m_outputs.claimed("vcd")) m_outputs.finish_relay("vcd");  // every layer's waveforms
    if (m_outputs.claimed("stats")) {
        const double clk = m_base.platform.ip.clock_ns;
        const auto& r0 = m_layers[0]->ev.reports;
        nlohmann::json totals = nlohmann::json::object();
        totals[core::to_string(r0[0].mode)] = totals_json(sel, clk);
        if (r0.size() > 1) totals[core::to_string(r0[1].mode)] = totals_json(base, clk);
        const nlohmann::json doc = {{"tool", "sprint-sim"},
                                    {"version", tool_version()},
                                    {"git_commit", tool_commit()},
                                    {"model", {{"name", m_model.name}, {"file", m_model.path}}},
                                    {"layers", layer_docs},
                                    {"totals", totals},
                                    {"wall_seconds", m_wall}};
        m_outputs.write("stats", doc.dump(2) + "\n");
    }
    m_outputs.commit();
}

}  // namespace

void check_model(const std::string& file, const std::vector<std::string>& args) {
    std::vector<std::string> words{"sprint-sim"};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<const char*> argv;
    for (const auto& w : words) argv.push_back(w.c_str());
    Arguments base;
    base.parse(int(argv.size()), argv.data());
    const ModelFile model = read_model_file(file);
    check_model_options(base, model);
    std::vector<std::unique_ptr<Layer>> layers;
    prepare_layers(model, int(argv.size()), argv.data(), layers, false);
}

int run_model(const std::string& file, int argc, const char* const argv[], std::ostream& out,
              std::ostream& err) {
    ModelRun run(out, err);
    if (const std::optional<int> done = run.prepare(file, argc, argv)) return *done;
    if (!run.simulate()) return kExitJobProblem;
    return run.report();
}

}  // namespace sprint::platform

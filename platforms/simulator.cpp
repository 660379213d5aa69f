#include "platforms/simulator.h"

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/keep_rule.h"
#include "core/metrics.h"
#include "core/quant.h"
#include "core/reference.h"
#include "core/workload.h"
#include "platforms/cli.h"
#include "platforms/npy_io.h"
#include "platforms/output_files.h"
#include "platforms/standalone_platform.h"
#include "tlm_interfaces/job_check.h"
#include "tlm_interfaces/register_map.h"

namespace sprint::platform {

namespace {

using nlohmann::json;

struct Inputs {
    core::Tensor3 q, k, v;
    core::QuantizedWorkload w;
    std::string source;
};

bool given(const RunOptions& o, const std::string& name) {
    return std::find(o.given.begin(), o.given.end(), name) != o.given.end();
}

// The workload's shape, known before anything is generated, loaded or calibrated: from the
// options, or from the .npy headers (which must agree with each other and with --heads etc.).
struct Shape {
    int heads = 0, n = 0, d = 0;
};

Shape workload_shape(const RunOptions& o) {
    if (o.q_file.empty()) return {o.heads, o.seq_len, o.head_dim};
    const NpyShape q = npy_shape(o.q_file), k = npy_shape(o.k_file), v = npy_shape(o.v_file);
    auto same = [](const NpyShape& a, const NpyShape& b) { return a.heads == b.heads && a.n == b.n && a.d == b.d; };
    if (!same(q, k) || !same(q, v))
        throw std::runtime_error("files '" + o.q_file + "', '" + o.k_file + "', '" + o.v_file + "' must have the same shape");
    const std::pair<const char*, int> dims[] = {{"heads", q.heads}, {"seq-len", q.n}, {"head-dim", q.d}};
    const int want[] = {o.heads, o.seq_len, o.head_dim};
    for (int i = 0; i < 3; ++i)
        if (given(o, dims[i].first) && want[i] != dims[i].second)
            throw std::runtime_error(std::string("option '--") + dims[i].first + "' (" + std::to_string(want[i]) +
                                     ") disagrees with the .npy files (" + std::to_string(dims[i].second) + ")");
    return {q.heads, q.n, q.d};
}

// The jobs of a run as the host places them from `base`: the selected mode, then (with --compare)
// the dense baseline on the same tensors, its output after the first job's buffers. `end_out`
// gets the first address after all of them.
std::vector<JobDesc> plan_jobs(const RunOptions& o, const Shape& sh, uint64_t base, uint64_t* end_out) {
    uint64_t end = 0;
    std::vector<JobDesc> jobs{Host::layout(uint32_t(sh.heads), uint32_t(sh.n), uint32_t(sh.d), o.job, base, &end)};
    if (o.compare && o.job.mode != core::Mode::Dense) {
        jobs.push_back(jobs[0]);
        jobs[1].opt.mode = core::Mode::Dense;
        jobs[1].out = end;
        end = align_up(end + uint64_t(sh.heads) * sh.n * sh.d * core::output_element_bytes(o.job.output), regs::kBaseAlign);
    }
    if (end_out) *end_out = end;
    return jobs;
}

// Everything about the run that can be refused before any work: the options against the shape,
// then every job against the IP's own rule (check_job) and the platform's memory.
void check_fits(const RunOptions& o, const PlatformConfig& c, const Shape& sh) {
    if (o.valid_len > uint32_t(sh.n))
        throw std::runtime_error("option '--valid-len' (" + std::to_string(o.valid_len) +
                                 ") exceeds the sequence length " + std::to_string(sh.n));
    if (!o.thresholds.empty() && o.thresholds.size() != 1 && int(o.thresholds.size()) != sh.heads)
        throw std::runtime_error("option '--threshold' has " + std::to_string(o.thresholds.size()) +
                                 " values; give one, or one per head (" + std::to_string(sh.heads) + ")");
    uint64_t end = 0;
    const IpConfig ip = c.ip_for_platform();
    for (const JobDesc& j : plan_jobs(o, sh, c.dram_base, &end)) {
        std::string why;
        const regs::ErrorCode e = check_job(ip, j, &why);
        if (e == regs::ErrorCode::None) continue;
        if (e == regs::ErrorCode::OutOfRange && end - c.dram_base > c.dram_bytes())
            throw std::runtime_error("the workload needs " + std::to_string(((end - c.dram_base) >> 20) + 1) +
                                     " MiB of memory but dram.size_mb is " + std::to_string(c.dram.size_mb));
        throw std::runtime_error(why);
    }
}

Inputs build_inputs(const RunOptions& o, const core::XbarNumerics& x) {
    Inputs in;
    if (!o.q_file.empty()) {
        in.q = load_tensor_npy(o.q_file);
        in.k = load_tensor_npy(o.k_file);
        in.v = load_tensor_npy(o.v_file);
        in.source = "files " + o.q_file + ", " + o.k_file + ", " + o.v_file;
    } else {
        core::SyntheticSpec s;
        s.heads = o.heads;
        s.n = o.seq_len;
        s.d = o.head_dim;
        s.locality = o.locality;
        s.sharpness = o.sharpness;
        s.seed = o.seed;
        core::Workload w = core::generate_synthetic(s);
        in.q = std::move(w.q);
        in.k = std::move(w.k);
        in.v = std::move(w.v);
        std::ostringstream os;
        os << "synthetic (locality " << o.locality << ", sharpness " << o.sharpness << ", seed " << o.seed << ")";
        in.source = os.str();
    }
    const int H = in.q.heads, n = in.q.n;
    in.w = {core::quantize_per_head(in.q), core::quantize_per_head(in.k), core::quantize_per_head(in.v), {}};
    for (int h = 0; h < H; ++h) {
        core::HeadParams hp;
        hp.s_q = in.w.q.scale[std::size_t(h)];
        hp.s_k = in.w.k.scale[std::size_t(h)];
        hp.s_v = in.w.v.scale[std::size_t(h)];
        hp.valid_len = o.valid_len ? o.valid_len : uint32_t(n);
        in.w.heads.push_back(hp);
        if (!o.thresholds.empty())
            in.w.heads.back().threshold = float(o.thresholds.size() == 1 ? o.thresholds[0] : o.thresholds[std::size_t(h)]);
        else
            in.w.heads.back().threshold = core::calibrate_threshold(in.w, h, o.job.causal, x, o.keep_fraction);
    }
    return in;
}

// Numeric leaves ("value") of `after` minus `before`: a module's counts during one job.
json stats_delta(const json& after, const json& before) {
    if (!after.is_object()) return after;
    json r = json::object();
    for (auto it = after.begin(); it != after.end(); ++it) {
        const json* b = before.is_object() && before.contains(it.key()) ? &before[it.key()] : nullptr;
        if (it.key() == "value" && it->is_number() && b && b->is_number())
            r[it.key()] = it->get<double>() - b->get<double>();
        else
            r[it.key()] = stats_delta(*it, b ? *b : json());
    }
    return r;
}

struct JobRun {
    JobDesc desc;
    JobResult result;
    std::vector<uint8_t> out;
    core::KeepMasks masks;  // as observed from the IP
    std::vector<Controller::HeadRecord> heads;
    json stats_before, stats_after, dram_before, dram_after;
    uint64_t max_in_flight = 0, dram_max_queued = 0;
    json model() const { return stats_delta(stats_after, stats_before); }
    json dram() const { return stats_delta(dram_after, dram_before); }
};

struct JobReport {
    core::Mode mode;
    const JobRun* run;
    bool bit_exact = false;
    core::FidelityReport fid;
    double new_fetch = 0.0, time_us = 0.0;
};

json fidelity_json(const core::Fidelity& f) {
    return {{"visible_pairs", f.visible_pairs},
            {"kept_pairs", f.kept_pairs},
            {"keep_fraction", f.keep_fraction},
            {"false_prune_rate", f.false_prune_rate},
            {"false_keep_rate", f.false_keep_rate},
            {"attention_mass_retained", f.mass_retained},
            {"output_cosine_vs_dense_float", f.cosine_similarity},
            {"output_relative_l2_vs_dense_float", f.relative_l2_error},
            {"ideal_new_fetch_fraction", f.ideal_new_fetch_fraction}};
}

json v(double x, const char* unit, const char* desc) { return {{"value", x}, {"unit", unit}, {"description", desc}}; }

// Peak resident memory of this process so far.
long peak_rss_mib() {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;  // ru_maxrss is in KiB on Linux
}

std::string fmt_int(uint64_t x) {
    std::string s = std::to_string(x);
    for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(std::size_t(i), ",");
    return s;
}

std::string fmt(double x, int prec) {
    std::ostringstream os;
    os << std::fixed << std::setprecision(prec) << x;
    return os.str();
}

// The engines the summary and the stats file report: each with its busy time and, for the
// pipeline stages, its stall time (ns), read from a job's counter deltas.
struct EngineRow {
    std::string label, key;
    std::function<double(const json&, const json&)> busy, stall;
};

double num(const json& j, std::initializer_list<const char*> path) {
    const json* p = &j;
    for (const char* k : path) {
        if (!p->is_object() || !p->contains(k)) return 0.0;
        p = &(*p)[k];
    }
    return p->contains("value") && (*p)["value"].is_number() ? (*p)["value"].get<double>() : 0.0;
}

std::vector<EngineRow> engine_rows() {
    std::vector<EngineRow> rows;
    const std::pair<const char*, const char*> stages[] = {{"stage front (Q, crossbar)", "front"},
                                                          {"stage fetch K", "fetch_k"},
                                                          {"stage fetch V", "fetch_v"},
                                                          {"stage compute (datapath)", "compute"}};
    for (const auto& s : stages) {
        const std::string g = std::string("stage_") + s.second;
        rows.push_back({s.first, s.second,
                        [g](const json& m, const json&) { return num(m, {"controller", g.c_str(), "busy_ns"}); },
                        [g](const json& m, const json&) {
                            return num(m, {"controller", g.c_str(), "starved_ns"}) + num(m, {"controller", g.c_str(), "blocked_ns"});
                        }});
    }
    rows.push_back({"crossbar array", "xbar", [](const json& m, const json&) { return num(m, {"xbar", "busy_ns"}); },
                    [](const json& m, const json&) { return num(m, {"xbar", "queued_ns"}); }});
    rows.push_back({"datapath units", "datapath",
                    [](const json& m, const json&) {
                        return num(m, {"datapath", "qk_busy_ns"}) + num(m, {"datapath", "softmax_busy_ns"}) + num(m, {"datapath", "v_busy_ns"});
                    },
                    [](const json& m, const json&) { return num(m, {"datapath", "queued_ns"}); }});
    rows.push_back({"fetcher", "fetcher", [](const json& m, const json&) { return num(m, {"fetcher", "busy_ns"}); },
                    [](const json& m, const json&) { return num(m, {"fetcher", "mem_request_stall_ns"}); }});
    rows.push_back({"memory data bus", "memory_bus", [](const json&, const json& d) { return num(d, {"busy_ps"}) / 1000.0; },
                    nullptr});
    return rows;
}

json engines_json(const JobRun& r, double clock_ns) {
    json e = json::object();
    const json m = r.model(), d = r.dram();
    for (const auto& row : engine_rows()) {
        e[row.key]["busy_cycles"] = {{"value", row.busy(m, d) / clock_ns}, {"unit", "cycles"}, {"description", "time " + row.label + " was working"}};
        if (row.stall)
            e[row.key]["stall_cycles"] = {{"value", row.stall(m, d) / clock_ns}, {"unit", "cycles"},
                                          {"description", "time " + row.label + " waited: stages for input, output or SRAM room; blocks: requests queued for them (AT); fetcher: memory requests waiting for END_REQ (AT)"}};
    }
    return e;
}

void print_summary(std::ostream& out, const RunOptions& o, const PlatformConfig& c, const Inputs& in,
                   const std::vector<JobReport>& reps, double wall, uint64_t scores) {
    const IpConfig& ip = c.ip;
    out << "sprint-sim: " << in.q.heads << " heads x N=" << in.q.n << " x d=" << in.q.d << ", " << in.source;
    if (o.thresholds.empty()) out << ", keep target " << o.keep_fraction;
    out << (o.job.causal ? ", causal" : "") << "\n";
    out << "IP (" << o.timing << "): " << 1.0 / ip.clock_ns << " GHz, crossbar " << ip.xbar.tiles << " tiles of "
        << ip.xbar.tile_rows << "x" << ip.xbar.tile_cols << " (" << ip.xbar.key_bits << "-bit keys, "
        << ip.xbar.query_bits << "-bit queries), SRAM " << ip.sram.k_bytes << " + " << ip.sram.v_bytes
        << " B, softmax " << core::to_string(o.job.softmax) << "\n";
    out << "memory: " << c.dram.preset << ", " << c.dram.bandwidth_gbps << " GB/s, " << c.dram.latency_ns << " ns\n\n";
    std::vector<std::vector<std::string>> rows = {{""}};
    for (const auto& r : reps) rows[0].push_back(core::to_string(r.mode));
    auto row = [&](const std::string& name, auto f) {
        std::vector<std::string> line{name};
        for (const auto& r : reps) line.push_back(f(r));
        rows.push_back(line);
    };
    row("cycles", [](const JobReport& r) { return fmt_int(r.run->result.cycles); });
    row("time (us)", [](const JobReport& r) { return fmt(r.time_us, 1); });
    row("memory read (MiB)", [](const JobReport& r) { return fmt(double(r.run->result.mem_read_bytes) / 1048576.0, 2); });
    row("memory written (MiB)", [](const JobReport& r) { return fmt(double(r.run->result.mem_write_bytes) / 1048576.0, 2); });
    row("keep fraction", [](const JobReport& r) { return fmt(r.fid.overall.keep_fraction, 4); });
    row("new-fetch fraction", [](const JobReport& r) { return fmt(r.new_fetch, 4); });
    row("attention mass retained", [](const JobReport& r) { return fmt(r.fid.overall.mass_retained, 4); });
    row("output rel. error vs dense float", [](const JobReport& r) { return fmt(r.fid.overall.relative_l2_error, 4); });
    row("output cosine vs dense float", [](const JobReport& r) { return fmt(r.fid.overall.cosine_similarity, 5); });
    row("memory bandwidth (GB/s)", [](const JobReport& r) {
        return fmt(double(r.run->result.mem_read_bytes + r.run->result.mem_write_bytes) / std::max(1e-9, r.time_us * 1e3), 2);
    });
    row("max memory requests in flight", [](const JobReport& r) { return fmt_int(r.run->max_in_flight); });
    row("bit-exact vs core reference", [](const JobReport& r) { return std::string(r.bit_exact ? "yes" : "NO"); });
    std::size_t w0 = 0, w1 = 12;
    for (const auto& l : rows) {
        w0 = std::max(w0, l[0].size());
        for (std::size_t i = 1; i < l.size(); ++i) w1 = std::max(w1, l[i].size() + 2);
    }
    for (const auto& l : rows) {
        out << "  " << std::left << std::setw(int(w0)) << l[0];
        for (std::size_t i = 1; i < l.size(); ++i) out << std::right << std::setw(int(w1)) << l[i];
        out << "\n";
    }
    // Engines: busy and stalled cycles of the pipeline stages, busy cycles of the blocks.
    out << "\n  engines: cycles busy / stalled (stages: waiting for input, output or SRAM room;\n"
           "  blocks: requests queued for them; fetcher: memory requests awaiting END_REQ)\n";
    const double clk = c.ip.clock_ns;
    std::vector<std::vector<std::string>> erows;
    std::size_t ew = w1;
    for (const auto& e : engine_rows()) {
        std::vector<std::string> line{e.label};
        for (const auto& r : reps) {
            const json m = r.run->model(), d = r.run->dram();
            const double busy = e.busy(m, d) / clk, stall = e.stall ? e.stall(m, d) / clk : -1.0;
            line.push_back(fmt_int(uint64_t(std::llround(busy))) +
                           (stall >= 0 ? " / " + fmt_int(uint64_t(std::llround(stall))) : std::string(" / -")));
            ew = std::max(ew, line.back().size() + 2);
        }
        erows.push_back(line);
    }
    for (const auto& l : erows) {
        out << "  " << std::left << std::setw(int(w0)) << l[0];
        for (std::size_t i = 1; i < l.size(); ++i) out << std::right << std::setw(int(ew)) << l[i];
        out << "\n";
    }
    if (reps.size() == 2) {
        const double su = double(reps[1].run->result.cycles) / double(std::max<uint64_t>(1, reps[0].run->result.cycles));
        const double tr = 1.0 - double(reps[0].run->result.mem_read_bytes + reps[0].run->result.mem_write_bytes) /
                                    double(std::max<uint64_t>(1, reps[1].run->result.mem_read_bytes + reps[1].run->result.mem_write_bytes));
        out << "\n  " << core::to_string(reps[0].mode) << " vs dense: speed-up " << fmt(su, 2) << "x, memory traffic "
            << fmt(100.0 * std::fabs(tr), 1) << (tr >= 0 ? "% lower\n" : "% higher\n");
    }
    out << "\nwall time " << fmt(wall, 2) << " s (simulation), " << fmt(double(scores) / wall / 1e6, 2)
        << " M key scores per second, peak memory " << peak_rss_mib() << " MiB\n";
}

}  // namespace

int run_simulator(int argc, const char* const argv[], std::ostream& out, std::ostream& err) {
    Arguments args;
    Arguments::Action action;
    Inputs in;
    // Declared before the platform, so the VCD writer has closed its file when this is destroyed.
    OutputFiles outputs;
    const RunOptions& o = args.run;
    try {
        action = args.parse(argc, argv);
        if (action == Arguments::Action::Help) {
            args.print_help(out);
            return kExitOk;
        }
        if (o.dump_regmap) out << regs::regmap_markdown(capability_registers(args.platform.ip_for_platform()));
        if (o.dump_params) out << args.params_markdown();
        if (action == Arguments::Action::Exit) return kExitOk;
        for (const auto& [file, option] : {std::pair(o.stats_file, "stats"), std::pair(o.output_file, "output"),
                                           std::pair(o.vcd_file, "vcd"), std::pair(o.dump_config_file, "dump-config")})
            outputs.claim(option, file);
        check_fits(o, args.platform, workload_shape(o));
        in = build_inputs(o, args.platform.ip.numerics());
        if (outputs.claimed("dump-config")) outputs.write("dump-config", args.config_text());
    } catch (const std::exception& e) {
        err << "sprint-sim: error: " << e.what() << "\n";
        if (std::string(e.what()).find("option") != std::string::npos) err << "(sprint-sim --help lists every option)\n";
        return kExitBadInput;
    }

    const std::map<std::string, int> verb = {{"none", sc_core::SC_NONE}, {"low", sc_core::SC_LOW}, {"medium", sc_core::SC_MEDIUM},
                                             {"high", sc_core::SC_HIGH}, {"full", sc_core::SC_FULL}, {"debug", sc_core::SC_DEBUG}};
    sc_core::sc_report_handler::set_verbosity_level(verb.at(o.verbosity));
    if (o.verbosity == "none" || o.verbosity == "low")
        sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);

    // Jobs: the selected mode, then the dense baseline on the same tensors.
    const std::vector<JobDesc> plan = plan_jobs(o, {in.q.heads, in.q.n, in.q.d}, args.platform.dram_base, nullptr);
    std::vector<JobRun> runs(plan.size());
    std::size_t current = 0;
    StandalonePlatform* plat = nullptr;
    std::string script_error;
    StandalonePlatform p(args.platform, [&](Host& host) {
        try {
            host.place(in.w, o.job, args.platform.dram_base);  // the tensors and head table of plan[0]
            for (std::size_t i = 0; i < plan.size(); ++i) {
                runs[i].desc = plan[i];
                const std::vector<uint8_t> zeros(std::size_t(in.q.heads) * in.q.n * in.q.d * core::output_element_bytes(o.job.output), 0);
                if (i) host.mem_write(plan[i].out, zeros.data(), zeros.size());  // its own output buffer
            }
            for (current = 0; current < runs.size(); ++current) {
                JobRun& r = runs[current];
                r.masks.reset(in.q.heads, in.q.n);
                plat->sprint.reset_peaks();
                plat->dram.reset_peaks();
                r.stats_before = plat->sprint.stats().to_json();
                r.dram_before = plat->dram.stats().to_json();
                r.result = host.run_job(r.desc, sc_core::sc_time(1000, sc_core::SC_SEC));
                r.stats_after = plat->sprint.stats().to_json();
                r.dram_after = plat->dram.stats().to_json();
                r.max_in_flight = plat->sprint.stats().count("fetcher.max_in_flight");
                r.dram_max_queued = plat->dram.counters().max_queued;
                r.heads = plat->sprint.head_log();
                r.out = host.read_output(r.desc);
                if (!r.result.ok()) break;
            }
        } catch (const std::exception& e) {
            script_error = e.what();
        }
    });
    plat = &p;
    p.sprint.set_kept_observer([&](uint32_t h, uint32_t i, const std::vector<uint32_t>& kept) {
        uint8_t* row = runs[current].masks.row(int(h), int(i));
        for (uint32_t t : kept) row[t] = 1;
    });
    if (outputs.claimed("vcd")) p.open_vcd(outputs.relay("vcd", ".vcd"));

    const auto t0 = std::chrono::steady_clock::now();
    sc_core::sc_start();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    if (!script_error.empty()) {
        err << "sprint-sim: error: host: " << script_error << "\n";
        return kExitJobProblem;
    }
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const JobResult& r = runs[i].result;
        if (!r.ok()) {
            err << "sprint-sim: error: job " << i + 1 << " (" << core::to_string(runs[i].desc.opt.mode) << ") "
                << (r.completed ? std::string("failed: ") + regs::to_string(r.error) : "did not complete (no interrupt)") << "\n";
            return kExitJobProblem;
        }
    }

    // Checks and fidelity against the golden references.
    const core::XbarNumerics x = args.platform.ip.numerics();
    std::vector<uint32_t> valid;
    for (const auto& hp : in.w.heads) valid.push_back(hp.valid_len);
    const core::Tensor3 dense = core::dense_float_attention(in.q, in.k, in.v, valid, o.job.causal);
    core::JobOptions exact_opt = o.job;
    exact_opt.mode = core::Mode::OnchipPrune;
    const core::KeepMasks exact = core::reference_masks(in.w, exact_opt, x);
    std::vector<JobReport> reps;
    uint64_t scores = 0;
    bool all_exact = true;
    for (const JobRun& r : runs) {
        JobReport rep;
        rep.mode = r.desc.opt.mode;
        rep.run = &r;
        rep.bit_exact = r.out == core::reference_output(in.w, r.desc.opt, x);
        all_exact &= rep.bit_exact;
        const core::Tensor3 dec = core::decode_output(r.out, r.desc.opt.output, in.q.heads, in.q.n, in.q.d, in.w.heads);
        rep.fid = core::compute_fidelity(in.q, in.k, r.masks, exact, dec, dense, valid, o.job.causal);
        rep.new_fetch = double(r.result.k_rows_fetched) / double(std::max<uint64_t>(1, rep.fid.overall.visible_pairs));
        rep.time_us = double(r.result.cycles) * args.platform.ip.clock_ns / 1000.0;
        scores += rep.fid.overall.visible_pairs;
        reps.push_back(rep);
    }
    print_summary(out, o, args.platform, in, reps, wall, scores);
    const std::vector<std::string> violations = p.protocol_violations();
    if (o.check_protocol) {
        out << "protocol checks: " << p.protocol_transactions() << " transactions on " << p.protocol_links()
            << " links, " << violations.size() << " violations\n";
        for (std::size_t i = 0; i < violations.size() && i < 20; ++i) out << "  " << violations[i] << "\n";
    }

    // A run that failed leaves no file behind: `outputs` removes the temporaries on every return
    // before commit().
    if (!all_exact) {
        err << "sprint-sim: error: the IP's output differs from the core's bit-exact reference\n";
        return kExitJobProblem;
    }
    if (!violations.empty()) {
        err << "sprint-sim: error: " << violations.size() << " TLM protocol violations (listed above)\n";
        return kExitJobProblem;
    }
    try {
        p.close_vcd();
        if (outputs.claimed("vcd")) outputs.finish_relay("vcd");
        if (outputs.claimed("output"))
            outputs.write("output", npy_bytes(core::decode_output(runs[0].out, o.job.output, in.q.heads, in.q.n, in.q.d, in.w.heads)));
        if (outputs.claimed("stats")) {
            json j;
            j["tool"] = "sprint-sim";
            j["workload"] = {{"source", in.source}, {"heads", in.q.heads}, {"seq_len", in.q.n}, {"head_dim", in.q.d},
                             {"causal", o.job.causal}, {"thresholds", [&] { json t = json::array(); for (const auto& hp : in.w.heads) t.push_back(hp.threshold); return t; }()}};
            json cfg = json::object();
            for (const auto* e : args.registry.entries()) cfg[e->name] = e->get();
            j["config"] = cfg;
            j["timing"] = o.timing;
            j["wall_seconds"] = v(wall, "s", "host time spent in sc_start");
            j["peak_memory"] = v(double(peak_rss_mib()), "MiB", "peak resident memory of the process");
            j["key_scores_per_second"] = v(double(scores) / wall, "1/s", "visible (query, key) pairs simulated per wall second");
            j["jobs"] = json::array();
            for (const auto& rep : reps) {
                const JobRun& r = *rep.run;
                json jj;
                jj["mode"] = core::to_string(rep.mode);
                jj["cycles"] = v(double(r.result.cycles), "cycles", "START to completion (CYCLES register)");
                jj["time"] = v(rep.time_us, "us", "cycles x clock period");
                jj["mem_read_bytes"] = v(double(r.result.mem_read_bytes), "B", "MEM_RD_BYTES register");
                jj["mem_write_bytes"] = v(double(r.result.mem_write_bytes), "B", "MEM_WR_BYTES register");
                jj["kept_keys"] = v(double(r.result.kept_keys), "pairs", "KEPT_KEYS register");
                jj["k_rows_fetched"] = v(double(r.result.k_rows_fetched), "rows", "K_ROWS_FETCHED register");
                jj["v_rows_fetched"] = v(double(r.result.v_rows_fetched), "rows", "V_ROWS_FETCHED register");
                jj["new_fetch_fraction"] = v(rep.new_fetch, "fraction", "K rows fetched / visible pairs");
                jj["achieved_bandwidth"] = v(double(r.result.mem_read_bytes + r.result.mem_write_bytes) / std::max(1e-9, rep.time_us * 1e3),
                                             "GB/s", "bytes moved on mem / job time");
                jj["bit_exact_vs_core"] = rep.bit_exact;
                jj["fidelity"] = {{"overall", fidelity_json(rep.fid.overall)}, {"per_head", json::array()}};
                for (const auto& f : rep.fid.per_head) jj["fidelity"]["per_head"].push_back(fidelity_json(f));
                jj["per_head"] = json::array();
                for (const auto& h : r.heads)
                    jj["per_head"].push_back({{"head", h.head}, {"cycles", h.cycles}, {"queries", h.queries}, {"visible_pairs", h.visible},
                                              {"kept_pairs", h.kept}, {"k_rows_fetched", h.k_fetched}, {"v_rows_fetched", h.v_fetched}});
                jj["max_outstanding_requests"] = v(double(r.max_in_flight), "requests", "most memory requests of the IP in flight at once");
                jj["engines"] = engines_json(r, args.platform.ip.clock_ns);
                jj["model"] = r.model();
                jj["memory"] = r.dram();
                j["jobs"].push_back(jj);
            }
            if (o.check_protocol)
                j["protocol"] = {{"links", p.protocol_links()}, {"transactions", p.protocol_transactions()},
                                 {"violations", violations}};
            j["model_totals"] = {{"sprint", p.sprint.stats().to_json()}, {"dram", p.dram.stats().to_json()}, {"bus", p.bus.stats().to_json()}};
            std::ostringstream text;
            text << std::setw(2) << j << "\n";
            outputs.write("stats", text.str());
        }
        outputs.commit();
    } catch (const std::exception& e) {
        err << "sprint-sim: error: " << e.what() << "\n";
        return kExitJobProblem;
    }
    return kExitOk;
}

}  // namespace sprint::platform

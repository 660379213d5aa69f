#include "platforms/sim/simulator.h"

#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "platforms/sim/npy_io.h"
#include "platforms/sim/output_files.h"
#include "platforms/sim/sim_run.h"
#include "platforms/sim/simulation.h"
#include "platforms/sim/transaction_trace.h"
#include "platforms/sim/version.h"
#include "tlm_interfaces/job_check.h"

namespace sprint::platform {

namespace {

bool vcd2fst_found() {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "";
    std::size_t a = 0;
    while (a <= dirs.size()) {
        const std::size_t b = std::min(dirs.find(':', a), dirs.size());
        const std::string dir = b > a ? dirs.substr(a, b - a) : ".";
        if (::access((dir + "/vcd2fst").c_str(), X_OK) == 0) return true;
        a = b + 1;
    }
    return false;
}

// vcd2fst VCD FST, its messages on our stderr; throws if it fails.
void run_vcd2fst(const std::string& vcd, const std::string& fst) {
    const char* argv[] = {"vcd2fst", vcd.c_str(), fst.c_str(), nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    const int rc =
        posix_spawnp(&pid, "vcd2fst", &fa, nullptr, const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        throw std::runtime_error("option '--vcd': vcd2fst could not be started (" +
                                 std::string(std::strerror(rc)) + ")");
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("option '--vcd': vcd2fst failed to convert the waveforms to FST");
}

// Options, the output files claimed and the inputs built; false (exit status 2) on bad input.
bool prepare(int argc, const char* const argv[], std::ostream& out, std::ostream& err,
             Arguments& args, OutputFiles& outputs, Inputs& in, int& exit_code) {
    const RunOptions& o = args.run;
    try {
        const Arguments::Action action = args.parse(argc, argv);
        exit_code = kExitOk;
        if (action == Arguments::Action::Help) {
            args.print_help(out);
            return false;
        }
        if (action == Arguments::Action::Version) {
            out << "sprint-sim " << tool_version() << " (git " << tool_commit() << ")\n";
            return false;
        }
        if (o.dump_regmap)
            out << regs::regmap_markdown(capability_registers(args.platform.ip_for_platform()));
        if (o.dump_params) out << args.params_markdown();
        if (o.dump_tech) out << args.platform.tech.to_json().dump(2) << "\n";
        if (action == Arguments::Action::Exit) return false;
        if (!o.model_file.empty())  // not on the command line (run_simulator looks there)
            throw std::runtime_error(
                "option 'model' in a config file: give --model FILE on the "
                "command line (the config file then holds what every layer "
                "shares)");
        // The files the run reads, so that no output overwrites one.
        for (const auto& [file, option] :
             {std::pair(args.value("config").value_or(""), "config"), std::pair(o.q_file, "q"),
              std::pair(o.k_file, "k"), std::pair(o.v_file, "v"),
              std::pair(o.calibrate_q_file, "calibrate-q"),
              std::pair(o.calibrate_k_file, "calibrate-k"), std::pair(o.tech_file, "tech")})
            outputs.input(option, file);
        for (const auto& [file, option] :
             {std::pair(o.stats_file, "stats"), std::pair(o.output_file, "output"),
              std::pair(o.vcd_file, "vcd"), std::pair(o.dump_config_file, "dump-config"),
              std::pair(o.trace_tlm_file, "trace-tlm"), std::pair(o.trace_stl_file, "trace-stl"),
              std::pair(o.per_query_file, "per-query")})
            outputs.claim(option, file);
        if (is_fst(o.vcd_file) && !vcd2fst_found())
            throw std::runtime_error("option '--vcd': file '" + o.vcd_file +
                                     "': FST is written by GTKWave's vcd2fst, which is not on the "
                                     "PATH (Debian package gtkwave)");
        check_fits(o, args.platform, workload_shape(o));
        if (!o.vcd_heads.empty() && *o.vcd_heads.rbegin() >= uint32_t(workload_shape(o).heads))
            throw std::runtime_error("option '--vcd-heads': head " +
                                     std::to_string(*o.vcd_heads.rbegin()) +
                                     " is not in the workload (heads 0.." +
                                     std::to_string(workload_shape(o).heads - 1) + ")");
        in = build_inputs(o, args.platform.ip.numerics());
        if (outputs.claimed("dump-config")) outputs.write("dump-config", args.config_text());
        if (o.dry_run) {
            const bool wrote = outputs.claimed("dump-config");
            outputs.commit();
            const Shape sh = workload_shape(o);
            out << "sprint-sim: dry run: " << sh.heads << " heads x N=" << sh.n << " x d=" << sh.d
                << ", " << run_modes(o).size()
                << " job(s) checked against the IP and the memory; nothing simulated"
                << (wrote ? "; configuration written to " + o.dump_config_file : std::string())
                << "\n";
            return false;
        }
        return true;
    } catch (const std::exception& e) {
        err << "sprint-sim: error: " << e.what() << "\n";
        if (std::string(e.what()).find("option") != std::string::npos)
            err << "(sprint-sim --help lists every option)\n";
        exit_code = kExitBadInput;
        return false;
    }
}

}  // namespace

bool is_fst(const std::string& path) {
    return path.size() > 4 && path.compare(path.size() - 4, 4, ".fst") == 0;
}

void set_verbosity(const std::string& level) {
    const std::map<std::string, int> verb = {
        {"none", sc_core::SC_NONE}, {"low", sc_core::SC_LOW},   {"medium", sc_core::SC_MEDIUM},
        {"high", sc_core::SC_HIGH}, {"full", sc_core::SC_FULL}, {"debug", sc_core::SC_DEBUG}};
    sc_core::sc_report_handler::set_verbosity_level(verb.at(level));
    if (level == "none" || level == "low")
        sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
}

// The host's script: the tensors placed, then each planned job run and observed; stops at the
// first job that fails.
// The job's references (b) and its fidelity stream; the first job's also writes reference (a)
// into `dense`.
void start_fidelity(JobRun& r, const Inputs& in, const PlatformConfig& c, core::Tensor3* dense,
                    bool accuracy) {
    r.exact_heads.clear();
    r.exact_heads.resize(std::size_t(in.q.heads));
    core::JobOptions exact_opt = r.desc.opt;
    exact_opt.mode = core::Mode::OnchipPrune;
    const core::XbarNumerics x = c.ip.numerics();
    std::vector<uint32_t> valid;
    for (const auto& hp : in.w.heads) valid.push_back(hp.valid_len);
    r.fidelity = std::make_unique<core::FidelityStream>(
        in.q, in.k,
        [&r, exact_opt, x](int h, int i, uint8_t* mask) {
            auto& hm = r.exact_heads[std::size_t(h)];
            if (!hm) hm = std::make_unique<core::HeadMasks>(r.exact_w, h, exact_opt, x);
            return hm->row(i, mask);
        },
        valid, r.desc.opt.causal, &in.v, dense, accuracy);
}

void run_jobs(Host& host, StandalonePlatform& plat, const Inputs& in,
              const std::vector<JobDesc>& plan, std::vector<JobRun>& runs, std::size_t& current,
              uint64_t base, const PlatformConfig& c, core::Tensor3* dense, bool fidelity,
              bool per_query) {
    plat.sprint.record_queries(per_query);
    host.place(in.w, plan[0].opt, base);  // the tensors and head table of plan[0]
    const std::vector<uint8_t> zeros(
        std::size_t(in.q.heads) * in.q.n * in.q.d * core::output_element_bytes(plan[0].opt.output),
        0);
    for (std::size_t i = 1; i < plan.size(); ++i) {
        host.write_head_table(plan[i].table, in.heads_for(plan[i].opt.mode));
        host.mem_write(plan[i].out, zeros.data(), zeros.size());
    }
    for (current = 0; current < plan.size(); ++current) {
        JobRun& r = runs[current];
        r.desc = plan[current];
        start_fidelity(r, in, c, current == 0 ? dense : nullptr, fidelity);
        plat.sprint.reset_peaks();
        plat.dram.reset_peaks();
        r.stats_before = plat.sprint.stats().to_json();
        r.dram_before = plat.dram.stats().to_json();
        if (per_query) r.tables_before = plat.sprint.stats().query_tables();
        r.result = host.run_job(r.desc, sc_core::sc_time(1000, sc_core::SC_SEC));
        r.stats_after = plat.sprint.stats().to_json();
        if (per_query) {
            r.tables_after = plat.sprint.stats().query_tables();
            r.queries = plat.sprint.query_log();
            r.start = plat.sprint.job_start();
        }
        r.dram_after = plat.dram.stats().to_json();
        r.max_in_flight = plat.sprint.stats().count("fetcher.max_in_flight");
        r.dram_max_queued = plat.dram.counters().max_queued;
        r.heads = plat.sprint.head_log();
        r.out = host.read_output(r.desc);
        if (!r.result.ok()) break;
    }
}

// A progress line on stderr while the simulation runs, for runs longer than about a second, only
// when stderr is a terminal (and not with --quiet): jobs, heads and queries done, simulated time,
// the rate and the time left. Fed by each query's completion; erased when the simulation ends.
class Progress {
  public:
    // queries_per_head: each head's query count (its valid length); every job runs them all.
    Progress(bool enabled, std::size_t jobs, std::vector<uint64_t> queries_per_head,
             std::ostream& err)
        : m_on(enabled),
          m_jobs(jobs),
          m_per_head(std::move(queries_per_head)),
          m_left(m_per_head),
          m_err(err),
          m_start(std::chrono::steady_clock::now()) {
        for (uint64_t q : m_per_head) m_per_job += q;
    }
    void query_done(std::size_t job, uint32_t head) {
        if (!m_on) return;
        if (job != m_job) {  // the next job: every head to do again
            m_job = job;
            m_left = m_per_head;
            m_heads_done = 0;
        }
        ++m_done;
        if (head < m_left.size() && m_left[head] > 0 && --m_left[head] == 0) ++m_heads_done;
        const auto now = std::chrono::steady_clock::now();
        const double t = std::chrono::duration<double>(now - m_start).count();
        if (t < 1.0 || t - m_last < 0.25) return;
        m_last = t;
        const uint64_t total = m_per_job * m_jobs;
        const double rate = double(m_done) / t;
        char buf[240];
        std::snprintf(buf, sizeof buf,
                      "\rsprint-sim: job %zu of %zu, heads %zu of %zu, queries %llu of %llu, "
                      "simulated %.1f us, %.0f queries/s, about %.0f s left\033[K",
                      job + 1, m_jobs, m_heads_done, m_per_head.size(),
                      static_cast<unsigned long long>(m_done),
                      static_cast<unsigned long long>(total),
                      sc_core::sc_time_stamp().to_seconds() * 1e6, rate,
                      double(total > m_done ? total - m_done : 0) / rate);
        m_err << buf << std::flush;
        m_shown = true;
    }
    ~Progress() {
        if (m_shown) m_err << "\r\033[K" << std::flush;
    }

  private:
    bool m_on;
    std::size_t m_jobs, m_job = 0, m_heads_done = 0;
    std::vector<uint64_t> m_per_head, m_left;  // queries of each head, and those not yet done
    uint64_t m_per_job = 0, m_done = 0;
    std::ostream& m_err;
    std::chrono::steady_clock::time_point m_start;
    double m_last = 0.0;
    bool m_shown = false;
};

// The status of the simulated jobs; an error message for the first that did not complete.
bool jobs_ok(const std::vector<JobRun>& runs, std::ostream& err) {
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const JobResult& r = runs[i].result;
        if (r.ok()) continue;
        err << "sprint-sim: error: job " << i + 1 << " (" << core::to_string(runs[i].desc.opt.mode)
            << ") "
            << (r.completed ? std::string("failed: ") + regs::to_string(r.error)
                            : "did not complete (no interrupt)")
            << "\n";
        return false;
    }
    return true;
}

// The output files of a successful run, then all of them moved into place.
void write_outputs(OutputFiles& outputs, StandalonePlatform& p, const Arguments& args,
                   const Inputs& in, const std::vector<JobRun>& runs, const Evaluation& ev,
                   double wall, const std::vector<std::string>& violations) {
    p.close_vcd();
    if (outputs.claimed("vcd")) outputs.finish_relay("vcd");
    if (outputs.claimed("vcd") && is_fst(args.run.vcd_file))
        outputs.convert(
            "vcd", [](const std::string& vcd, const std::string& fst) { run_vcd2fst(vcd, fst); });
    if (outputs.claimed("output"))
        outputs.write("output",
                      npy_bytes(core::decode_output(runs[0].out, args.run.job.output, in.q.heads,
                                                    in.q.n, in.q.d, in.w.heads)));
    if (outputs.claimed("stats"))
        outputs.write("stats", stats_json(args, in, ev, wall, p, violations));
    if (outputs.claimed("per-query"))
        outputs.write("per-query", per_query_csv(args.platform, in, ev));
    outputs.commit();
}

// Each job's workload with its thresholds, and its bit-exact reference started on a worker
// thread now: it overlaps the simulation instead of following it; then the fidelity references'
// thread. The workers start with SIGINT, SIGTERM and SIGHUP blocked (a new thread inherits its
// creator's mask), so those signals always reach the main thread, whose handler removes the
// output temporaries and which holds them while it creates one.
void start_references(const RunOptions& o, const Inputs& in, const IpConfig& ip,
                      const std::vector<JobDesc>& plan, std::vector<JobRun>& runs,
                      std::optional<FidelityWorker>& fidelity) {
    sigset_t fatal, old_mask;
    sigemptyset(&fatal);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&fatal, sig);
    pthread_sigmask(SIG_BLOCK, &fatal, &old_mask);
    for (std::size_t i = 0; i < plan.size(); ++i) {
        const core::Mode mode = plan[i].opt.mode;
        runs[i].exact_w = in.thresholds.count(mode) ? in.for_mode(mode) : in.w;
        if (!o.verify) continue;  // --verify=false: no reference (c), the check is skipped
        runs[i].reference =
            std::async(std::launch::async, [&w = runs[i].exact_w,
                                            opt = ip.job_options(plan[i].opt,
                                                                 uint32_t(runs[i].exact_w.q.n),
                                                                 uint32_t(runs[i].exact_w.q.d)),
                                            x = ip.numerics()] {
                return core::reference_output(w, opt, x);
            }).share();
    }
    if (!fidelity) fidelity.emplace();  // the fidelity references' thread, with the same mask
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
}

// The --vcd file opened (through its relay, with the run named in its comment), bounded by
// --vcd-window and --vcd-heads.
void open_vcd(StandalonePlatform& p, OutputFiles& outputs, const RunOptions& o) {
    std::string comment = std::string("sprint-sim ") + tool_version() + " (git " + tool_commit() +
                          ") on " + host_name() + ", " + o.started + "; command:";
    for (const auto& w : o.command_line) comment += " " + w;
    p.open_vcd(outputs.relay("vcd", ".vcd"), comment);
    if (o.vcd_from_ps > 0.0 || std::isfinite(o.vcd_to_ps) || !o.vcd_heads.empty())
        p.sprint.tracer.bound(sc_core::sc_time(o.vcd_from_ps, sc_core::SC_PS),
                              std::isfinite(o.vcd_to_ps)
                                  ? sc_core::sc_time(o.vcd_to_ps, sc_core::SC_PS)
                                  : sc_core::sc_max_time(),
                              o.vcd_heads);
}

// After sc_start, what fails a run before its report, each with an error on `err`: the fidelity
// thread (its host time into `reference_seconds`), the host script, each job's status and the
// transaction traces.
bool run_completed(FidelityWorker& fidelity, double& reference_seconds,
                   const std::string& script_error, const std::vector<JobRun>& runs,
                   const std::string& trace_error, TransactionTraceFiles& traces,
                   std::ostream& err) {
    try {
        reference_seconds = fidelity.finish();
    } catch (const std::exception& e) {
        err << "sprint-sim: error: " << e.what() << "\n";
        return false;
    }
    if (!script_error.empty()) {
        err << "sprint-sim: error: host: " << script_error << "\n";
        return false;
    }
    if (!jobs_ok(runs, err)) return false;
    try {
        if (!trace_error.empty()) throw std::runtime_error(trace_error);
        traces.finish();
    } catch (const std::exception& e) {
        err << "sprint-sim: error: " << e.what() << "\n";
        return false;
    }
    return true;
}

// The report of a run whose jobs all completed: the summary, the protocol checks, the bit-exact
// and protocol verdicts, then the output files; the exit status.
int report_run(std::ostream& out, std::ostream& err, OutputFiles& outputs, StandalonePlatform& p,
               const Arguments& args, const Inputs& in, const std::vector<JobRun>& runs,
               const Evaluation& ev, double wall) {
    const RunOptions& o = args.run;
    print_summary(out, o, args.platform, in, ev, wall);
    const std::vector<std::string> violations = p.protocol_violations();
    if (o.check_protocol) {
        out << "protocol checks: " << p.protocol_transactions() << " transactions on "
            << p.protocol_links() << " links, " << violations.size() << " violations\n";
        for (std::size_t i = 0; i < violations.size() && i < 20; ++i)
            out << "  " << violations[i] << "\n";
    }
    if (!ev.all_exact) {
        err << "sprint-sim: error: the IP's output differs from the core's bit-exact reference\n";
        return kExitJobProblem;
    }
    if (!violations.empty()) {
        err << "sprint-sim: error: " << violations.size()
            << " TLM protocol violations (listed above)\n";
        return kExitJobProblem;
    }
    try {
        write_outputs(outputs, p, args, in, runs, ev, wall, violations);
    } catch (const std::exception& e) {
        err << "sprint-sim: error: " << e.what() << "\n";
        return kExitJobProblem;
    }
    return kExitOk;
}

int run_simulator(int argc, const char* const argv[], std::ostream& out, std::ostream& err) {
    if (const std::string model = model_option(argc, argv); !model.empty())
        return run_model(model, argc, argv, out, err);
    const auto t_start = std::chrono::steady_clock::now();
    Arguments args;
    Inputs in;
    // Declared before the platform, so the VCD writer has closed its file when this is destroyed;
    // a run that fails leaves no file behind (the temporaries go on every return before commit).
    OutputFiles outputs;
    int exit_code = kExitOk;
    if (!prepare(argc, argv, out, err, args, outputs, in, exit_code)) return exit_code;
    const RunOptions& o = args.run;
    set_verbosity(o.verbosity);

    // Jobs: the selected mode, then the dense baseline on the same tensors.
    const std::vector<JobDesc> plan =
        plan_jobs(o, {in.q.heads, in.q.n, in.q.d}, args.platform.dram_base, nullptr,
                  args.platform.ip.xbar.key_bits);
    std::vector<JobRun> runs(plan.size());
    // Reference (a), written as queries end by the fidelity thread (declared before it: it is
    // joined first on every way out).
    core::Tensor3 dense(in.q.heads, in.q.n, in.q.d);
    std::optional<FidelityWorker> fidelity;
    start_references(o, in, args.platform.ip, plan, runs, fidelity);
    std::size_t current = 0;
    StandalonePlatform* plat = nullptr;
    std::string script_error;
    TransactionTraceFiles traces(outputs, outputs.claimed("trace-tlm") ? "trace-tlm" : "",
                                 outputs.claimed("trace-stl") ? "trace-stl" : "",
                                 args.platform.dram.burst_bytes);
    std::string trace_error;  // a trace write that failed (a full disk), reported after the run
    TransactionTracer::Sink sink;
    if (traces.active())
        sink = [&](const TransactionRecord& r) {
            if (!trace_error.empty()) return;
            try {
                traces.add(r);
            } catch (const std::exception& e) {
                trace_error = e.what();
            }
        };
    StandalonePlatform p(
        args.platform,
        [&](Host& host) {
            try {
                run_jobs(host, *plat, in, plan, runs, current, args.platform.dram_base,
                         args.platform, &dense, o.fidelity, outputs.claimed("per-query"));
            } catch (const std::exception& e) {
                script_error = e.what();
            }
        },
        sink);
    plat = &p;
    // Each query's kept set goes to the job's fidelity stream as the query completes (the
    // references of that query computed then, on the fidelity thread): no N x N mask is held.
    std::vector<uint64_t> head_queries;
    for (const auto& hp : in.w.heads) head_queries.push_back(hp.valid_len);
    std::optional<Progress> progress;
    progress.emplace(!o.quiet && isatty(STDERR_FILENO), plan.size(), std::move(head_queries), err);
    p.sprint.set_kept_observer([&](uint32_t h, uint32_t i, const std::vector<uint32_t>& kept) {
        fidelity->push(runs[current].fidelity.get(), h, i, kept);
        progress->query_done(current, h);
    });
    if (outputs.claimed("vcd")) open_vcd(p, outputs, o);
    const auto t0 = std::chrono::steady_clock::now();
    sc_core::sc_start();
    const auto t1 = std::chrono::steady_clock::now();
    const double wall = std::chrono::duration<double>(t1 - t0).count();
    progress.reset();  // the line erased before anything else is printed
    double reference_seconds = 0.0;
    if (!run_completed(*fidelity, reference_seconds, script_error, runs, trace_error, traces, err))
        return kExitJobProblem;

    Evaluation ev = evaluate(args.platform, in, dense, runs);
    ev.reference_seconds = reference_seconds;
    ev.setup_seconds = std::chrono::duration<double>(t0 - t_start).count();
    ev.check_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    return report_run(out, err, outputs, p, args, in, runs, ev, wall);
}

}  // namespace sprint::platform

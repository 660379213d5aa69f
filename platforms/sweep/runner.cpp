#include "platforms/sweep/runner.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/params.h"
#include "platforms/sim/cli.h"
#include "platforms/sim/simulation.h"
#include "platforms/sim/version.h"

namespace sprint::sweep {

namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
    g_stop = 1;
}

// Installs the stop handlers for the lifetime of a run and puts the previous ones back.
class StopSignals {
  public:
    StopSignals() {
        struct sigaction sa {};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR
        for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &m_old[i]);
        g_stop = 0;
    }
    ~StopSignals() {
        for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &m_old[i], nullptr);
    }

  private:
    static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction m_old[3];
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// What a failed sprint-sim said: its error lines, or its last line.
std::string error_text(const std::string& err) {
    std::stringstream ss(err);
    std::string line, last, errors;
    while (std::getline(ss, line)) {
        if (line.empty()) continue;
        last = line;
        if (line.find("error") != std::string::npos) errors += (errors.empty() ? "" : " / ") + line;
    }
    std::string out = errors.empty() ? last : errors;
    if (out.size() > 2000) out = out.substr(0, 2000) + "...";
    return out;
}

std::string format_seconds(double s) {
    char buf[32];
    if (s < 90)
        std::snprintf(buf, sizeof buf, "%.0f s", s);
    else if (s < 5400)
        std::snprintf(buf, sizeof buf, "%.1f min", s / 60);
    else
        std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
    return buf;
}

}  // namespace

std::vector<std::string> sim_options(const Point& p) {
    std::vector<std::string> out;
    for (const auto& [n, v] : p.options) out.push_back("--" + n + "=" + v);
    return out;
}

void check_names(const Spec& spec) {
    platform::Arguments args;
    std::vector<std::string> names;
    for (const auto& [n, v] : args.values()) names.push_back(n);
    auto known = [&](const std::string& name, const std::string& where) {
        if (args.value(name)) return;
        throw std::runtime_error(where + ": sprint-sim has no option or parameter '" + name + "'" +
                                 core::did_you_mean(name, names) +
                                 "; sprint-sim --help lists them");
    };
    for (const auto& [n, v] : spec.base) known(n, "base");
    for (const auto& w : spec.workloads)
        for (const auto& [n, v] : w.options) known(n, "workload '" + w.name + "'");
    for (const auto& a : spec.axes)
        for (const auto& n : a.params) known(n, "axis '" + a.name + "'");
    for (const auto& c : spec.constraints)
        for (const auto& n : c.names()) {
            // A result figure is known only once a point has run: a constraint decides which
            // points run, a report's --where which results answer.
            if (!args.value(n) && figure_info(figure_name(n)))
                throw std::runtime_error(
                    "constraint '" + c.text() + "': '" + n +
                    "' is a result of the simulation, not a setting; constraints choose which "
                    "points run. To keep only the results that meet it, ask the report: "
                    "sprint-sweep report SPEC --where '" +
                    c.text() + "'");
            known(n, "constraint '" + c.text() + "'");
        }
}

namespace {

// Options sprint-sim parses for a point; false (and the reason) when it refuses them.
bool parse_point(const Point& p, platform::Arguments& args, std::string* why) {
    const std::vector<std::string> opts = sim_options(p);
    std::vector<const char*> argv{"sprint-sim"};
    for (const auto& o : opts) argv.push_back(o.c_str());
    try {
        args.parse(int(argv.size()), argv.data());
        return true;
    } catch (const std::exception& e) {
        if (why) *why = e.what();
        return false;
    }
}

}  // namespace

std::string settings_key(const Options& options) {
    Point p;
    p.options = options;
    platform::Arguments args;
    if (!parse_point(p, args, nullptr)) return options_key(p.options);
    Options all;
    for (auto& [n, v] : args.values()) all.emplace_back(n, v);
    return options_key(all);
}

std::vector<Point> design_points(const Spec& spec) {
    std::vector<Point> out;
    std::set<std::string> seen;
    for (Point& p : expand(spec)) {
        p.key = settings_key(p.options);
        if (!seen.insert(p.key).second) continue;
        p.index = out.size();
        out.push_back(std::move(p));
    }
    return out;
}

namespace {

// Each value the spec gives, on its own (sprint-sim's defaults around it): the reasons sprint-sim
// refuses any, each once, so that every bad value is named, not only the first a point meets.
// Values that are wrong only together are found by the points' own checks after this.
std::vector<std::string> refused_values(const Spec& spec) {
    std::vector<std::string> out;
    auto check = [&](const std::string& where, const std::string& name, const std::string& value) {
        Point p;
        p.options = {{name, value}};
        platform::Arguments args;
        std::string why;
        // Only a reason about this option: one that needs others beside it (q without k and v)
        // is left to the whole point's check.
        if (!parse_point(p, args, &why) && (why.find("'" + name + "'") != std::string::npos ||
                                            why.find("'--" + name + "'") != std::string::npos))
            out.push_back(where + ": " + why);
    };
    for (const auto& [n, v] : spec.base) check("base", n, v);
    for (const auto& w : spec.workloads)
        for (const auto& [n, v] : w.options) check("workload '" + w.name + "'", n, v);
    for (const auto& a : spec.axes) {
        // A continuous range's draws are checked with their points.
        for (const auto& n : a.params)
            for (const auto& v : a.values) check("axis '" + a.name + "'", n, v);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace

std::vector<Checked> check_values(const Spec& spec, const std::vector<Point>& points) {
    if (const auto bad = refused_values(spec); !bad.empty()) {
        std::string msg = "sweep '" + spec.name + "': sprint-sim refuses " +
                          (bad.size() == 1 ? "a value" : std::to_string(bad.size()) + " values") +
                          " of the spec, so nothing runs:";
        for (const auto& b : bad) msg += "\n  " + b;
        throw std::runtime_error(msg);
    }
    std::vector<Checked> out;
    out.reserve(points.size());
    std::map<std::string, std::pair<std::size_t, const Point*>> refused;  // reason -> count, first
    for (const Point& p : points) {
        out.push_back(check_point(spec, p));
        if (out.back().status != kFailed) continue;
        auto& r = refused[out.back().message];
        if (r.first++ == 0) r.second = &p;
    }
    if (refused.empty()) return out;
    std::string msg =
        "sweep '" + spec.name + "': sprint-sim refuses a value of the spec, so nothing runs:";
    for (const auto& [why, r] : refused) {
        std::string at;
        if (spec.workloads.size() > 1) at += " workload=" + r.second->workload;
        for (const auto& [n, v] : r.second->axis_values) at += " " + n + "=" + v;
        msg += "\n  " + why + "\n    at point " + std::to_string(r.second->index);
        if (!at.empty()) msg += " (" + at.substr(1) + ")";
        if (r.first > 1) msg += " and " + std::to_string(r.first - 1) + " more";
    }
    throw std::runtime_error(msg);
}

Checked check_point(const Spec& spec, const Point& p) {
    platform::Arguments args;
    std::string why;
    if (!parse_point(p, args, &why)) return {kFailed, why, "", "{}"};
    const std::vector<std::string> opts = sim_options(p);
    nlohmann::json settings = nlohmann::json::object();
    for (const auto& [n, v] : args.values()) settings[n] = v;
    Checked c{"", "", args.config_text(), settings.dump()};
    const Lookup lookup = [&](const std::string& name) -> std::optional<Value> {
        const auto v = args.value(name);
        if (!v) throw std::runtime_error("no option or parameter '" + name + "'");
        return Value::of(*v);
    };
    for (const Expr& e : spec.constraints) {
        std::optional<Value> v;
        try {
            v = e.eval(lookup);
        } catch (const std::exception& err) {
            return {kFailed, err.what(), c.config, c.settings};
        }
        if (!v || !v->truth())
            return {kDoesNotFit, "constraint '" + e.text() + "' is false", c.config, c.settings};
    }
    try {
        if (!args.run.model_file.empty())  // every layer of the model
            platform::check_model(args.run.model_file, opts);
        else
            platform::check_fits(args.run, args.platform, platform::workload_shape(args.run));
    } catch (const platform::DoesNotFit& e) {
        return {kDoesNotFit, e.what(), c.config, c.settings};
    } catch (const std::exception& e) {
        return {kFailed, e.what(), c.config, c.settings};
    }
    return c;
}

double estimate_seconds_left(const std::map<std::string, std::pair<double, std::size_t>>& cost,
                             const std::vector<std::string>& waiting,
                             const std::vector<std::pair<std::string, double>>& running,
                             unsigned workers) {
    double all = 0;
    std::size_t n = 0;
    for (const auto& [w, c] : cost) all += c.first, n += c.second;
    if (n == 0) return -1;
    const auto mean = [&](const std::string& w) {
        const auto it = cost.find(w);
        return it != cost.end() && it->second.second ? it->second.first / double(it->second.second)
                                                     : all / double(n);
    };
    double work = 0;
    for (const auto& w : waiting) work += mean(w);
    for (const auto& [w, ran] : running) work += std::max(0.0, mean(w) - ran);
    const std::size_t busy = std::min<std::size_t>(workers, waiting.size() + running.size());
    return work / double(std::max<std::size_t>(busy, 1));
}

Shard parse_shard(const std::string& text) {
    Shard s;
    char extra = 0;
    unsigned long long i = 0, n = 0;
    if (std::sscanf(text.c_str(), "%llu/%llu%c", &i, &n, &extra) != 2 || n == 0 || i >= n)
        throw std::runtime_error("option '--shard': '" + text +
                                 "' is not I/N with 0 <= I < N (task I of N)");
    s.index = i;
    s.count = n;
    return s;
}

std::vector<Point> shard_points(const std::vector<Point>& all, Shard s) {
    std::vector<Point> out;
    for (const Point& p : all)
        if (p.index % s.count == s.index) out.push_back(p);
    return out;
}

std::string default_sim() {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return "";
    const fs::path sim = self.parent_path() / "sprint-sim";
    return fs::is_regular_file(sim, ec) ? sim.string() : "";
}

std::pair<std::string, std::string> sim_version(const std::string& sim) {
    const std::string cmd = "'" + sim + "' --version 2>&1";
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) throw std::runtime_error("cannot run '" + sim + "'");
    std::string out;
    char buf[256];
    while (std::fgets(buf, sizeof buf, f)) out += buf;
    const int rc = pclose(f);
    // "sprint-sim 0.1.0 (git abc123)"
    char version[64] = {}, commit[128] = {};
    if (rc != 0 || std::sscanf(out.c_str(), "sprint-sim %63s (git %127[^)])", version, commit) != 2)
        throw std::runtime_error("'" + sim + "' is not a working sprint-sim (--version printed '" +
                                 out.substr(0, 200) + "')");
    return {version, commit};
}

namespace {

// What each result records of where it was computed.
struct Provenance {
    std::string version, commit, host;
};

void make_work_dir(const fs::path& work) {
    std::error_code ec;
    fs::create_directories(work, ec);
    if (ec) throw std::runtime_error("cannot create '" + work.string() + "': " + ec.message());
}

// The exclusive lock on a database's scratch folder, held while a run lasts.
class RunLock {
  public:
    RunLock(const fs::path& work, const std::string& db_path)
        : m_fd(::open((work / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
        if (m_fd < 0 || flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
            if (m_fd >= 0) ::close(m_fd);
            throw std::runtime_error("another sweep is running on '" + db_path + "' (lock " +
                                     (work / "lock").string() + ")");
        }
    }
    ~RunLock() { ::close(m_fd); }
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

  private:
    int m_fd;
};

// Removes every file but the lock: what a run that was killed left behind.
void clear_work_dir(const fs::path& work) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(work, ec))
        if (e.path().filename() != "lock") fs::remove(e.path(), ec);
}

// A worker process simulating a point, and the files it writes.
struct Running {
    pid_t pid;
    const Point* p;
    std::string stats, errf, config, settings;
    std::chrono::steady_clock::time_point start;
    bool timed_out = false;
};

void remove_files(const Running& r) {
    std::error_code ec;
    fs::remove(r.stats, ec);
    fs::remove(r.errf, ec);
}

// In the forked child: becomes the simulator, its output discarded and its errors to `errf`.
[[noreturn]] void exec_worker(const std::vector<char*>& argv, const std::string& errf,
                              pid_t parent) {
    // The worker dies with the sweep, and the terminal's ^C goes to the sweep alone.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    setpgid(0, 0);
    const int out = ::open("/dev/null", O_WRONLY);
    const int e = ::open(errf.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || e < 0) _exit(127);
    dup2(out, STDOUT_FILENO);
    dup2(e, STDERR_FILENO);
    execv(argv[0], argv.data());
    const char msg[] = "sprint-sweep: cannot execute the simulator\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(127);
}

// One run of a sweep's points: a worker per point while one is free, each result recorded as
// its worker ends, and the counts for the progress line and the summary.
class SweepRun {
  public:
    SweepRun(const Spec& spec, Database& db, const RunSettings& s, std::ostream& err,
             const std::vector<Point>& points, fs::path work, Provenance prov)
        : m_spec(spec),
          m_db(db),
          m_s(s),
          m_err(err),
          m_points(points),
          m_work(std::move(work)),
          m_prov(std::move(prov)) {}
    RunSummary run();

  private:
    void select_todo();
    void start_workers();
    Running start(const Point& p, const Checked& c);
    std::optional<Running> reap(int& wst);
    void kill_overdue();
    PointResult result_of(const Running& r, int wst) const;
    std::string exit_message(const Running& r, int wst) const;
    void stop_workers();
    void finish(const Point& p, PointResult r);
    void progress(bool final);
    double elapsed() const;

    const Spec& m_spec;
    Database& m_db;
    const RunSettings& m_s;
    std::ostream& m_err;
    const std::vector<Point>& m_points;
    const fs::path m_work;
    const Provenance m_prov;
    const pid_t m_parent = getpid();
    RunSummary m_sum;
    std::vector<const Point*> m_todo;
    std::size_t m_next = 0;  // in m_todo
    std::size_t m_done = 0;
    std::vector<Running> m_running;
    std::chrono::steady_clock::time_point m_t0;
    // Seconds per simulated point by workload (this run's and the database's earlier ok points):
    // what the time left is estimated from, as points of different workloads differ in cost.
    std::map<std::string, std::pair<double, std::size_t>> m_cost;
    double seconds_left() const;
    bool m_tty = false;
    double m_last_print = -1e9;
};

RunSummary SweepRun::run() {
    select_todo();
    m_t0 = std::chrono::steady_clock::now();
    m_tty = isatty(STDERR_FILENO);
    const StopSignals signals;
    while (!g_stop && (m_next < m_todo.size() || !m_running.empty())) {
        start_workers();
        if (m_running.empty()) continue;
        int wst = 0;
        const std::optional<Running> r = reap(wst);
        if (!r) continue;
        const PointResult res = result_of(*r, wst);
        remove_files(*r);
        if (g_stop && res.status == kFailed) break;  // stopped under it: stays pending
        finish(*r->p, res);
    }
    if (g_stop) stop_workers();
    progress(true);
    m_sum.ran = m_done;
    const auto after = m_db.statuses();
    for (const Point& p : m_points)
        if (after.at(p.key) == kPending) m_sum.pending++;
    return m_sum;
}

// The points this run simulates: the pending ones, and the failed ones when retrying them.
void SweepRun::select_todo() {
    m_sum.points = m_points.size();
    for (const Row& r : m_db.rows())
        if (r.status == kOk && r.seconds > 0) {
            auto& c = m_cost[r.workload];
            c.first += r.seconds;
            c.second++;
        }
    const auto status = m_db.statuses();
    for (const Point& p : m_points) {
        const std::string& st = status.at(p.key);
        if (st == kPending || (m_s.retry_failed && st == kFailed))
            m_todo.push_back(&p);
        else
            m_sum.finished_before++;
    }
}

// Start points while a worker is free; points refused by the checks end here at once.
void SweepRun::start_workers() {
    while (!g_stop && m_next < m_todo.size() && m_running.size() < m_s.workers) {
        const Point& p = *m_todo[m_next++];
        Checked c = check_point(m_spec, p);
        if (!c.status.empty()) {
            PointResult r;
            r.status = c.status;
            r.message = c.message;
            r.config = c.config;
            r.settings = c.settings;
            finish(p, r);
            continue;
        }
        m_running.push_back(start(p, c));
    }
}

// Forks the worker of a checked point; it writes its figures to a stats file in the scratch
// folder and its errors beside it.
Running SweepRun::start(const Point& p, const Checked& c) {
    Running run{0,
                &p,
                (m_work / ("point-" + std::to_string(p.index) + ".json")).string(),
                (m_work / ("point-" + std::to_string(p.index) + ".err")).string(),
                c.config,
                c.settings,
                std::chrono::steady_clock::now(),
                false};
    std::vector<std::string> args{m_s.sim};
    for (auto& o : sim_options(p)) args.push_back(o);
    args.push_back("--stats=" + run.stats);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) exec_worker(argv, run.errf, m_parent);
    run.pid = pid;
    return run;
}

// The worker that ended (taken off the running ones, its wait status in `wst`), or none when
// the wait was interrupted or no worker has ended yet.
std::optional<Running> SweepRun::reap(int& wst) {
    // With a time limit the workers are polled, and one past it is killed.
    const pid_t pid = waitpid(-1, &wst, m_s.timeout > 0 ? WNOHANG : 0);
    if (pid < 0) {
        if (errno == EINTR) return std::nullopt;
        throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    }
    if (pid == 0) {
        kill_overdue();
        usleep(20000);
        return std::nullopt;
    }
    auto it = m_running.begin();
    while (it != m_running.end() && it->pid != pid) ++it;
    if (it == m_running.end()) return std::nullopt;
    const Running r = *it;
    m_running.erase(it);
    return r;
}

void SweepRun::kill_overdue() {
    const auto now = std::chrono::steady_clock::now();
    for (Running& r : m_running)
        if (!r.timed_out && std::chrono::duration<double>(now - r.start).count() > m_s.timeout) {
            r.timed_out = true;
            kill(r.pid, SIGKILL);
        }
}

// An ended worker's result: its figures, or why it failed.
PointResult SweepRun::result_of(const Running& r, int wst) const {
    PointResult res;
    res.config = r.config;
    res.settings = r.settings;
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - r.start).count();
    const std::string errtext = error_text(read_file(r.errf));
    if (WIFEXITED(wst) && WEXITSTATUS(wst) == 0) {
        try {
            res.figures = extract_figures(nlohmann::json::parse(read_file(r.stats)));
            res.status = kOk;
        } catch (const std::exception& e) {
            res.status = kFailed;
            res.message = std::string("the stats file cannot be read: ") + e.what();
        }
    } else {
        res.status = kFailed;
        res.message = exit_message(r, wst);
        if (!errtext.empty()) res.message += ": " + errtext;
        // A job that ran but failed its checks still wrote its figures.
        try {
            res.figures = extract_figures(nlohmann::json::parse(read_file(r.stats)));
        } catch (const std::exception&) {
        }
    }
    return res;
}

// How a failed worker ended: past its time limit, with an exit status, or by a signal.
std::string SweepRun::exit_message(const Running& r, int wst) const {
    if (r.timed_out)
        return "timed out: killed after the --timeout of " + Value::of(m_s.timeout).text + " s";
    if (WIFEXITED(wst)) return "sprint-sim exited with status " + std::to_string(WEXITSTATUS(wst));
    return "sprint-sim was killed by signal " + std::to_string(WTERMSIG(wst));
}

// Stopped: the workers still running are ended and their files removed (their points stay
// pending).
void SweepRun::stop_workers() {
    m_sum.interrupted = true;
    for (const Running& r : m_running) kill(r.pid, SIGTERM);
    for (const Running& r : m_running) {
        int wst;
        while (waitpid(r.pid, &wst, 0) < 0 && errno == EINTR) {
        }
        remove_files(r);
    }
}

void SweepRun::finish(const Point& p, PointResult r) {
    r.version = m_prov.version;
    r.commit = m_prov.commit;
    r.host = m_prov.host;
    m_db.record(p.key, r);
    m_done++;
    if (r.status == kOk && r.seconds > 0) {
        auto& c = m_cost[p.workload];
        c.first += r.seconds;
        c.second++;
    }
    if (r.status == kOk) m_sum.ok++;
    if (r.status == kFailed) m_sum.failed++;
    if (r.status == kDoesNotFit) m_sum.does_not_fit++;
    progress(false);
}

double SweepRun::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_t0).count();
}

double SweepRun::seconds_left() const {
    std::vector<std::string> waiting;
    for (std::size_t i = m_next; i < m_todo.size(); ++i) waiting.push_back(m_todo[i]->workload);
    std::vector<std::pair<std::string, double>> running;
    const auto now = std::chrono::steady_clock::now();
    for (const Running& r : m_running)
        running.emplace_back(r.p->workload, std::chrono::duration<double>(now - r.start).count());
    return estimate_seconds_left(m_cost, waiting, running, m_s.workers);
}

void SweepRun::progress(bool final) {
    if (m_s.quiet) return;
    const double t = elapsed();
    if (!final && t - m_last_print < (m_tty ? 0.2 : 10.0)) return;
    m_last_print = t;
    std::ostringstream os;
    os << "sweep '" << m_spec.name << "': " << (m_sum.finished_before + m_done) << "/"
       << m_sum.points << " points done (this run: ok " << m_sum.ok << ", failed " << m_sum.failed
       << ", does not fit " << m_sum.does_not_fit << ")";
    if (m_done > 0 && t > 0) {
        const double rate = double(m_done) / t;
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f", rate);
        os << ", " << buf << " points/s";
        const double left = seconds_left();
        if (m_todo.size() > m_done && left >= 0)
            os << ", about " << format_seconds(left) << " left";
    }
    if (m_tty)
        m_err << "\r" << os.str() << "\033[K" << (final ? "\n" : "") << std::flush;
    else
        m_err << os.str() << "\n" << std::flush;
}

}  // namespace

namespace {

// Finished points of this run that another sprint-sim ran: reported, and rerun or kept as the
// user chose; without a choice nothing runs.
void handle_changed(Database& db, const std::vector<Point>& points, const std::string& now,
                    const RunSettings& s, std::ostream& err) {
    const auto made = db.made_by();
    std::vector<std::string> changed;
    std::map<std::string, std::size_t> by;
    for (const Point& p : points)
        if (const auto it = made.find(p.key); it != made.end() && it->second != now) {
            changed.push_back(p.key);
            by[it->second]++;
        }
    if (changed.empty()) return;
    std::string who;
    for (const auto& [v, n] : by) who += (who.empty() ? "" : ", ") + std::to_string(n) + " by " + v;
    const std::string what = std::to_string(changed.size()) +
                             " finished points of this spec were run by another sprint-sim (" +
                             who + "); this one is " + now;
    if (s.on_change == OnChange::Ask)
        throw std::runtime_error(what +
                                 ". Choose: --changed rerun (run them again with this one), "
                                 "--changed keep (keep their results, run only the new points), "
                                 "or --db NEW.db for a new database");
    err << "sprint-sweep: " << what << "; "
        << (s.on_change == OnChange::Rerun ? "running them again" : "keeping their results")
        << "\n";
    if (s.on_change == OnChange::Rerun) db.make_pending(changed);
}

}  // namespace

RunSummary run_sweep(const Spec& spec, const std::vector<Point>& all, Database& db,
                     const RunSettings& s, std::ostream& err) {
    check_names(spec);
    const auto [version, commit] = sim_version(s.sim);  // a broken simulator stops us first
    const std::vector<Point> points = shard_points(all, s.shard);
    db.upgrade_keys(settings_key);
    if (db.bind(spec) && !s.quiet)
        err << "sprint-sweep: the spec of '" << spec.name << "' changed since " << db.path()
            << " last ran it; its points are matched by their settings\n";
    db.add_points(points);
    handle_changed(db, points, version + " (git " + commit + ")", s, err);
    const Provenance prov{version, commit, platform::host_name()};

    // One run per database at a time; its scratch files live beside it.
    const fs::path work = db.path() + ".work";
    make_work_dir(work);
    const RunLock lock(work, db.path());
    clear_work_dir(work);
    return SweepRun(spec, db, s, err, points, work, prov).run();
}

}  // namespace sprint::sweep

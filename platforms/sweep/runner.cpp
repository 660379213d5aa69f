#include "platforms/sweep/runner.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

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
    auto known = [&](const std::string& name, const std::string& where) {
        if (!args.value(name))
            throw std::runtime_error(where + ": sprint-sim has no option or parameter '" + name +
                                     "' (sprint-sim --help lists them)");
    };
    for (const auto& [n, v] : spec.base) known(n, "base");
    for (const auto& w : spec.workloads)
        for (const auto& [n, v] : w.options) known(n, "workload '" + w.name + "'");
    for (const auto& a : spec.axes)
        for (const auto& n : a.params) known(n, "axis '" + a.name + "'");
    for (const auto& c : spec.constraints)
        for (const auto& n : c.names()) known(n, "constraint '" + c.text() + "'");
}

Checked check_point(const Spec& spec, const Point& p) {
    const std::vector<std::string> opts = sim_options(p);
    std::vector<const char*> argv{"sprint-sim"};
    for (const auto& o : opts) argv.push_back(o.c_str());
    platform::Arguments args;
    try {
        args.parse(int(argv.size()), argv.data());
    } catch (const std::exception& e) {
        return {kFailed, e.what(), "", "{}"};
    }
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
        platform::check_fits(args.run, args.platform, platform::workload_shape(args.run));
    } catch (const platform::DoesNotFit& e) {
        return {kDoesNotFit, e.what(), c.config, c.settings};
    } catch (const std::exception& e) {
        return {kFailed, e.what(), c.config, c.settings};
    }
    return c;
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

RunSummary run_sweep(const Spec& spec, Database& db, const RunSettings& s, std::ostream& err) {
    check_names(spec);
    const auto [version, commit] = sim_version(s.sim);  // a broken simulator stops us first
    const std::vector<Point> points = shard_points(expand(spec), s.shard);
    db.bind(spec);
    db.add_points(points);
    const std::string host = platform::host_name();

    // One run per database at a time; its scratch files live beside it.
    const fs::path work = db.path() + ".work";
    std::error_code ec;
    fs::create_directories(work, ec);
    if (ec) throw std::runtime_error("cannot create '" + work.string() + "': " + ec.message());
    const int lock = ::open((work / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
        if (lock >= 0) ::close(lock);
        throw std::runtime_error("another sweep is running on '" + db.path() + "' (lock " +
                                 (work / "lock").string() + ")");
    }
    struct Unlock {
        int fd;
        ~Unlock() { ::close(fd); }
    } unlock{lock};
    for (const auto& e : fs::directory_iterator(work, ec))
        if (e.path().filename() != "lock") fs::remove(e.path(), ec);

    RunSummary sum;
    sum.points = points.size();
    const auto status = db.statuses();
    std::vector<const Point*> todo;
    for (const Point& p : points) {
        const std::string& st = status.at(p.key);
        if (st == kPending || (s.retry_failed && st == kFailed))
            todo.push_back(&p);
        else
            sum.finished_before++;
    }

    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    const bool tty = isatty(STDERR_FILENO);
    double last_print = -1e9;
    std::size_t done = 0;
    auto progress = [&](bool final) {
        if (s.quiet) return;
        const double t = elapsed();
        if (!final && t - last_print < (tty ? 0.2 : 10.0)) return;
        last_print = t;
        std::ostringstream os;
        os << "sweep '" << spec.name << "': " << (sum.finished_before + done) << "/" << sum.points
           << " points done (this run: ok " << sum.ok << ", failed " << sum.failed
           << ", does not fit " << sum.does_not_fit << ")";
        if (done > 0 && t > 0) {
            const double rate = double(done) / t;
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.2f", rate);
            os << ", " << buf << " points/s";
            if (todo.size() > done)
                os << ", about " << format_seconds(double(todo.size() - done) / rate) << " left";
        }
        if (tty)
            err << "\r" << os.str() << "\033[K" << (final ? "\n" : "") << std::flush;
        else
            err << os.str() << "\n" << std::flush;
    };
    auto finish = [&](const Point& p, PointResult r) {
        r.version = version;
        r.commit = commit;
        r.host = host;
        db.record(p.key, r);
        done++;
        if (r.status == kOk) sum.ok++;
        if (r.status == kFailed) sum.failed++;
        if (r.status == kDoesNotFit) sum.does_not_fit++;
        progress(false);
    };

    struct Running {
        pid_t pid;
        const Point* p;
        std::string stats, errf, config, settings;
        std::chrono::steady_clock::time_point start;
        bool timed_out = false;
    };
    std::vector<Running> running;
    std::size_t next = 0;
    const StopSignals signals;
    const pid_t parent = getpid();
    while (!g_stop && (next < todo.size() || !running.empty())) {
        // Start points while a worker is free; points refused by the checks end here at once.
        while (!g_stop && next < todo.size() && running.size() < s.workers) {
            const Point& p = *todo[next++];
            Checked c = check_point(spec, p);
            if (!c.status.empty()) {
                PointResult r;
                r.status = c.status;
                r.message = c.message;
                r.config = c.config;
                r.settings = c.settings;
                finish(p, r);
                continue;
            }
            Running run{0,
                        &p,
                        (work / ("point-" + std::to_string(p.index) + ".json")).string(),
                        (work / ("point-" + std::to_string(p.index) + ".err")).string(),
                        c.config,
                        c.settings,
                        std::chrono::steady_clock::now(),
                        false};
            std::vector<std::string> args{s.sim};
            for (auto& o : sim_options(p)) args.push_back(o);
            args.push_back("--stats=" + run.stats);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            const pid_t pid = fork();
            if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
            if (pid == 0) {
                // The worker dies with the sweep, and the terminal's ^C goes to the sweep alone.
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent) _exit(127);
                setpgid(0, 0);
                const int out = ::open("/dev/null", O_WRONLY);
                const int e = ::open(run.errf.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
                if (out < 0 || e < 0) _exit(127);
                dup2(out, STDOUT_FILENO);
                dup2(e, STDERR_FILENO);
                execv(argv[0], argv.data());
                const char msg[] = "sprint-sweep: cannot execute the simulator\n";
                (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
                _exit(127);
            }
            run.pid = pid;
            running.push_back(run);
        }
        if (running.empty()) continue;
        int wst = 0;
        // With a time limit the workers are polled, and one past it is killed.
        const pid_t pid = waitpid(-1, &wst, s.timeout > 0 ? WNOHANG : 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
        }
        if (pid == 0) {
            const auto now = std::chrono::steady_clock::now();
            for (Running& r : running)
                if (!r.timed_out &&
                    std::chrono::duration<double>(now - r.start).count() > s.timeout) {
                    r.timed_out = true;
                    kill(r.pid, SIGKILL);
                }
            usleep(20000);
            continue;
        }
        auto it = running.begin();
        while (it != running.end() && it->pid != pid) ++it;
        if (it == running.end()) continue;
        const Running r = *it;
        running.erase(it);
        PointResult res;
        res.config = r.config;
        res.settings = r.settings;
        res.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - r.start).count();
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
            if (r.timed_out)
                res.message =
                    "timed out: killed after the --timeout of " + Value::of(s.timeout).text + " s";
            else if (WIFEXITED(wst))
                res.message = "sprint-sim exited with status " + std::to_string(WEXITSTATUS(wst));
            else
                res.message = "sprint-sim was killed by signal " + std::to_string(WTERMSIG(wst));
            if (!errtext.empty()) res.message += ": " + errtext;
            // A job that ran but failed its checks still wrote its figures.
            try {
                res.figures = extract_figures(nlohmann::json::parse(read_file(r.stats)));
            } catch (const std::exception&) {
            }
        }
        fs::remove(r.stats, ec);
        fs::remove(r.errf, ec);
        if (g_stop && res.status == kFailed) break;  // stopped under it: stays pending
        finish(*r.p, res);
    }
    if (g_stop) {
        sum.interrupted = true;
        for (const Running& r : running) kill(r.pid, SIGTERM);
        for (const Running& r : running) {
            int wst;
            while (waitpid(r.pid, &wst, 0) < 0 && errno == EINTR) {
            }
            fs::remove(r.stats, ec);
            fs::remove(r.errf, ec);
        }
    }
    progress(true);
    sum.ran = done;
    const auto after = db.statuses();
    for (const Point& p : points)
        if (after.at(p.key) == kPending) sum.pending++;
    return sum;
}

}  // namespace sprint::sweep

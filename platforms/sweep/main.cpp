// sprint-sweep: design-space sweeps of sprint-sim (docs/sweeps.md). A YAML spec names the
// workloads, the options every point shares and the axes; `run` simulates its points in
// parallel worker processes into an SQLite database, resumable; `slurm` runs the same spec as a
// Slurm job array; `report`, `export` and `plot` answer from the database.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "platforms/sim/output_files.h"
#include "platforms/sim/version.h"
#include "platforms/sweep/db.h"
#include "platforms/sweep/report.h"
#include "platforms/sweep/runner.h"
#include "platforms/sweep/slurm.h"
#include "platforms/sweep/spec.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace sprint::sweep;

namespace {

constexpr int kExitOk = 0, kProblem = 1, kBadInput = 2, kInterrupted = 130;

const char* const kUsage = R"(sprint-sweep: design-space sweeps of the SPRINT model (docs/sweeps.md)

Usage:
  sprint-sweep expand SPEC [--list] [--shard I/N]   the points of a spec, checked, not run
  sprint-sweep run SPEC [--db FILE] [--workers N] [--shard I/N] [--retry-failed]
                    [--timeout SECONDS] [--changed rerun|keep] [--quiet]
                                                    run the points the database lacks
  sprint-sweep status [--db FILE | SPEC]            how many points are ok, failed, ...
  sprint-sweep report [--db FILE | SPEC] [--pareto F1,F2[,F3]] [--where EXPR]
                      [--minimise F | --maximise F] [--top K]   (also --minimize, --maximize)
                      [--pooled] [--robust worst|geomean]   answers per workload, all
                                                    together, or one configuration for all
  sprint-sweep export [--db FILE | SPEC] (--csv FILE | --jsonl FILE)   FILE - is stdout
  sprint-sweep plot [--db FILE | SPEC] [--out DIR] [--pareto X,Y] [--where EXPR]   PNG plots
  sprint-sweep config [--db FILE | SPEC] --id N     a point's effective sprint-sim configuration
  sprint-sweep slurm SPEC [--db FILE] [--tasks N] [--cpus-per-task C] [--partition P]
                     [--account A] [--time T] [--sbatch OPTION]... [--submit [--wait]]
  sprint-sweep merge --db FILE PART.db...           collect task databases into one
  sprint-sweep figures                              every figure: name, unit, meaning (Markdown)
  sprint-sweep --version | --help

The database defaults to SPEC's name with .db, in the current directory (sweeps/x.yaml: x.db).
Figures for --pareto, --where, --minimise: cycles, time_us, energy_uj, area_mm2, mass_retained,
output_error, speedup, energy_saving, ... (export --csv lists them all; short forms: time,
latency, energy, area, mass, error, cosine). --where also takes the axes and any option or
parameter of the point, e.g. --where 'mass >= 0.9 and sprint.sram.k_bytes <= 8192'.
Exit status: 0 done, 1 points failed or are left pending, 2 bad input, 130 interrupted.
)";

std::string default_db(const std::string& spec) {
    return fs::path(spec).stem().string() + ".db";
}

// Parses a subcommand's options; positional arguments go to `pos`.
po::variables_map parse(const std::vector<std::string>& args, const po::options_description& d,
                        std::vector<std::string>& pos) {
    po::options_description all = d;
    all.add_options()("positional", po::value<std::vector<std::string>>(), "");
    po::positional_options_description p;
    p.add("positional", -1);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(all).positional(p).run(), vm);
    po::notify(vm);
    if (vm.count("positional")) pos = vm["positional"].as<std::vector<std::string>>();
    return vm;
}

// The database a command reads: --db, or the spec's default, which must exist.
std::string existing_db(const po::variables_map& vm, const std::vector<std::string>& pos) {
    std::string db = vm.count("db") ? vm["db"].as<std::string>() : "";
    if (db.empty() && pos.size() == 1) db = default_db(pos[0]);
    if (db.empty()) throw std::runtime_error("give --db FILE (or the spec)");
    std::error_code ec;
    if (!fs::is_regular_file(db, ec))
        throw std::runtime_error("results database '" + db +
                                 "' does not exist (run the sweep first)");
    return db;
}

std::string find_sim(const po::variables_map& vm) {
    std::string sim = vm.count("sim") ? vm["sim"].as<std::string>() : default_sim();
    if (sim.empty()) throw std::runtime_error("no sprint-sim beside sprint-sweep; give --sim PATH");
    std::error_code ec;
    if (!fs::is_regular_file(sim, ec) || access(sim.c_str(), X_OK) != 0)
        throw std::runtime_error("option '--sim': '" + sim + "' is not an executable file");
    return fs::absolute(sim).string();
}

// Writes `text` to `path` (the file of option `--option`) whole or not at all ("-": standard
// output), by sprint-sim's rules (platforms/sim/output_files.h): a device or FIFO written in place,
// a symbolic link followed, a full disk an error, and never over one of `inputs` (option, path).
void write_whole(const std::string& option, const std::string& path, const std::string& text,
                 const std::vector<std::pair<std::string, std::string>>& inputs = {}) {
    if (path == "-") {
        std::cout << text << std::flush;
        if (!std::cout)
            throw std::runtime_error("option '--" + option +
                                     "': standard output cannot be written");
        return;
    }
    sprint::platform::OutputFiles out;
    for (const auto& [opt, file] : inputs) out.input(opt, file);
    out.claim(option, path);
    out.write(option, text);
    out.commit();
}

int cmd_expand(const std::vector<std::string>& args) {
    po::options_description d;
    d.add_options()("list", po::bool_switch(), "")("shard", po::value<std::string>(), "");
    std::vector<std::string> pos;
    const auto vm = parse(args, d, pos);
    if (pos.size() != 1) throw std::runtime_error("expand takes one spec");
    const Spec spec = load_spec(pos[0]);
    check_names(spec);
    Shard shard;
    if (vm.count("shard")) shard = parse_shard(vm["shard"].as<std::string>());
    const std::vector<Point> points = shard_points(design_points(spec), shard);
    const std::vector<Checked> checks = check_values(spec, points);  // a refused value: exit 2
    std::map<std::string, std::size_t> count;
    for (std::size_t i = 0; i < points.size(); ++i) {
        const Point& p = points[i];
        const Checked& c = checks[i];
        const std::string st = c.status.empty() ? "runnable" : c.status;
        count[st]++;
        if (vm["list"].as<bool>()) {
            std::cout << p.index << " " << st;
            if (spec.workloads.size() > 1) std::cout << " workload=" << p.workload;
            for (const auto& [n, v] : p.axis_values) std::cout << " " << n << "=" << v;
            if (!c.message.empty()) std::cout << "  (" << c.message << ")";
            std::cout << "\n";
        }
    }
    std::cout << "sweep '" << spec.name << "': " << points.size() << " points ("
              << count["runnable"] << " to simulate, " << count[kDoesNotFit] << " do not fit)\n";
    return kExitOk;
}

int cmd_run(const std::vector<std::string>& args) {
    po::options_description d;
    d.add_options()("db", po::value<std::string>(), "")("workers", po::value<unsigned>(), "")(
        "shard", po::value<std::string>(), "")("sim", po::value<std::string>(), "")(
        "retry-failed", po::bool_switch(), "")("quiet", po::bool_switch(), "")(
        "timeout", po::value<double>(), "")("changed", po::value<std::string>(), "");
    std::vector<std::string> pos;
    const auto vm = parse(args, d, pos);
    if (pos.size() != 1) throw std::runtime_error("run takes one spec");
    const Spec spec = load_spec(pos[0]);
    RunSettings s;
    s.sim = find_sim(vm);
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    s.workers =
        vm.count("workers") ? vm["workers"].as<unsigned>() : unsigned(cores > 0 ? cores : 1);
    if (s.workers < 1) throw std::runtime_error("option '--workers' must be at least 1");
    if (vm.count("shard")) s.shard = parse_shard(vm["shard"].as<std::string>());
    s.retry_failed = vm["retry-failed"].as<bool>();
    s.quiet = vm["quiet"].as<bool>();
    if (vm.count("timeout")) {
        s.timeout = vm["timeout"].as<double>();
        if (!(s.timeout > 0))
            throw std::runtime_error("option '--timeout' must be positive seconds");
    }
    if (vm.count("changed")) {
        const std::string c = vm["changed"].as<std::string>();
        if (c != "rerun" && c != "keep")
            throw std::runtime_error("option '--changed': '" + c + "' is not rerun or keep");
        s.on_change = c == "rerun" ? OnChange::Rerun : OnChange::Keep;
    }
    const std::string dbpath = vm.count("db") ? vm["db"].as<std::string>() : default_db(pos[0]);
    // The spec, its values and the simulator are checked before the database file is created.
    check_names(spec);
    const std::vector<Point> points = design_points(spec);
    (void)check_values(spec, points);
    (void)sim_version(s.sim);
    Database db(dbpath);
    const RunSummary r = run_sweep(spec, points, db, s, std::cerr);
    std::cout << "sweep '" << spec.name << "': " << r.points << " points in " << dbpath << "; "
              << r.finished_before << " finished before, this run: ok " << r.ok << ", failed "
              << r.failed << ", does not fit " << r.does_not_fit << "; pending " << r.pending
              << "\n";
    if (r.interrupted) {
        std::cout << "interrupted: what finished is kept; run the same command again to resume\n";
        return kInterrupted;
    }
    return r.failed || r.pending ? kProblem : kExitOk;
}

int cmd_status(const std::vector<std::string>& args) {
    po::options_description d;
    d.add_options()("db", po::value<std::string>(), "");
    std::vector<std::string> pos;
    const auto vm = parse(args, d, pos);
    Database db(existing_db(vm, pos), Access::ReadOnly);
    return report(std::cout, db, Query{}) ? kExitOk : kProblem;
}

int cmd_report(const std::vector<std::string>& args) {
    po::options_description d;
    d.add_options()("db", po::value<std::string>(), "")("pareto", po::value<std::string>(), "")(
        "where", po::value<std::string>(), "")("minimise", po::value<std::string>(), "")(
        "maximise", po::value<std::string>(), "")("minimize", po::value<std::string>(), "")(
        "maximize", po::value<std::string>(), "")("top", po::value<std::size_t>(), "")(
        "pooled", po::bool_switch(), "")("robust", po::value<std::string>(), "");
    std::vector<std::string> pos;
    const auto vm = parse(args, d, pos);
    Query q;
    if (vm.count("pareto")) {
        std::stringstream ss(vm["pareto"].as<std::string>());
        std::string item;
        while (std::getline(ss, item, ',')) q.pareto.push_back(parse_objective(item));
        if (q.pareto.size() < 2 || q.pareto.size() > 3)
            throw std::runtime_error("option '--pareto' takes two or three figures");
    }
    if (vm.count("where")) {
        q.where = vm["where"].as<std::string>();
        (void)Expr(*q.where);  // a syntax error before anything is read
    }
    // British and American spellings alike; one objective.
    std::vector<std::pair<std::string, bool>> asked;
    for (const auto& [opt, max] : {std::pair<const char*, bool>{"minimise", false},
                                   {"minimize", false},
                                   {"maximise", true},
                                   {"maximize", true}})
        if (vm.count(opt)) asked.emplace_back(vm[opt].as<std::string>(), max);
    if (asked.size() > 1) throw std::runtime_error("give one of --minimise or --maximise");
    if (!asked.empty()) {
        q.best = parse_objective(asked[0].first);
        q.best->maximise = asked[0].second;
    }
    if (vm.count("top")) q.top = std::max<std::size_t>(1, vm["top"].as<std::size_t>());
    q.pooled = vm["pooled"].as<bool>();
    if (vm.count("robust")) {
        const std::string r = vm["robust"].as<std::string>();
        if (r != "worst" && r != "geomean")
            throw std::runtime_error("option '--robust': '" + r + "' is not worst or geomean");
        q.robust = r == "worst" ? Robust::Worst : Robust::Geomean;
        if (!q.best)
            throw std::runtime_error("--robust ranks by --minimise F or --maximise F: give one");
    }
    if (q.pareto.empty() && !q.best)
        q.pareto = {parse_objective("time_us"), parse_objective("energy_uj")};
    Database db(existing_db(vm, pos), Access::ReadOnly);
    return report(std::cout, db, q) ? kExitOk : kProblem;
}

int cmd_export(const std::vector<std::string>& args) {
    po::options_description d;
    d.add_options()("db", po::value<std::string>(), "")("csv", po::value<std::string>(), "")(
        "jsonl", po::value<std::string>(), "");
    std::vector<std::string> pos;
    const auto vm = parse(args, d, pos);
    if (!vm.count("csv") && !vm.count("jsonl"))
        throw std::runtime_error("give --csv FILE or --jsonl FILE");
    Database db(existing_db(vm, pos), Access::ReadOnly);
    const auto rows = db.rows();
    const auto axes = db.axis_columns();
    if (vm.count("csv")) {
        std::ostringstream os;
        write_csv(os, axes, rows);
        write_whole("csv", vm["csv"].as<std::string>(), os.str(), {{"db", db.path()}});
    }
    if (vm.count("jsonl")) {
        std::ostringstream os;
        write_jsonl(os, axes, rows);
        write_whole("jsonl", vm["jsonl"].as<std::string>(), os.str(), {{"db", db.path()}});
    }
    return kExitOk;
}

int cmd_config(const std::vector<std::string>& args) {
    po::options_description d;
    d.add_options()("db", po::value<std::string>(), "")("id", po::value<long long>(), "");
    std::vector<std::string> pos;
    const auto vm = parse(args, d, pos);
    if (!vm.count("id")) throw std::runtime_error("give --id N (a point's id, as report shows)");
    Database db(existing_db(vm, pos), Access::ReadOnly);
    for (const Row& r : db.rows())
        if (r.id == vm["id"].as<long long>()) {
            if (r.config.empty())
                throw std::runtime_error("point " + std::to_string(r.id) +
                                         " has no configuration (" + r.status + ")");
            std::cout << r.config;
            return kExitOk;
        }
    throw std::runtime_error("no point has id " + std::to_string(vm["id"].as<long long>()));
}

// Runs a program (looked up in PATH) with these arguments; its exit status.
int run_program(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid;
    if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return 127;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return 127;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

// The plotting script and the dependency installer: installed beside the package's data, or
// in the source tree this binary was built from.
std::string find_data(const std::string& name) {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    for (const fs::path& p : {self.parent_path() / ".." / "share" / "sprint-vp" / name,
                              fs::path(SPRINT_SOURCE_DIR) / "scripts" / name})
        if (fs::is_regular_file(p, ec)) return fs::weakly_canonical(p).string();
    throw std::runtime_error("cannot find " + name + " (installed in share/sprint-vp or in " +
                             std::string(SPRINT_SOURCE_DIR) + "/scripts)");
}

int cmd_plot(const std::vector<std::string>& args) {
    po::options_description d;
    d.add_options()("db", po::value<std::string>(), "")("out", po::value<std::string>(), "")(
        "pareto", po::value<std::string>(), "")("where", po::value<std::string>(), "");
    std::vector<std::string> pos;
    const auto vm = parse(args, d, pos);
    const std::string dbpath = existing_db(vm, pos);
    if (vm.count("where")) (void)Expr(vm["where"].as<std::string>());  // a syntax error first
    const std::string out =
        vm.count("out") ? vm["out"].as<std::string>() : fs::path(dbpath).stem().string() + "-plots";
    const std::string script = find_data("sweep_plot.py");
    // Debian's python3 with python3-matplotlib, installed here when missing.
    const std::string py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    if (run_program({py, "-c", "import matplotlib"}) != 0) {
        std::cerr << "sprint-sweep: plotting needs python3-matplotlib\n";
        if (run_program({"sh", find_data("deps.sh"), "python3", "python3-matplotlib"}) != 0)
            throw std::runtime_error("python3-matplotlib is not installed");
    }
    Database db(dbpath, Access::ReadOnly);
    std::vector<Row> rows = db.rows();
    if (vm.count("where")) {
        rows = rows_where(rows, vm["where"].as<std::string>());
        if (rows.empty())
            throw std::runtime_error("no ok point meets --where " + vm["where"].as<std::string>());
    }
    // One column per axis: an axis that sets several options plots by the first.
    std::vector<Database::AxisColumn> axes;
    for (const auto& c : db.axis_columns())
        if (axes.empty() || axes.back().axis != c.axis) axes.push_back(c);
    std::ostringstream os;
    write_csv(os, axes, rows);
    fs::create_directories(out);
    const std::string csv =
        (fs::path(out) / (".sweep-" + std::to_string(getpid()) + ".csv")).string();
    write_whole("out", csv, os.str());
    std::string axes_arg;
    for (const auto& a : axes) axes_arg += (axes_arg.empty() ? "" : "|") + a.param;
    std::vector<std::string> cmd = {
        py,  script,   csv,      out,       "--axes-sep",
        "|", "--axes", axes_arg, "--title", db.meta("spec_name").value_or("sweep")};
    if (vm.count("pareto")) {
        std::string p;  // short forms (time, energy) become the figures' names
        std::stringstream ss(vm["pareto"].as<std::string>());
        std::string item;
        while (std::getline(ss, item, ',')) {
            const Objective o = parse_objective(item);
            p += (p.empty() ? "" : ",") + std::string(o.maximise ? "max:" : "") + o.name;
        }
        cmd.insert(cmd.end(), {"--pareto", p});
    }
    const int rc = run_program(cmd);
    std::error_code ec;
    fs::remove(csv, ec);
    return rc == 0 ? kExitOk : kProblem;
}

int cmd_slurm(const std::vector<std::string>& args) {
    po::options_description d;
    d.add_options()("db", po::value<std::string>(), "")("tasks", po::value<unsigned>(), "")(
        "cpus-per-task", po::value<unsigned>(), "")("partition", po::value<std::string>(), "")(
        "account", po::value<std::string>(), "")("time", po::value<std::string>(), "")(
        "sbatch", po::value<std::vector<std::string>>(), "")("dir", po::value<std::string>(), "")(
        "sim", po::value<std::string>(), "")("submit", po::bool_switch(), "")(
        "wait", po::bool_switch(), "");
    std::vector<std::string> pos;
    const auto vm = parse(args, d, pos);
    if (pos.size() != 1) throw std::runtime_error("slurm takes one spec");
    const Spec spec = load_spec(pos[0]);
    check_names(spec);
    SlurmSettings s;
    s.spec = fs::absolute(pos[0]).string();
    s.db = fs::absolute(vm.count("db") ? vm["db"].as<std::string>() : default_db(pos[0])).string();
    s.dir = vm.count("dir") ? fs::absolute(vm["dir"].as<std::string>()).string() : s.db + ".slurm";
    std::error_code ec;
    s.sweep_exe = fs::read_symlink("/proc/self/exe", ec).string();
    s.sim = find_sim(vm);
    if (vm.count("tasks")) s.tasks = vm["tasks"].as<unsigned>();
    if (vm.count("cpus-per-task")) s.cpus_per_task = vm["cpus-per-task"].as<unsigned>();
    if (s.tasks < 1 || s.cpus_per_task < 1)
        throw std::runtime_error("--tasks and --cpus-per-task must be at least 1");
    if (vm.count("partition")) s.partition = vm["partition"].as<std::string>();
    if (vm.count("account")) s.account = vm["account"].as<std::string>();
    if (vm.count("time")) s.time_limit = vm["time"].as<std::string>();
    if (vm.count("sbatch")) s.extra = vm["sbatch"].as<std::vector<std::string>>();
    s.job_name = "sprint-sweep-" + spec.name;
    const std::vector<Point> points = design_points(spec);
    (void)check_values(spec, points);
    s.points = points.size();
    if (vm["wait"].as<bool>() && !vm["submit"].as<bool>())
        throw std::runtime_error("--wait needs --submit");
    fs::create_directories(s.dir, ec);
    if (ec) throw std::runtime_error("cannot create '" + s.dir + "': " + ec.message());
    const std::string script = s.dir + "/sweep.sbatch";
    write_whole("dir", script, batch_script(s), {{"spec", pos[0]}});
    fs::permissions(script, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::add, ec);
    std::cout << "wrote " << script << " (" << s.points << " points in " << s.tasks << " tasks)\n";
    if (!vm["submit"].as<bool>()) {
        std::cout << "submit it with: sbatch " << script << "\nthen collect: " << s.sweep_exe
                  << " merge --db " << s.db << " " << s.dir << "/task-*.db\n";
        return kExitOk;
    }
    // The database the results merge into must be this spec's (or new) before anything runs.
    std::optional<Database> db;
    if (vm["wait"].as<bool>()) {
        db.emplace(s.db);
        db->upgrade_keys(settings_key);
        db->bind(spec);
    }
    const std::string job = submit(script);
    std::cout << "submitted job " << job << "\n" << std::flush;
    if (!db) return kExitOk;
    wait_for(job, std::cerr);
    std::size_t merged = 0;
    const auto parts = task_databases(s.dir, s.tasks);
    for (const auto& p : parts) merged += db->merge_from(p);
    db->add_points(points);
    std::size_t pending = 0;
    for (const auto& [k, st] : db->statuses()) pending += st == kPending;
    std::cout << "job " << job << " ended: " << parts.size() << " of " << s.tasks
              << " task databases merged (" << merged << " points) into " << s.db << "; " << pending
              << " points pending" << (pending ? " (see " + s.dir + "/task-*.log)" : "") << "\n";
    return pending ? kProblem : kExitOk;
}

int cmd_figures(const std::vector<std::string>& args) {
    if (!args.empty()) throw std::runtime_error("figures takes no arguments");
    std::cout << figures_markdown();
    return kExitOk;
}

int cmd_merge(const std::vector<std::string>& args) {
    po::options_description d;
    d.add_options()("db", po::value<std::string>(), "");
    std::vector<std::string> pos;
    const auto vm = parse(args, d, pos);
    if (!vm.count("db")) throw std::runtime_error("give --db FILE (the database to merge into)");
    if (pos.empty()) throw std::runtime_error("merge takes the task databases to collect");
    Database db(vm["db"].as<std::string>());
    std::size_t merged = 0;
    for (const auto& p : pos) merged += db.merge_from(p);
    std::cout << "merged " << merged << " points from " << pos.size() << " databases into "
              << db.path() << "\n";
    return kExitOk;
}

}  // namespace

// The SystemC shared library refers to sc_main; sprint-sweep links the platform library (for
// sprint-sim's option parser and fit check) but never starts a kernel: each point's simulation
// is a sprint-sim process of its own.
extern "C" int sc_main(int, char*[]) {
    return kBadInput;
}

int main(int argc, char* argv[]) {
    const std::vector<std::string> all(argv + 1, argv + argc);
    if (all.empty() || all[0] == "--help" || all[0] == "-h" || all[0] == "help") {
        std::cout << kUsage;
        return all.empty() ? kBadInput : kExitOk;
    }
    if (all[0] == "--version") {
        std::cout << "sprint-sweep " << sprint::platform::tool_version() << " (git "
                  << sprint::platform::tool_commit() << ")\n";
        return kExitOk;
    }
    const std::vector<std::string> rest(all.begin() + 1, all.end());
    static const std::map<std::string, int (*)(const std::vector<std::string>&)> commands = {
        {"expand", cmd_expand},  {"run", cmd_run},       {"status", cmd_status},
        {"report", cmd_report},  {"export", cmd_export}, {"plot", cmd_plot},
        {"config", cmd_config},  {"slurm", cmd_slurm},   {"merge", cmd_merge},
        {"figures", cmd_figures}};
    const auto it = commands.find(all[0]);
    if (it == commands.end()) {
        std::cerr << "sprint-sweep: error: unknown command '" << all[0]
                  << "' (sprint-sweep --help lists them)\n";
        return kBadInput;
    }
    try {
        return it->second(rest);
    } catch (const po::error& e) {
        std::cerr << "sprint-sweep " << all[0] << ": error: " << e.what()
                  << " (sprint-sweep --help)\n";
        return kBadInput;
    } catch (const std::exception& e) {
        std::cerr << "sprint-sweep " << all[0] << ": error: " << e.what() << "\n";
        return kBadInput;
    }
}

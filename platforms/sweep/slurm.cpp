#include "platforms/sweep/slurm.h"

#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace sprint::sweep {

namespace {

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Runs a shell command; its standard output and exit status.
std::pair<std::string, int> capture(const std::string& cmd) {
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) throw std::runtime_error("cannot run: " + cmd);
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, f)) out += buf;
    const int rc = pclose(f);
    return {out, WIFEXITED(rc) ? WEXITSTATUS(rc) : 128};
}

}  // namespace

std::string batch_script(const SlurmSettings& s) {
    std::ostringstream os;
    os << "#!/bin/bash\n"
       << "# sprint-sweep on Slurm: sweep spec " << s.spec << "\n"
       << "# " << s.points << " design points in " << s.tasks << " array tasks; task i runs the\n"
       << "# points whose index is i modulo " << s.tasks << " into " << s.dir << "/task-<i>.db.\n"
       << "# Written by `sprint-sweep slurm`; edit the #SBATCH lines for your site freely.\n"
       << "# When every task has ended, collect the results into one database with\n"
       << "#   " << s.sweep_exe << " merge --db " << s.db << " " << s.dir << "/task-*.db\n"
       << "#SBATCH --job-name=" << s.job_name << "\n"
       << "#SBATCH --array=0-" << (s.tasks - 1) << "\n"
       << "#SBATCH --ntasks=1\n"
       << "#SBATCH --cpus-per-task=" << s.cpus_per_task << "\n"
       << "#SBATCH --output=" << s.dir << "/task-%a.log\n";
    if (!s.partition.empty()) os << "#SBATCH --partition=" << s.partition << "\n";
    if (!s.account.empty()) os << "#SBATCH --account=" << s.account << "\n";
    if (!s.time_limit.empty()) os << "#SBATCH --time=" << s.time_limit << "\n";
    for (const auto& e : s.extra) os << "#SBATCH " << e << "\n";
    os << "set -eu\n"
       << "task=${SLURM_ARRAY_TASK_ID:?this script runs as a Slurm array task (sbatch)}\n"
       << "exec " << quote(s.sweep_exe) << " run " << quote(s.spec) << " \\\n"
       << "    --db " << quote(s.dir) << "/task-\"$task\".db \\\n"
       << "    --shard \"$task\"/" << s.tasks << " \\\n"
       << "    --workers \"${SLURM_CPUS_PER_TASK:-1}\" \\\n"
       << "    --sim " << quote(s.sim) << "\n";
    return os.str();
}

std::vector<std::string> task_databases(const std::string& dir, unsigned tasks) {
    std::vector<std::string> out;
    std::error_code ec;
    for (unsigned i = 0; i < tasks; ++i) {
        const std::string p = dir + "/task-" + std::to_string(i) + ".db";
        if (std::filesystem::is_regular_file(p, ec)) out.push_back(p);
    }
    return out;
}

std::string submit(const std::string& script) {
    const auto [out, rc] = capture("sbatch --parsable " + quote(script) + " 2>&1");
    if (rc != 0) throw std::runtime_error("sbatch failed: " + out);
    std::string id = out.substr(0, out.find_first_of(";\n"));
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
        throw std::runtime_error("sbatch printed no job id: " + out);
    return id;
}

void wait_for(const std::string& job, std::ostream& err) {
    auto t0 = std::chrono::steady_clock::now(), last = t0;
    for (;;) {
        const auto [out, rc] = capture("squeue -h -j " + job + " -o %i 2>/dev/null");
        std::size_t left = 0;
        std::istringstream ss(out);
        std::string line;
        while (std::getline(ss, line))
            if (!line.empty()) left++;
        // A job that has ended leaves the queue (squeue prints nothing, or refuses the id).
        if (rc != 0 || left == 0) return;
        const auto now = std::chrono::steady_clock::now();
        if (now - last > std::chrono::seconds(10)) {
            last = now;
            err << "sprint-sweep: job " << job << ": " << left << " array tasks queued or running ("
                << std::chrono::duration_cast<std::chrono::seconds>(now - t0).count() << " s)\n";
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
}

}  // namespace sprint::sweep

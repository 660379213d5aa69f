// The same sweep as a Slurm job array: a batch script (plain bash with #SBATCH lines, meant to be
// read and edited) whose task i runs `sprint-sweep run --shard i/N` into a database of its own;
// `sprint-sweep merge` collects the task databases into one. Optionally submits with sbatch,
// waits by polling squeue and merges.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace sprint::sweep {

struct SlurmSettings {
    std::string spec, db, dir;   // the spec, the merged database, the job's directory
    std::string sweep_exe, sim;  // absolute paths the tasks run
    unsigned tasks = 4, cpus_per_task = 1;
    std::string partition, account, time_limit, job_name;
    std::vector<std::string> extra;  // more #SBATCH options, as given
    std::size_t points = 0;          // for the script's header comment
};

// The batch script's text.
std::string batch_script(const SlurmSettings& s);
// The task databases in `dir`, in task order (those that exist).
std::vector<std::string> task_databases(const std::string& dir, unsigned tasks);
// Runs sbatch on the script; returns the job id. Throws with sbatch's message.
std::string submit(const std::string& script);
// Polls squeue until the job has left the queue (progress on `err` every ~10 s).
void wait_for(const std::string& job, std::ostream& err);

}  // namespace sprint::sweep

// Internal to sprint-sim's report, shared by its files: the evaluation of the jobs
// (report_evaluate.cpp), their lower bounds (report_bounds.cpp), the energy lines
// (report_energy.cpp), the summary text (report_summary.cpp) and the --stats document
// (report_stats.cpp). Nothing else includes it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "platforms/sim/simulation.h"

namespace sprint::platform::report {

using nlohmann::json;

// A statistic of the --stats document: value, unit and description.
json v(const json& x, const char* unit, const char* desc);
// The statistic at `path` in a stats tree, or null.
const json* stat(const json& j, const std::vector<std::string>& path);
// Its value as a number (0 when it is missing or not a number).
double num(const json& j, const std::vector<std::string>& path);
// 1234567 -> "1,234,567"; x with `prec` decimals.
std::string fmt_int(uint64_t x);
std::string fmt(double x, int prec);
// A ratio that reads right either way: "8.40x lower" when `r` >= 1, "1.15x higher" (1 / r) below;
// a speed ratio as "speed-up 5.23x" or "slow-down 1.20x".
std::string ratio(double r, const char* at_least_one, const char* below_one);
std::string speed_words(double r);
// Peak resident memory of the process.
long peak_rss_mib();

// The engines the summary and the stats file report: each with its busy time and, for the
// pipeline stages, its stall time (ns), read from a job's counter deltas.
struct EngineRow {
    std::string label, key;
    std::function<double(const json&, const json&)> busy, stall;
};

std::vector<EngineRow> engine_rows(uint32_t units, uint32_t channels);

// A text table: a name column then one column per job.
using Table = std::vector<std::vector<std::string>>;

// Lower bounds on a job's cycles (report_bounds.cpp, Bounds in simulation.h).
Bounds job_bounds(const JobRun& r, const PlatformConfig& c);

// A job's counts for the cost model (its statistics' deltas); with `unit` >= 0 that compute
// unit's, with `head` >= 0 that head's (the per_head split: dynamic events only, leakage and area
// are the job's) (report_energy.cpp).
core::CostCounts job_counts(const JobRun& r, const PlatformConfig& c, int d, int unit = -1,
                            int head = -1);
// Energy per block (dynamic and leakage together), one column per job, in uJ: the summary's.
Table energy_table(const std::vector<JobReport>& reps);
// The job's energy in --stats.
json energy_json(const JobReport& rep);

}  // namespace sprint::platform::report

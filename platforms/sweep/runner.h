// Running a sweep's points: each point is checked in this process first (its options parsed by
// sprint-sim's own parser, the spec's constraints, the model's fit check), then simulated by a
// sprint-sim worker process of its own; results go to the database as each point ends.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "platforms/sweep/db.h"
#include "platforms/sweep/spec.h"

namespace sprint::sweep {

// A point as checked before any simulation: runnable (status empty), does not fit, or failed
// (an option value sprint-sim refuses), with the reason and the effective configuration: as
// --dump-config writes it, and every option's and parameter's value by name (JSON object).
struct Checked {
    std::string status, message, config, settings;
};
Checked check_point(const Spec& spec, const Point& p);

// Checks the spec against sprint-sim's option names (each option, axis and constraint name);
// throws std::runtime_error naming the first unknown one, with the nearest known names, and
// refuses a constraint that names a result figure (those filter results: report --where).
void check_names(const Spec& spec);

// A point's identity in a database: its effective settings (every option and parameter after
// presets and workload presets, as sprint-sim parses them), one sorted name=value line each. Two
// specs that give a point the same settings (a default written out, an axis extended) give it
// the same key. Options sprint-sim refuses keep their own key (options_key).
std::string settings_key(const Options& options);
// The spec's design points keyed by their effective settings; points with equal settings are
// one point (the first), and the indices (which shards use) count the points that remain.
std::vector<Point> design_points(const Spec& spec);
// Every point checked as check_point does; throws std::runtime_error when sprint-sim refuses a
// value of any (an unknown workload or preset, a value out of range), naming the points' axis
// values and sprint-sim's reasons, so a bad spec is refused before anything runs. Returns the
// checks in the points' order.
std::vector<Checked> check_values(const Spec& spec, const std::vector<Point>& points);

// The sprint-sim command-line options of a point (--name=value, in order).
std::vector<std::string> sim_options(const Point& p);

// The seconds a run has left: each waiting point costs the mean seconds of its workload's ok
// points so far (`cost`: workload -> total seconds, count), or of every workload's while its own
// has none; a running point its mean less the seconds it has run; the work is shared by the
// workers busy. -1 when nothing has been timed yet.
double estimate_seconds_left(const std::map<std::string, std::pair<double, std::size_t>>& cost,
                             const std::vector<std::string>& waiting,
                             const std::vector<std::pair<std::string, double>>& running,
                             unsigned workers);

// Shard i of n: the points whose expansion index is i modulo n (a Slurm array task's share).
struct Shard {
    uint64_t index = 0, count = 1;
};
Shard parse_shard(const std::string& text);  // "i/n"; throws on a malformed one
std::vector<Point> shard_points(const std::vector<Point>& all, Shard s);

// What a run does with finished points that another sprint-sim (version or commit) ran: ask
// (refuse, saying so), run them again, or keep their results.
enum class OnChange { Ask, Rerun, Keep };

struct RunSettings {
    std::string sim;  // the sprint-sim executable
    unsigned workers = 1;
    Shard shard;
    bool retry_failed = false;
    bool quiet = false;  // no progress lines
    double timeout = 0;  // seconds a point may run before it is killed and failed; 0 = no limit
    OnChange on_change = OnChange::Ask;
};

struct RunSummary {
    std::size_t points = 0, finished_before = 0, ran = 0, ok = 0, failed = 0, does_not_fit = 0,
                pending = 0;
    bool interrupted = false;
};

// Runs the points `all` of `spec` (design_points, of the shard) that the database does not hold
// finished; progress on `err`. Finished points that another sprint-sim ran are handled as
// `on_change` says (Ask: throws, naming them and the choices). SIGINT, SIGTERM and SIGHUP stop the
// workers and return with interrupted set (what finished is kept; running points stay pending).
RunSummary run_sweep(const Spec& spec, const std::vector<Point>& all, Database& db,
                     const RunSettings& s, std::ostream& err);

// The sprint-sim next to this executable, or "" when there is none.
std::string default_sim();
// "version (git commit)" as `sim --version` prints it, split; throws when sim does not run.
std::pair<std::string, std::string> sim_version(const std::string& sim);

}  // namespace sprint::sweep

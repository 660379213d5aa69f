// A sweep spec (YAML, docs/sweeps.md): the workloads, the options every point shares, the axes
// and how they are sampled, and the constraints a point must meet. expand() turns it into the
// list of design points, the same list every time (random and Latin-hypercube sampling are
// seeded), so a resumed sweep or a Slurm task finds the same points by their keys.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "platforms/sweep/expr.h"

namespace sprint::sweep {

// The most design points a spec may expand to (workloads x grid points, or workloads x samples),
// and the most values its axes may hold together. A larger spec is refused when it is read,
// before anything is expanded (docs/sweeps.md): a million points is already months of simulation
// and about a gigabyte of keys, and three axes of 1,000 values would be a billion.
inline constexpr uint64_t kMaxPoints = 1000000;
// The most memory the expanded points may take, estimated from the options and values each point
// gets before anything is expanded: a point that sets hundreds of linked options, or options with
// long values, costs what hundreds of ordinary points do (a million points of ten options take
// about 1.3 GB).
inline constexpr uint64_t kMaxExpansionBytes = uint64_t(2) << 30;

// sprint-sim options in order, each once (a later setting of a name replaces the earlier one).
using Options = std::vector<std::pair<std::string, std::string>>;
void set_option(Options& opts, const std::string& name, const std::string& value);

struct Axis {
    std::string name;                 // as written in the spec: "a" or "a, b" (one value, both)
    std::vector<std::string> params;  // the option names it sets
    std::vector<std::string> values;  // discrete values (lists, stepped and counted ranges)
    // A range without step or count (random and Latin-hypercube sampling only).
    bool continuous = false, log = false, integer = false;
    double from = 0, to = 0;
};

struct Workload {
    std::string name;
    Options options;
};

enum class Sampling { Grid, Random, Lhs };

struct Spec {
    std::string name, description;
    std::string text;  // the file as read (stored with the results)
    std::vector<Workload> workloads;
    Options base;
    std::vector<Axis> axes;
    Sampling sampling = Sampling::Grid;
    uint64_t samples = 0, seed = 1;
    std::vector<Expr> constraints;
};

// Reads and checks a spec (at most kMaxPoints points and axis values, kMaxExpansionBytes);
// relative file names in option values (config, q, k, v, tech, calibrate-q, calibrate-k) are
// taken relative to the spec's directory. Throws std::runtime_error naming the file and what is
// wrong.
Spec load_spec(const std::string& path);
// The same from text; `dir` resolves relative file names.
Spec parse_spec(const std::string& text, const std::string& origin, const std::string& dir);

struct Point {
    std::size_t index = 0;  // position in the expansion
    std::string workload;
    Options axis_values;  // axis name -> value
    Options options;      // every sprint-sim option of the point: base, workload, then axes
    std::string key;      // canonical form of `options`: the point's identity in a database
};

// How many points expand() makes before duplicates are dropped, counted without expanding
// (UINT64_MAX when the count does not fit in 64 bits).
uint64_t point_count(const Spec& spec);
// The memory expand() would take, in bytes, estimated without expanding (the estimate that
// kMaxExpansionBytes bounds).
uint64_t expansion_bytes(const Spec& spec);

// The design points of the spec: grid = every workload x the Cartesian product of the axes;
// random and lhs = `samples` points per workload (duplicates of a discrete draw dropped).
// Throws std::runtime_error when the spec is beyond kMaxPoints or kMaxExpansionBytes.
std::vector<Point> expand(const Spec& spec);

// The canonical key of a set of options (sorted name=value lines).
std::string options_key(const Options& opts);

}  // namespace sprint::sweep

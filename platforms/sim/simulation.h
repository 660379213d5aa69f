// The parts of sprint-sim, run in order by platforms/sim/simulator.cpp: the inputs and the jobs
// planned from the options (sim_inputs.cpp), the jobs as simulated, and the report: checks against
// the core's references, fidelity, the summary and the statistics file (report_*.cpp). Internal
// to the simulator.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <iosfwd>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/energy.h"
#include "core/metrics.h"
#include "core/reference.h"
#include "core/types.h"
#include "platforms/components/host.h"
#include "platforms/components/standalone_platform.h"
#include "platforms/sim/cli.h"

namespace sprint::platform {

// ---- inputs (sim_inputs.cpp)
// ---------------------------------------------------------------------

struct Inputs {
    core::Tensor3 q, k, v;
    core::QuantizedWorkload w;  // with the thresholds of the selected mode
    std::string source;
    std::vector<uint32_t> valid;  // synthetic: each head's valid length (empty: N)
    // Each pruning mode of the run calibrates its own thresholds (on the scores it compares).
    std::map<core::Mode, std::vector<float>> thresholds;
    // The head table entries of mode m, and `w` with them (modes that keep every key: any
    // threshold).
    std::vector<core::HeadParams> heads_for(core::Mode m) const;
    core::QuantizedWorkload for_mode(core::Mode m) const;
};

// The modes a run simulates, in order: the selected one, then the baselines --compare asks for
// (the strong dense first).
std::vector<core::Mode> run_modes(const RunOptions& o);

// The workload's shape, known before anything is generated, loaded or calibrated: from the
// options, or from the .npy headers (which must agree with each other and with --heads etc.).
struct Shape {
    int heads = 0, n = 0, d = 0;
};
Shape workload_shape(const RunOptions& o);

// The jobs of a run as the host places them from `base`, one per run_modes entry: the first job's
// tensors, head table and output, then for each baseline its own head table and output (the
// tensors are shared; with K read-back the K low-bit plane for a crossbar of `key_bits`).
// `end_out` gets the first address after all of them.
std::vector<JobDesc> plan_jobs(const RunOptions& o, const Shape& sh, uint64_t base,
                               uint64_t* end_out, int key_bits);

// A configuration the workload does not fit: a job the IP's own rule (check_job) refuses, or
// tensors beyond the platform's memory. A sweep records such a point as "does not fit".
struct DoesNotFit : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Everything about the run that can be refused before any work: the options against the shape
// (std::runtime_error), then every job against the IP's own rule and the platform's memory
// (DoesNotFit), each with the reason; then the host memory the run needs against the machine's
// (std::runtime_error with both figures).
void check_fits(const RunOptions& o, const PlatformConfig& c, const Shape& sh);

// The checks --model makes before it runs, for a sweep point that names a model: the model
// file, the options `args` (sprint-sim's, without argv[0]) against it, and every layer against
// the IP and the memory (DoesNotFit naming every layer that does not fit; std::runtime_error for
// anything else).
void check_model(const std::string& file, const std::vector<std::string>& args);

// The host memory a run of this shape and these modes needs at its peak, estimated before
// anything is allocated (measured figures, in sim_inputs.cpp).
uint64_t host_bytes_needed(const RunOptions& o, const Shape& sh);
// The memory this process may use: the machine's physical memory, or a smaller cgroup limit.
uint64_t machine_bytes();

// The tensors (generated or loaded), quantised, with each head's threshold given or calibrated.
Inputs build_inputs(const RunOptions& o, const core::XbarNumerics& x);
// The same on tensors the caller gives (the Python module's arrays), shaped as `o` says.
Inputs build_inputs(const RunOptions& o, const core::XbarNumerics& x, core::Tensor3 q,
                    core::Tensor3 k, core::Tensor3 v);

// ---- the jobs as simulated ---------------------------------------------------------------------

struct JobRun {
    JobDesc desc;
    JobResult result;
    std::vector<uint8_t> out;
    // Reference (b) for this job: the workload with the job's thresholds, one head's exact keep
    // decisions at a time; the fidelity, accumulated as the IP reports each query's kept set.
    core::QuantizedWorkload exact_w;
    // The core's bit-exact output for this job, computed on a worker thread while the simulation
    // runs (core only, no SystemC): set by run_simulator before sc_start.
    std::shared_future<std::vector<uint8_t>> reference;
    std::vector<std::unique_ptr<core::HeadMasks>> exact_heads;
    std::unique_ptr<core::FidelityStream> fidelity;
    std::vector<Controller::HeadRecord> heads;
    nlohmann::json stats_before, stats_after, dram_before, dram_after;
    // --per-query: the IP's per-query records of this job, when it started, and the per-query
    // tables of every counter before and after it.
    std::vector<Controller::QueryRecord> queries;
    sc_core::sc_time start;
    std::map<std::string, core::QueryTable> tables_before, tables_after;
    uint64_t max_in_flight = 0, dram_max_queued = 0;
    nlohmann::json model() const;  // the IP's statistics during this job
    nlohmann::json dram() const;   // the memory's
};

// ---- the report (report_*.cpp) -----------------------------------------------------------------

// Lower bounds on a job's cycles, each from one resource's work in this job: the datapath units
// (busy time at their lanes), the SRAM ports, the memory's bandwidth (bytes / bandwidth), its
// latency (requests x latency / max_outstanding: Little's law) and the crossbar (programming and
// evaluations). The job cannot be shorter than the largest (in AT; LT gives each fetcher command
// its own window of max_outstanding, so at high latency it can undercut the latency bound).
struct Bounds {
    double datapath = 0, sram = 0, memory_bandwidth = 0, memory_latency = 0, crossbar = 0;
    double front = 0;    // the front stage's work: crossbar and comparator bank busy, one query
                         // at a time (its memory waits are the memory bounds')
    std::string limit;   // the largest one's name
    double largest = 0;  // its cycles
};

struct JobReport {
    core::Mode mode;
    const JobRun* run;
    bool verified = false;   // the output was checked against reference (c) (--verify)
    bool bit_exact = false;  // and matched it
    core::FidelityReport fid;
    double new_fetch = 0.0, time_us = 0.0;
    Bounds bounds;
    core::EnergyReport energy;                    // counts x technology table (core/energy.h)
    std::vector<core::EnergyReport> unit_energy;  // each compute unit's share of it
    std::vector<core::EnergyReport> head_energy;  // each head's dynamic energy (no leakage)
    // Dense-equivalent operations of the job: 2 (multiply and add) x d for QK and again for V on
    // every visible (query, key) pair, whatever the mode skipped (docs/energy.md).
    double ops = 0.0;
    double queries = 0.0;                            // query rows the job processed
    double cell_writes = 0.0, endurance_jobs = 0.0;  // crossbar endurance (docs/energy.md)
};

struct Evaluation {
    std::vector<JobReport> reports;
    bool all_exact = true;
    uint64_t scores = 0;  // visible pairs of all jobs
    // Host time of the fidelity references of completed queries, on their own thread beside
    // the simulation (the stream is fed each query's kept set as it completes).
    double reference_seconds = 0.0;
    // Host time before the simulation (options, inputs, calibration, references started,
    // elaboration) and after it until the summary (the references joined and compared).
    double setup_seconds = 0.0, check_seconds = 0.0;
    // Signs that the workload suits the pruning job (the first) badly, or that a job keeping
    // every key is itself far from float attention: in the summary and JSON.
    std::vector<std::string> warnings;
};
// The limits behind the warnings.
// (kWarnMassBelow, the attention mass retained by the kept keys: cli.h, the default rule's too)
constexpr double kWarnErrorAbove = 0.10;  // output relative L2 error vs dense float
// Every job against the core's bit-exact reference and the fidelity references.
// `dense`: reference (a), the dense float attention (filled by the first job's fidelity stream).
Evaluation evaluate(const PlatformConfig& c, const Inputs& in, const core::Tensor3& dense,
                    const std::vector<JobRun>& runs);

void print_summary(std::ostream& out, const RunOptions& o, const PlatformConfig& c,
                   const Inputs& in, const Evaluation& ev, double wall);

// A module's statistic by its path ({"unit_0", "datapath", "qk_macs"}), as a number.
using CountOf = std::function<double(const std::vector<std::string>& path)>;
// What the cost model multiplies (report_energy.cpp): every action's events read through `get`;
// `unit` >= 0: that compute unit's only; `regs`: the memory traffic from the job's byte
// registers (else the fetcher's counts); `structures`: the leaking blocks too, those of the
// design `opt.mode` runs on (the baselines have no crossbar and no comparators); the V unit's
// MACs are priced by the width `opt.softmax` gives them.
core::CostCounts cost_counts(const CountOf& get, const PlatformConfig& c,
                             const core::JobOptions& opt, int d, int unit, const JobResult* regs,
                             bool structures);

// The --per-query table (per_query.cpp): per job one row per query, one per head for the work
// the head did as a whole, one for the job's leakage; its columns sum to the job's statistics.
std::string per_query_csv(const PlatformConfig& c, const Inputs& in, const Evaluation& ev);

// The --stats document.
std::string stats_json(const Arguments& args, const Inputs& in, const Evaluation& ev, double wall,
                       const StandalonePlatform& p, const std::vector<std::string>& violations);

}  // namespace sprint::platform

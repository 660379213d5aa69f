// The parts of a sprint-sim run that a model run (--model, model_run.cpp) shares with a
// single-workload run (simulator.cpp): the host script that runs a workload's planned jobs, the
// references started beside the simulation and the fidelity thread, the checks after it.
// Internal to the simulator.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "platforms/sim/output_files.h"
#include "platforms/sim/simulation.h"

namespace sprint::platform {

// The fidelity references on a thread of their own: the simulation hands each completed query's
// kept set over (a bounded queue: at most kMaxQueued sets wait, so memory stays O(N)) and goes
// on; the worker feeds the job's stream. finish() waits for the queue to drain.
class FidelityWorker {
  public:
    FidelityWorker() : m_thread([this] { loop(); }) {}
    ~FidelityWorker() { stop(); }
    FidelityWorker(const FidelityWorker&) = delete;
    FidelityWorker& operator=(const FidelityWorker&) = delete;

    // Queries are handed over in batches of kBatch (a lock and a wake-up per batch, not per
    // query); finish() hands over the rest.
    void push(core::FidelityStream* s, uint32_t h, uint32_t i, const std::vector<uint32_t>& kept) {
        m_pending.push_back({s, h, i, kept});
        if (m_pending.size() >= kBatch) hand_over();
    }
    // Every set handed over processed; the host time the references took. Throws what the
    // worker caught.
    double finish() {
        hand_over();
        stop();
        if (!m_error.empty()) throw std::runtime_error("fidelity references: " + m_error);
        return m_seconds;
    }

  private:
    static constexpr std::size_t kBatch = 64, kMaxQueued = 8;  // batches waiting
    struct Item {
        core::FidelityStream* stream;
        uint32_t h, i;
        std::vector<uint32_t> kept;
    };
    using Batch = std::vector<Item>;
    void hand_over() {
        if (m_pending.empty()) return;
        bool was_empty;
        {
            std::unique_lock<std::mutex> lk(m_mu);
            m_space.wait(lk, [this] { return m_queue.size() < kMaxQueued; });
            was_empty = m_queue.empty();
            m_queue.push_back(std::move(m_pending));
        }
        m_pending = Batch();
        if (was_empty) m_ready.notify_one();  // the worker waits only on an empty queue
    }
    void stop() {
        {
            std::lock_guard<std::mutex> lk(m_mu);
            m_done = true;
        }
        m_ready.notify_one();
        if (m_thread.joinable()) m_thread.join();
    }
    void loop() {
        for (;;) {
            Batch batch;
            {
                std::unique_lock<std::mutex> lk(m_mu);
                m_ready.wait(lk, [this] { return m_done || !m_queue.empty(); });
                if (m_queue.empty()) return;  // done and drained
                batch = std::move(m_queue.front());
                m_queue.pop_front();
            }
            m_space.notify_one();
            if (!m_error.empty()) continue;  // after a failure: drain only
            const auto c0 = std::chrono::steady_clock::now();
            try {
                for (Item& it : batch) {
                    if (!std::is_sorted(it.kept.begin(), it.kept.end()))
                        std::sort(it.kept.begin(), it.kept.end());
                    it.stream->add(it.h, it.i, it.kept.data(), it.kept.size());
                }
            } catch (const std::exception& e) {
                m_error = e.what();
            }
            m_seconds +=
                std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
        }
    }
    Batch m_pending;  // the simulation thread's own
    std::mutex m_mu;
    std::condition_variable m_ready, m_space;
    std::deque<Batch> m_queue;
    bool m_done = false;
    double m_seconds = 0.0;  // the worker's own
    std::string m_error;     // the worker's own until joined
    std::thread m_thread;    // last: starts once the members above exist
};

void set_verbosity(const std::string& level);
// --vcd NAME.fst: FST, converted from the VCD by GTKWave's vcd2fst.
bool is_fst(const std::string& path);
// The job's references (b) and its fidelity stream; with `dense`, reference (a) written there.
void start_fidelity(JobRun& r, const Inputs& in, const PlatformConfig& c, core::Tensor3* dense,
                    bool accuracy);
// The host's script for one workload: its tensors placed at `base`, then each planned job run
// and observed (`current` is the job running); stops at the first job that fails.
void run_jobs(Host& host, StandalonePlatform& plat, const Inputs& in,
              const std::vector<JobDesc>& plan, std::vector<JobRun>& runs, std::size_t& current,
              uint64_t base, const PlatformConfig& c, core::Tensor3* dense, bool fidelity,
              bool per_query);
// Each job's workload with its thresholds and its bit-exact reference, started on worker
// threads; `fidelity` (if empty) gets the fidelity references' thread.
void start_references(const RunOptions& o, const Inputs& in, const IpConfig& ip,
                      const std::vector<JobDesc>& plan, std::vector<JobRun>& runs,
                      std::optional<FidelityWorker>& fidelity);
// The --vcd file opened (through its relay, with the run named in its comment), bounded by
// --vcd-window and --vcd-heads.
void open_vcd(StandalonePlatform& p, OutputFiles& outputs, const RunOptions& o);
// The status of the simulated jobs; an error message for the first that did not complete.
bool jobs_ok(const std::vector<JobRun>& runs, std::ostream& err);

// --model FILE (or --model=FILE) among the arguments: the file; else "".
std::string model_option(int argc, const char* const argv[]);
// sprint-sim --model FILE: every layer of the model in one process (model_run.cpp).
int run_model(const std::string& file, int argc, const char* const argv[], std::ostream& out,
              std::ostream& err);

}  // namespace sprint::platform

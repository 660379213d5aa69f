// SprintIp: the SPRINT accelerator as one TLM-2.0 IP. External ports only:
//   csr  - base-protocol target socket, 32-bit registers (tlm_interfaces/register_map.h)
//   mem  - base-protocol initiator socket: every main-memory access of the IP
//   irq  - sc_out<bool>, level, raised on job completion or error when enabled
// Inside: Controller, CrossbarArray, ComparatorBank, Fetcher and IpConfig::units ComputeUnits
// (each a SramBuffer and a Datapath), every block its own sc_module joined only by TLM sockets.
// The crossbar, comparators, controller and fetcher serve every unit. Counts: see each block;
// stats() is the whole tree (units as unit_0, unit_1, ...).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>

#include "core/stats.h"
#include "modules/comparator_bank.h"
#include "modules/compute_unit.h"
#include "modules/controller.h"
#include "modules/crossbar_array.h"
#include "modules/fetcher.h"
#include "tlm_interfaces/ip_config.h"
#include "tlm_interfaces/protocol_checker.h"
#include "waveforms/trace_scheduler.h"

namespace sprint {

class SprintIp : public sc_core::sc_module {
  public:
    tlm::tlm_target_socket<32> csr;
    tlm::tlm_initiator_socket<32> mem;
    sc_core::sc_out<bool> irq;

    // The configuration is copied; it must pass IpConfig::validate().
    SprintIp(const sc_core::sc_module_name& name, const IpConfig& cfg);

    const IpConfig& config() const { return m_cfg; }
    // Every block's statistics under its instance name ("fetcher.max_in_flight").
    const core::StatGroup& stats() const { return m_stats; }
    // Start a new observation window for the peak statistics of a job about to start (the
    // fetcher's requests in flight; the score buffers', SRAM buffers' and comparator latches'
    // peaks from zero, as the job flushes them).
    void reset_peaks() {
        fetcher.reset_peaks();
        comparators.reset_peaks();
        for (auto& u : units) {
            u.sram.reset_peaks();
            u.datapath.reset_peaks();
        }
    }
    // Observation hooks (not model links): the keys each query used after all pruning, and the
    // per-head records of the last job.
    void set_kept_observer(Controller::KeptObserver f) {
        controller.set_kept_observer(std::move(f));
    }
    const std::vector<Controller::HeadRecord>& head_log() const { return controller.head_log(); }
    void record_queries(bool on) { controller.record_queries(on); }
    const std::vector<Controller::QueryRecord>& query_log() const { return controller.query_log(); }
    sc_core::sc_time job_start() const { return controller.job_start(); }
    // Waveforms: schedule architectural-state changes at their annotated times and add every
    // traced signal of the IP to `tf` (busy per module, controller state/head/query, kept count,
    // SRAM occupancy, outstanding memory requests; per unit, unit_<i>.sram/datapath and each
    // stage's state, query marker and queries held, unit_<i>.<stage>.state/query/in_flight).
    void trace(sc_core::sc_trace_file* tf);
    // With IpConfig::check_protocol: the checkers on the internal links and on mem.
    const std::vector<std::unique_ptr<ProtocolChecker>>& checkers() const { return m_checkers; }
    std::vector<std::string> protocol_violations() const;

  private:
    const IpConfig m_cfg;

  public:
    TraceScheduler tracer;
    Controller controller;
    CrossbarArray xbar;
    ComparatorBank comparators;
    Fetcher fetcher;
    sc_core::sc_vector<ComputeUnit> units;

  private:
    template <class Port, class Target>
    void link(Port& from, Target& to, const std::string& name);
    std::vector<std::unique_ptr<ProtocolChecker>> m_checkers;
    core::StatGroup m_stats;
};

}  // namespace sprint

// Controller: the IP's register file (on `csr`), job sequencing and the level interrupt, with the
// job pipeline that runs a job (modules/controller/pipeline.h: front, fetch K, fetch V and compute
// stages joined by bounded queues).
// Sockets: csr (target, b_transport; nb_transport through the socket's conversion), to_xbar,
// to_comparators (the keep-mask read-out), to_fetcher, and per compute unit to_datapath[u],
// to_sram[u] (initiator ports; to_sram reserves room in that unit's buffers); irq (sc_out<bool>).
// Counts: jobs (ok / failed), register accesses, job cycles; the pipeline adds heads, queries,
// kept and visible pairs and per-stage busy and stall time; the last job's cycles and bytes are
// also in registers.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "core/stats.h"
#include "modules/common/ports.h"
#include "modules/common/register_file.h"
#include "modules/controller/pipeline.h"
#include "tlm_interfaces/ip_config.h"
#include "tlm_interfaces/register_map.h"
#include "waveforms/trace_scheduler.h"

namespace sprint {

class Controller : public sc_core::sc_module {
  public:
    tlm_utils::simple_target_socket<Controller> csr;
    InitiatorPort to_xbar;
    InitiatorPort to_comparators;  // the keep-mask read-out
    InitiatorPort to_fetcher;
    sc_core::sc_vector<InitiatorPort> to_datapath;  // one per compute unit
    sc_core::sc_vector<InitiatorPort> to_sram;
    sc_core::sc_out<bool> irq;
    // Waveforms (the codes: waveforms/filters/*.txt). state: ControllerState; head, query: what
    // the front stage reads and scores; front_state and, per unit, the state (StageState), query
    // marker and queries held (waveforms/query_marker.h) of each stage:
    // stage_state/stage_query/stage_in_flight[4 u + k], k = 0 fetch_k, 1 fetch_v, 2 compute,
    // 3 write-back. job: jobs started since reset (the job marker), mode: its mode
    // (core::Mode + 1; 0 before the first job).
    sc_core::sc_signal<uint32_t> state;
    sc_core::sc_signal<uint32_t> head, query;
    sc_core::sc_signal<bool> busy;
    sc_core::sc_signal<uint32_t> job, mode, front_state;
    sc_core::sc_vector<sc_core::sc_signal<uint32_t>> stage_state, stage_query, stage_in_flight;

    Controller(const sc_core::sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer);
    const core::StatGroup& stats() const { return m_stats; }

    // Observation hook (not a model link): the keys each query used, after all pruning.
    using KeptObserver = Pipeline::KeptObserver;
    void set_kept_observer(KeptObserver f) { m_pipeline.set_kept_observer(std::move(f)); }
    // Per-head records of the last job.
    using HeadRecord = Pipeline::HeadRecord;
    const std::vector<HeadRecord>& head_log() const { return m_pipeline.head_log(); }
    // Per-query records of the last job (off by default: they take memory per query).
    using QueryRecord = Pipeline::QueryRecord;
    void record_queries(bool on) { m_pipeline.record_queries(on); }
    const std::vector<QueryRecord>& query_log() const { return m_pipeline.query_log(); }
    sc_core::sc_time job_start() const { return m_pipeline.job_start(); }

  private:
    // Register front: the csr socket and the registers' callbacks.
    void csr_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    unsigned csr_debug(tlm::tlm_generic_payload& gp);
    void on_ctrl_write(uint32_t v, const sc_core::sc_time& delay);
    regs::JobRegs latch_job();
    void update_irq(const sc_core::sc_time& delay);
    void drive_irq();
    void set64(uint32_t lo, uint64_t v);
    uint64_t get64(uint32_t lo);
    // Job sequencer.
    void job_thread();
    void finish_job(regs::ErrorCode err, const sc_core::sc_time& start);

    const IpConfig& m_cfg;
    sc_core::sc_time m_clock;
    TraceScheduler& m_tracer;
    RegisterFile m_regs;
    regs::JobRegs m_pending;
    bool m_busy = false;
    sc_core::sc_event m_start_ev, m_irq_ev;
    bool m_irq_level = false;
    core::StatGroup m_stats;
    core::Counter m_jobs, m_jobs_failed, m_job_cycles;
    Pipeline m_pipeline;
};

}  // namespace sprint

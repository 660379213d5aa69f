// Controller: the IP's register file (on `csr`), job sequencing (validate, read the head table,
// program the crossbar, run every query through the front end (Q read, crossbar + comparators)
// and the back end (fetch, QK, softmax, V, write-back)), and the level interrupt.
// Sockets: csr (target), to_xbar, to_fetcher, to_datapath (initiators); irq (sc_out<bool>).
// Counts: jobs (ok / failed), heads, queries, kept and visible pairs, register accesses; the
// last job's cycles and memory bytes are also in registers.
//
// Loosely-timed sequencing: one SC_THREAD with a tlm_quantumkeeper. The front end of query i+1 is
// issued at the annotated time the back end of query i starts (the mask buffer is double
// buffered), so crossbar work overlaps datapath work; inside the back end, fetch and compute of a
// chunk are sequential. That is LT's estimate of the pipeline (see docs/timing-lt.md).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "core/stats.h"
#include "core/types.h"
#include "modules/common/register_file.h"
#include "tlm_interfaces/ip_config.h"
#include "tlm_interfaces/register_map.h"
#include "tlm_interfaces/sprint_protocol.h"
#include "waveforms/trace_scheduler.h"

namespace sprint {

class Controller : public sc_core::sc_module {
public:
    tlm_utils::simple_target_socket<Controller> csr;
    tlm_utils::simple_initiator_socket<Controller> to_xbar;
    tlm_utils::simple_initiator_socket<Controller> to_fetcher;
    tlm_utils::simple_initiator_socket<Controller> to_datapath;
    sc_core::sc_out<bool> irq;
    sc_core::sc_signal<uint32_t> state;  // 0 idle, 1 setup, 2 head table, 3 program, 4 queries
    sc_core::sc_signal<uint32_t> head, query;
    sc_core::sc_signal<bool> busy;

    enum State : uint32_t { Idle = 0, Setup = 1, HeadTable = 2, Program = 3, Queries = 4 };

    Controller(const sc_core::sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer);
    const core::StatGroup& stats() const { return m_stats; }

    // Observation hook (not a model link): the keys each query used, after all pruning.
    using KeptObserver = std::function<void(uint32_t head, uint32_t query,
                                            const std::vector<uint32_t>& kept)>;
    void set_kept_observer(KeptObserver f) { m_observer = std::move(f); }

    struct HeadRecord {
        uint32_t head;
        uint64_t cycles, queries, visible, kept, k_fetched, v_fetched;
    };
    // Per-head records of the last job.
    const std::vector<HeadRecord>& head_log() const { return m_heads; }

    uint64_t jobs = 0, jobs_failed = 0, heads_done = 0, queries_done = 0, kept_pairs = 0,
             visible_pairs = 0, job_cycles_total = 0;

private:
    struct Job {
        uint32_t cfg = 0, heads = 0, n = 0, d = 0;
        uint64_t q = 0, k = 0, v = 0, out = 0, table = 0;
        core::JobOptions opt;
    };
    // The query in flight between front end and back end.
    struct Slot {
        std::vector<int8_t> q;
        std::vector<uint8_t> mask;
        std::vector<uint32_t> candidates;
    };

    void csr_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    unsigned csr_debug(tlm::tlm_generic_payload& gp);
    void on_ctrl_write(uint32_t v, const sc_core::sc_time& delay);
    void update_irq(const sc_core::sc_time& delay);
    void drive_irq();
    void job_thread();

    regs::ErrorCode validate(const Job& job) const;
    regs::ErrorCode run_job(const Job& job);
    regs::ErrorCode run_head(const Job& job, uint32_t h, sc_core::sc_time& t);
    regs::ErrorCode front(const Job& job, uint32_t h, const core::HeadParams& hp, uint32_t i,
                          Slot& s, sc_core::sc_time& t);
    regs::ErrorCode back(const Job& job, uint32_t h, const core::HeadParams& hp, uint32_t i,
                         Slot& s, sc_core::sc_time& t);
    void finish_job(regs::ErrorCode err, const sc_core::sc_time& start);

    // Transport helpers: issue at absolute time t, return with t = completion time.
    bool call(tlm_utils::simple_initiator_socket<Controller>& s, tlm::tlm_generic_payload& gp,
              sc_core::sc_time& t);
    regs::ErrorCode mem_transfer(tlm::tlm_command c, uint64_t addr, uint8_t* data, uint32_t len,
                                 sc_core::sc_time& t);
    regs::ErrorCode load_rows(proto::Buffer b, uint32_t h, uint32_t i, uint64_t base, uint32_t d,
                              const uint32_t* tokens, uint32_t n, uint32_t* slots,
                              sc_core::sc_time& t);
    regs::ErrorCode dp(proto::DatapathCommand& c, tlm::tlm_command cmd, uint8_t* data,
                       uint32_t len, sc_core::sc_time& t);
    void set64(uint32_t lo, uint64_t v);
    uint64_t get64(uint32_t lo);
    void trace_state(uint32_t s, const sc_core::sc_time& t);

    const IpConfig& m_cfg;
    sc_core::sc_time m_clock;
    TraceScheduler& m_tracer;
    RegisterFile m_regs;
    Job m_pending;
    bool m_busy = false;
    sc_core::sc_event m_start_ev, m_irq_ev;
    bool m_irq_level = false;
    tlm_utils::tlm_quantumkeeper m_qk;
    KeptObserver m_observer;
    std::vector<HeadRecord> m_heads;
    Slot m_slots[2];
    std::vector<uint32_t> m_chunk_slots, m_kept;
    std::vector<uint8_t> m_buf;
    // Per-job accounting (what this controller asked for and got back).
    uint64_t m_rd_bytes = 0, m_wr_bytes = 0, m_kept_keys = 0, m_k_rows = 0, m_v_rows = 0;
    core::StatGroup m_stats;
};

}  // namespace sprint

// Controller: the IP's register file (on `csr`), job sequencing and the level interrupt.
// Sockets: csr (target, b_transport; nb_transport through the socket's conversion), to_xbar,
// to_fetcher, to_datapath (initiator ports); irq (sc_out<bool>).
// Counts: jobs (ok / failed), heads, queries, kept and visible pairs, register accesses, and per
// pipeline stage its busy and stall time; the last job's cycles and bytes are also in registers.
//
// A job runs as a pipeline of three stages, each an SC_THREAD, joined by bounded queues:
//   front   - per head: read the head-table entry, program the crossbar; per query: read the
//             Q row, evaluate it on the crossbar and comparators (the keep mask);
//   fetch   - make the query's rows resident: LoadRows for every K chunk (fetch_k) and, in a
//             second thread, every V chunk when the kept set is already known (fetch_v), each
//             waiting for SRAM room when the chunks in flight fill its buffer;
//   compute - the datapath: QK per chunk, softmax, V per chunk, the output row written back;
//             every chunk's slots are released after use.
// So the crossbar works on later queries while the datapath works on an earlier one, and the
// next query's rows are fetched while the current one computes, within the SRAM capacity.
// The same code runs both timing modes: in LT every stage keeps its own tlm_quantumkeeper and
// synchronises when it hands work over or waits; in AT the ports make time pass.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "core/stats.h"
#include "core/types.h"
#include "modules/common/ports.h"
#include "modules/common/register_file.h"
#include "tlm_interfaces/ip_config.h"
#include "tlm_interfaces/payload_pool.h"
#include "tlm_interfaces/register_map.h"
#include "tlm_interfaces/sprint_protocol.h"
#include "waveforms/trace_scheduler.h"

namespace sprint {

class Controller : public sc_core::sc_module {
public:
    tlm_utils::simple_target_socket<Controller> csr;
    InitiatorPort to_xbar;
    InitiatorPort to_fetcher;
    InitiatorPort to_datapath;
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

    // Busy and stall time of one pipeline stage (LT: annotated, AT: simulated).
    struct StageStats {
        double busy_ns = 0.0;     // issuing work and waiting for its completion
        double starved_ns = 0.0;  // waiting for input from the previous stage
        double blocked_ns = 0.0;  // waiting for the next stage or for SRAM room
    };
    StageStats front_stats, fetch_k_stats, fetch_v_stats, compute_stats;

    uint64_t jobs = 0, jobs_failed = 0, heads_done = 0, queries_done = 0, kept_pairs = 0,
             visible_pairs = 0, job_cycles_total = 0;

private:
    using Job = regs::JobRegs;
    // A query travelling down the pipeline.
    struct Query {
        uint32_t head = 0, index = 0;
        core::HeadParams hp;
        std::vector<int8_t> q;
        std::vector<uint32_t> candidates;  // keys to score (kept in sprint, visible otherwise)
        std::vector<uint32_t> kept;        // after softmax
        bool last_of_head = false;
    };
    // A unit of work for the compute stage.
    struct Item {
        enum Kind { Begin, KChunk, Softmax, VChunk, End } kind = Begin;
        std::shared_ptr<Query> q;
        uint32_t first = 0, count = 0;  // into candidates (K, V in sprint/dense)
        std::vector<uint32_t> slots;
        Item() = default;
        Item(Kind k, std::shared_ptr<Query> qq, uint32_t f = 0, uint32_t c = 0)
            : kind(k), q(std::move(qq)), first(f), count(c) {}
    };
    // A LoadRows command a fetch stage hands to a loader thread.
    struct Load {
        Item item;
        proto::Buffer buffer = proto::Buffer::K;
        sc_core::sc_time start;
        StageStats* stats = nullptr;
        regs::ErrorCode e = regs::ErrorCode::None;
        bool done = true;
        sc_core::sc_event ev;
    };
    // A bounded queue between two stages.
    template <class T>
    class Channel {
    public:
        explicit Channel(std::size_t cap) : m_cap(cap) {}
        bool put(T v);
        bool get(T& v);
        void close() { m_closed = true; m_ev.notify(sc_core::SC_ZERO_TIME); }
        void abort() { m_aborted = true; m_ev.notify(sc_core::SC_ZERO_TIME); }
        void reset() { m_q.clear(); m_closed = m_aborted = false; }
        bool empty() const { return m_q.empty(); }

    private:
        std::deque<T> m_q;
        std::size_t m_cap;
        bool m_closed = false, m_aborted = false;
        sc_core::sc_event m_ev;
    };
    // Per-stage local time (temporal decoupling) and statistics.
    struct Stage {
        tlm_utils::tlm_quantumkeeper qk;
        StageStats* stats;
        sc_core::sc_time now() const { return sc_core::sc_time_stamp() + qk.get_local_time(); }
    };

    void csr_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    unsigned csr_debug(tlm::tlm_generic_payload& gp);
    void on_ctrl_write(uint32_t v, const sc_core::sc_time& delay);
    void update_irq(const sc_core::sc_time& delay);
    void drive_irq();

    void job_thread();
    // A pipeline stage: for every job, run(stage), then after() (closes its output queues).
    void stage_thread(Stage& s, const std::function<regs::ErrorCode(Stage&)>& run,
                      const std::function<void()>& after);
    void loader_thread();
    void finish_job(regs::ErrorCode err, const sc_core::sc_time& start);
    void fail(regs::ErrorCode e);
    void stage_done(Stage& s);

    regs::ErrorCode run_front(Stage& s);
    regs::ErrorCode run_fetch(Stage& s, proto::Buffer b);
    regs::ErrorCode run_compute(Stage& s);
    regs::ErrorCode front_head(Stage& s, uint32_t h, core::HeadParams& hp);
    regs::ErrorCode front_query(Stage& s, uint32_t h, uint32_t i, Query& q);
    regs::ErrorCode finish_query(Stage& s, Query& q);

    // Transport helpers: a transaction from a stage (its local time annotated in LT).
    bool call(InitiatorPort& port, tlm::tlm_generic_payload& gp, Stage& s);
    regs::ErrorCode mem_transfer(tlm::tlm_command c, uint64_t addr, uint8_t* data, uint32_t len, Stage& s);
    regs::ErrorCode load_rows(proto::Buffer b, const Query& q, const uint32_t* tokens, uint32_t n,
                              uint32_t* slots, Stage& s);
    regs::ErrorCode release_rows(proto::Buffer b, const Query& q, const uint32_t* slots, uint32_t n, Stage& s);
    regs::ErrorCode dp(proto::DatapathCommand& c, tlm::tlm_command cmd, uint8_t* data, uint32_t len, Stage& s);
    // Synchronise, then wait on `ev` until `ready()`, counting the time as `what`.
    void stall(Stage& s, sc_core::sc_event& ev, const std::function<bool()>& ready,
               double StageStats::*what);
    template <class T>
    bool put(Channel<T>& ch, T v, Stage& s);
    template <class T>
    bool get(Channel<T>& ch, T& v, Stage& s);

    void set64(uint32_t lo, uint64_t v);
    uint64_t get64(uint32_t lo);
    void trace_state(uint32_t s, const sc_core::sc_time& t);

    const IpConfig& m_cfg;
    sc_core::sc_time m_clock;
    TraceScheduler& m_tracer;
    RegisterFile m_regs;
    Job m_pending, m_job;
    bool m_busy = false;
    sc_core::sc_event m_start_ev, m_irq_ev, m_go_ev, m_stage_done_ev, m_release_ev, m_load_ev;
    bool m_irq_level = false;
    KeptObserver m_observer;
    std::vector<HeadRecord> m_heads;
    std::vector<sc_core::sc_time> m_head_start;
    std::vector<std::pair<uint64_t, uint64_t>> m_head_rows;  // K, V rows fetched per head
    uint64_t m_releases = 0;
    uint32_t m_reserved[2] = {0, 0};
    std::deque<std::shared_ptr<Load>> m_load_tasks;
    sc_core::sc_event m_load_task_ev;  // SRAM slots of the chunks fetched and not yet released (K, V)
    Channel<std::shared_ptr<Query>> m_queries_k, m_queries_v;
    Channel<Item> m_k_items, m_v_items;
    regs::ErrorCode m_error = regs::ErrorCode::None;
    bool m_abort = false;
    unsigned m_stages_running = 0;
    Stage m_front, m_fetch_k, m_fetch_v, m_compute;
    proto::PayloadPool m_pool;
    // Per-job accounting (what this controller asked for and got back).
    uint64_t m_rd_bytes = 0, m_wr_bytes = 0, m_kept_keys = 0, m_k_rows = 0, m_v_rows = 0;
    core::StatGroup m_stats;
};

}  // namespace sprint

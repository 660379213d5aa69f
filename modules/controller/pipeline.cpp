#include "modules/controller/pipeline.h"

#include "modules/common/timing.h"

namespace sprint {

using namespace sc_core;
using regs::ErrorCode;

Pipeline::Pipeline(const IpConfig& cfg, TraceScheduler& tracer, Ports ports, Signals signals,
                   core::StatGroup& stats)
    : m_cfg(cfg),
      m_clock(cfg.clock_ns, SC_NS),
      m_tracer(tracer),
      m_ports(ports),
      m_sig(signals),
      m_queries_k(cfg.controller.query_queue),
      m_queries_v(cfg.controller.query_queue),
      m_k_items(cfg.controller.chunk_queue),
      m_v_items(cfg.controller.chunk_queue),
      m_outputs(cfg.controller.posted_writes),
      m_heads_done(stats, "heads", "heads", "heads processed"),
      m_queries_done(stats, "queries", "queries", "query rows processed (padding skipped)"),
      m_visible_pairs(stats, "visible_pairs", "pairs", "(query, key) pairs after mask and padding"),
      m_kept_pairs(stats, "kept_pairs", "pairs", "(query, key) pairs kept for exact recompute"),
      m_front_times(stats.group("stage_front", "pipeline stage: front")),
      m_fetch_k_times(stats.group("stage_fetch_k", "pipeline stage: fetch_k")),
      m_fetch_v_times(stats.group("stage_fetch_v", "pipeline stage: fetch_v")),
      m_compute_times(stats.group("stage_compute", "pipeline stage: compute")),
      m_writeback_times(stats.group("stage_writeback", "pipeline stage: write-back")),
      m_loader_group("loader", "loader threads (not reported)"),
      m_loader_times(m_loader_group),
      m_writer_group("writers", "write-back threads after the first (not reported)"),
      m_writer_times(m_writer_group),
      m_front(m_front_times),
      m_fetch_k(m_fetch_k_times),
      m_fetch_v(m_fetch_v_times),
      m_compute(m_compute_times),
      m_writeback(m_writeback_times) {}

void Pipeline::spawn_threads() {
    auto stage = [this](const char* name, Stage& st, std::function<ErrorCode(Stage&)> run,
                        std::function<void()> after) {
        sc_spawn([this, &st, run, after] { stage_thread(st, run, after); }, name);
    };
    stage(
        "front_thread", m_front, [this](Stage& st) { return run_front(st); },
        [this] {
            m_queries_k.close();
            m_queries_v.close();
        });
    stage(
        "fetch_k_thread", m_fetch_k, [this](Stage& st) { return run_fetch(st, proto::Buffer::K); },
        [this] { m_k_items.close(); });
    stage(
        "fetch_v_thread", m_fetch_v, [this](Stage& st) { return run_fetch(st, proto::Buffer::V); },
        [this] { m_v_items.close(); });
    stage(
        "compute_thread", m_compute, [this](Stage& st) { return run_compute(st); },
        [this] { m_outputs.close(); });
    stage(
        "writeback_thread", m_writeback, [this](Stage& st) { return run_writeback(st); }, nullptr);
    for (uint32_t i = 1; i < m_cfg.controller.posted_writes; ++i) {
        m_writers.push_back(std::make_unique<Stage>(m_writer_times));
        stage(
            sc_gen_unique_name("writeback_thread"), *m_writers.back(),
            [this](Stage& st) { return run_writeback(st); }, nullptr);
    }
    // Loader threads: the LoadRows commands of both fetch stages that are under way at once.
    for (uint32_t i = 0; i < 2 * m_cfg.controller.loads_in_flight; ++i)
        sc_spawn(sc_bind(&Pipeline::loader_thread, this), sc_gen_unique_name("loader"));
}

void Pipeline::trace_state(uint32_t s, const sc_time& at) {
    m_tracer.write(m_sig.state, s, offset_of(at));
}

void Pipeline::clear() {
    m_heads.clear();
    m_counts = JobCounts{};
}

ErrorCode Pipeline::run(const regs::JobRegs& job) {
    m_job = job;
    // A job starts with empty buffers: no row of another job is ever taken as resident.
    if (flush_buffers() != ErrorCode::None) return ErrorCode::Internal;
    m_error = ErrorCode::None;
    m_abort = false;
    m_queries_k.reset();
    m_queries_v.reset();
    m_k_items.reset();
    m_v_items.reset();
    m_outputs.reset();
    m_head_start.assign(m_job.heads, SC_ZERO_TIME);
    m_head_left.assign(m_job.heads, 0);
    m_head_record.assign(m_job.heads, ~0u);
    m_head_rows.assign(m_job.heads, {0, 0});
    m_stages_running = 4 + std::max(1u, m_cfg.controller.posted_writes);
    m_go_ev.notify(SC_ZERO_TIME);
    while (m_stages_running) wait(m_stage_done_ev);
    return m_error;
}

void Pipeline::fail(ErrorCode e) {
    if (m_error == ErrorCode::None) m_error = e;
    m_abort = true;
    m_queries_k.abort();
    m_queries_v.abort();
    m_k_items.abort();
    m_v_items.abort();
    m_outputs.abort();
    m_release_ev.notify(SC_ZERO_TIME);
}

void Pipeline::stage_thread(Stage& s, const std::function<ErrorCode(Stage&)>& run,
                            const std::function<void()>& after) {
    for (;;) {
        wait(m_go_ev);
        s.qk.reset();
        const ErrorCode e = run(s);
        if (e != ErrorCode::None) fail(e);
        if (after) after();  // the next stage sees the end of this one's output
        s.qk.sync();         // the job ends at the stage's annotated time
        --m_stages_running;
        m_stage_done_ev.notify(SC_ZERO_TIME);
    }
}

void Pipeline::loader_thread() {
    for (;;) {
        while (m_load_tasks.empty()) wait(m_load_task_ev);
        LoadPtr l = m_load_tasks.front();
        m_load_tasks.pop_front();
        Stage st(m_loader_times);  // the issuing stage counts the load as its own busy time
        if (l->start > sc_time_stamp())
            st.qk.set(l->start - sc_time_stamp());  // LT: the issuer's time
        const Query& q = *l->item.q;
        l->e = load_rows(l->buffer, q, &q.candidates[l->item.first], l->item.count,
                         l->item.slots.data(), st);
        st.qk.sync();
        l->done = true;
        l->ev.notify();
        m_load_ev.notify();
    }
}

}  // namespace sprint

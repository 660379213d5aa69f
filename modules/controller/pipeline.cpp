#include "modules/controller/pipeline.h"

#include "modules/common/timing.h"
#include "modules/compute_unit.h"

namespace sprint {

using namespace sc_core;
using regs::ErrorCode;

Pipeline::Lane::Lane(const IpConfig& cfg, uint32_t u, core::StatGroup& g, InitiatorPort& dp,
                     InitiatorPort& sr)
    : unit(u),
      datapath(dp),
      sram(sr),
      // A unit queues a whole run of queries, so the front stage need not wait for it while the
      // other units have none.
      queries_k(std::max(cfg.controller.query_queue, cfg.units > 1 ? cfg.controller.unit_run : 1u)),
      queries_v(std::max(cfg.controller.query_queue, cfg.units > 1 ? cfg.controller.unit_run : 1u)),
      k_items(cfg.controller.chunk_queue),
      v_items(cfg.controller.chunk_queue),
      outputs(cfg.controller.posted_writes),
      fetch_k_times(g.group("stage_fetch_k", "pipeline stage: fetch_k")),
      fetch_v_times(g.group("stage_fetch_v", "pipeline stage: fetch_v")),
      compute_times(g.group("stage_compute", "pipeline stage: compute")),
      writeback_times(g.group("stage_writeback", "pipeline stage: write-back")),
      loader_group("loader", "loader threads (not reported)"),
      loader_times(loader_group),
      writer_group("writers", "write-back threads after the first (not reported)"),
      writer_times(writer_group),
      fetch_k(fetch_k_times),
      fetch_v(fetch_v_times),
      compute(compute_times),
      writeback(writeback_times) {}

void Pipeline::Lane::reset() {
    compute_busy_seen = compute_times.busy.value();
    compute_wait_seen = compute_times.starved.value() + compute_times.blocked.value();
    queries_k.reset();
    queries_v.reset();
    k_items.reset();
    v_items.reset();
    outputs.reset();
}

void Pipeline::Lane::abort() {
    queries_k.abort();
    queries_v.abort();
    k_items.abort();
    v_items.abort();
    outputs.abort();
    release_ev.notify(SC_ZERO_TIME);
}

Pipeline::Pipeline(const IpConfig& cfg, TraceScheduler& tracer, Ports ports, Signals signals,
                   core::StatGroup& stats)
    : m_cfg(cfg),
      m_clock(cfg.clock_ns, SC_NS),
      m_tracer(tracer),
      m_ports(ports),
      m_sig(signals),
      m_q_reader_group("q_reader", "Q read-ahead threads (not reported)"),
      m_q_reader_times(m_q_reader_group),
      m_heads_done(stats, "heads", "heads", "heads processed"),
      m_queries_done(stats, "queries", "queries", "query rows processed (padding skipped)"),
      m_visible_pairs(stats, "visible_pairs", "pairs", "(query, key) pairs after mask and padding"),
      m_kept_pairs(stats, "kept_pairs", "pairs", "(query, key) pairs kept for exact recompute"),
      m_front_times(stats.group("stage_front", "pipeline stage: front")),
      m_front(m_front_times),
      m_evaluated(cfg.comparators.mask_latches - 2),
      m_mask_times(stats.group("stage_mask", "pipeline stage: keep-mask read-out")),
      m_mask_stage(m_mask_times) {
    // Each unit's stages report under "unit_<i>" (the unit's module name).
    for (uint32_t u = 0; u < cfg.units; ++u)
        m_lanes.push_back(std::make_unique<Lane>(
            cfg, u, stats.group(unit_name(u), "the pipeline stages of one compute unit"),
            ports.datapath[u], ports.sram[u]));
    m_front.trace_to(tracer, signals.front_state);
    for (uint32_t u = 0; u < cfg.units; ++u) {
        Lane& l = *m_lanes[u];
        Stage* stages[] = {&l.fetch_k, &l.fetch_v, &l.compute, &l.writeback};
        for (uint32_t k = 0; k < 4; ++k) {
            const uint32_t i = 4 * u + k;
            stages[k]->trace_to(tracer, signals.stage_state[i]);
            l.markers[k].trace_to(tracer, signals.stage_query[i], signals.stage_in_flight[i]);
            stages[k]->mark_with(l.markers[k]);
        }
    }
}

void Pipeline::spawn_threads() {
    auto stage = [this](const std::string& name, Stage& st, std::function<ErrorCode(Stage&)> run,
                        std::function<void()> after) {
        sc_spawn([this, &st, run, after] { stage_thread(st, run, after); },
                 sc_gen_unique_name(name.c_str()));
    };
    stage(
        "front_thread", m_front, [this](Stage& st) { return run_front(st); },
        [this] { m_evaluated.close(); });
    stage(
        "mask_thread", m_mask_stage, [this](Stage& st) { return run_mask(st); },
        [this] {
            for (auto& l : m_lanes) {
                l->queries_k.close();
                l->queries_v.close();
            }
        });
    for (uint32_t i = 0; i < m_cfg.controller.q_groups_ahead; ++i)
        sc_spawn([this] { q_reader_thread(); }, sc_gen_unique_name("q_reader"));
    for (auto& lp : m_lanes) {
        Lane& l = *lp;
        const std::string u = unit_name(l.unit) + "_";
        stage(
            u + "fetch_k_thread", l.fetch_k,
            [this, &l](Stage& st) { return run_fetch(st, l, proto::Buffer::K); },
            [&l] { l.k_items.close(); });
        stage(
            u + "fetch_v_thread", l.fetch_v,
            [this, &l](Stage& st) { return run_fetch(st, l, proto::Buffer::V); },
            [&l] { l.v_items.close(); });
        stage(
            u + "compute_thread", l.compute, [this, &l](Stage& st) { return run_compute(st, l); },
            [&l] { l.outputs.close(); });
        stage(
            u + "writeback_thread", l.writeback,
            [this, &l](Stage& st) { return run_writeback(st, l); }, nullptr);
        for (uint32_t i = 1; i < m_cfg.controller.posted_writes; ++i) {
            l.writers.push_back(std::make_unique<Stage>(l.writer_times));
            l.writers.back()->mark_with(l.markers[3]);  // the write-back's queries, all threads
            stage(
                u + "writeback_thread", *l.writers.back(),
                [this, &l](Stage& st) { return run_writeback(st, l); }, nullptr);
        }
        // Loader threads: the LoadRows commands of both fetch stages that are under way at once.
        for (uint32_t i = 0; i < 2 * m_cfg.controller.loads_in_flight; ++i)
            sc_spawn([this, &l] { loader_thread(l); }, sc_gen_unique_name((u + "loader").c_str()));
    }
}

void Pipeline::trace_state(uint32_t s, const sc_time& at) {
    m_tracer.write(m_sig.state, s, offset_of(at));
}

void Pipeline::clear() {
    m_heads.clear();
    m_query_log.clear();
    m_counts = JobCounts{};
}

ErrorCode Pipeline::run(const regs::JobRegs& job) {
    m_job = job;
    m_job.opt = m_cfg.job_options(job.opt, job.n, job.d);  // the datapath's tile, units' spread
    m_job_start = sc_time_stamp();
    // A job starts with empty buffers: no row of another job is ever taken as resident.
    if (flush_buffers() != ErrorCode::None) return ErrorCode::Internal;
    m_error = ErrorCode::None;
    m_abort = false;
    for (auto& l : m_lanes) {
        l->reset();
        for (QueryMarker& mk : l->markers) mk.clear(SC_ZERO_TIME);
    }
    m_evaluated.reset();
    m_masks_unread = 0;
    m_head_start.assign(m_job.heads, SC_ZERO_TIME);
    m_head_left.assign(m_job.heads, 0);
    m_k_left.assign(m_job.heads, 0);
    m_passes.assign(m_job.heads, 1);
    m_head_record.assign(m_job.heads, ~0u);
    m_head_rows.assign(m_job.heads, {0, 0});
    m_record_index.assign(m_record_queries ? m_job.heads : 0, {});
    m_stages_running =
        2 + uint32_t(m_lanes.size()) * (3 + std::max(1u, m_cfg.controller.posted_writes));
    m_go_ev.notify(SC_ZERO_TIME);
    while (m_stages_running) wait(m_stage_done_ev);
    return m_error;
}

void Pipeline::fail(ErrorCode e) {
    if (m_error == ErrorCode::None) m_error = e;
    m_abort = true;
    m_k_fetched_ev.notify(SC_ZERO_TIME);
    m_shares_ev.notify(SC_ZERO_TIME);
    m_evaluated.abort();
    m_mask_read_ev.notify(SC_ZERO_TIME);
    for (auto& l : m_lanes) l->abort();
}

void Pipeline::stage_thread(Stage& s, const std::function<ErrorCode(Stage&)>& run,
                            const std::function<void()>& after) {
    for (;;) {
        wait(m_go_ev);
        s.qk.reset();
        s.show(StageBusy);
        const ErrorCode e = run(s);
        if (e != ErrorCode::None) fail(e);
        if (after) after();  // the next stage sees the end of this one's output
        s.qk.sync();         // the job ends at the stage's annotated time
        s.show(StageIdle);
        --m_stages_running;
        m_stage_done_ev.notify(SC_ZERO_TIME);
    }
}

void Pipeline::q_reader_thread() {
    for (;;) {
        while (m_q_tasks.empty()) wait(m_q_task_ev);
        QGroupPtr g = m_q_tasks.front();
        m_q_tasks.pop_front();
        Stage st(m_q_reader_times);
        if (g->start > sc_time_stamp()) st.qk.set(g->start - sc_time_stamp());  // LT: the issuer's
        const uint32_t d = m_job.d;
        g->e = mem_transfer(tlm::TLM_READ_COMMAND,
                            m_job.q + (uint64_t(g->head) * m_job.n + g->first) * d,
                            reinterpret_cast<uint8_t*>(g->rows.data()), g->count * d, g->head, st);
        st.qk.sync();
        g->done = true;
        g->ev.notify();
    }
}

void Pipeline::loader_thread(Lane& lane) {
    for (;;) {
        while (lane.load_tasks.empty()) wait(lane.load_task_ev);
        LoadPtr l = lane.load_tasks.front();
        lane.load_tasks.pop_front();
        Stage st(lane.loader_times);  // the issuing stage counts the load as its own busy time
        if (l->start > sc_time_stamp())
            st.qk.set(l->start - sc_time_stamp());  // LT: the issuer's time
        Query& q = *l->item.q;
        l->e = load_rows(lane, l->buffer, q, &q.candidates[l->item.first], l->item.count,
                         l->item.slots.data(), st);
        st.qk.sync();
        l->done = true;
        l->ev.notify();
        lane.load_ev.notify();
    }
}

}  // namespace sprint

#include "modules/controller.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/crossbar.h"
#include "core/keep_rule.h"
#include "modules/common/timing.h"
#include "tlm_interfaces/job_check.h"
#include "tlm_interfaces/payload.h"

namespace sprint {

using namespace sc_core;
using namespace tlm;
using regs::ErrorCode;
using proto::prepare;


// ---- channels ----------------------------------------------------------------------------------

template <class T>
bool Controller::Channel<T>::put(T v) {
    while (!m_aborted && m_q.size() >= m_cap) sc_core::wait(m_ev);
    if (m_aborted) return false;
    m_q.push_back(std::move(v));
    m_ev.notify(SC_ZERO_TIME);
    return true;
}

template <class T>
bool Controller::Channel<T>::get(T& v) {
    while (!m_aborted && m_q.empty() && !m_closed) sc_core::wait(m_ev);
    if (m_aborted || m_q.empty()) return false;
    v = std::move(m_q.front());
    m_q.pop_front();
    m_ev.notify(SC_ZERO_TIME);
    return true;
}

// ---- construction ------------------------------------------------------------------------------

Controller::Controller(const sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer)
    : sc_module(name),
      csr("csr"),
      to_xbar("to_xbar", cfg.timing),
      to_fetcher("to_fetcher", cfg.timing),
      to_datapath("to_datapath", cfg.timing),
      irq("irq"),
      state("state"),
      head("head"),
      query("query"),
      busy("busy"),
      m_cfg(cfg),
      m_clock(cfg.clock_ns, SC_NS),
      m_tracer(tracer),
      m_queries_k(cfg.controller.query_queue),
      m_queries_v(cfg.controller.query_queue),
      m_k_items(cfg.controller.chunk_queue),
      m_v_items(cfg.controller.chunk_queue),
      m_stats(basename(), "register file, job sequencing and interrupt") {
    csr.register_b_transport(this, &Controller::csr_transport);
    csr.register_transport_dbg(this, &Controller::csr_debug);
    m_front.stats = &front_stats;
    m_fetch_k.stats = &fetch_k_stats;
    m_fetch_v.stats = &fetch_v_stats;
    m_compute.stats = &compute_stats;

    for (const auto& [offset, value] : capability_registers(cfg)) m_regs[offset].set(value);
    // Register behaviour as callbacks: CTRL starts a job (it stores nothing: it reads as 0), and
    // a change of IRQ_STATUS (write-one-to-clear, applied by the register file) or IRQ_ENABLE
    // moves the interrupt line at the write's annotated time.
    m_regs[regs::CTRL].on_write = [this](uint32_t v, const sc_time& d) { on_ctrl_write(v, d); };
    for (uint32_t irq_reg : {regs::IRQ_STATUS, regs::IRQ_ENABLE})
        m_regs[irq_reg].on_write = [this, irq_reg](uint32_t v, const sc_time& d) {
            m_regs[irq_reg].set(v);
            update_irq(d);
        };

    SC_HAS_PROCESS(Controller);
    SC_THREAD(job_thread);
    auto stage = [this](const char* name, Stage& st, std::function<ErrorCode(Stage&)> run,
                        std::function<void()> after) {
        sc_spawn([this, &st, run, after] { stage_thread(st, run, after); }, name);
    };
    stage("front_thread", m_front, [this](Stage& st) { return run_front(st); },
          [this] { m_queries_k.close(); m_queries_v.close(); });
    stage("fetch_k_thread", m_fetch_k, [this](Stage& st) { return run_fetch(st, proto::Buffer::K); },
          [this] { m_k_items.close(); });
    stage("fetch_v_thread", m_fetch_v, [this](Stage& st) { return run_fetch(st, proto::Buffer::V); },
          [this] { m_v_items.close(); });
    stage("compute_thread", m_compute, [this](Stage& st) { return run_compute(st); }, nullptr);
    // Loader threads: the LoadRows commands of both fetch stages that are under way at once.
    for (uint32_t i = 0; i < 2 * cfg.controller.loads_in_flight; ++i)
        sc_spawn(sc_bind(&Controller::loader_thread, this), sc_gen_unique_name("loader"));
    SC_METHOD(drive_irq);
    sensitive << m_irq_ev;
    dont_initialize();
    irq.initialize(false);

    m_stats.add("jobs", &jobs, "jobs", "jobs started");
    m_stats.add("jobs_failed", &jobs_failed, "jobs", "jobs that ended with an error code");
    m_stats.add("heads", &heads_done, "heads", "heads processed");
    m_stats.add("queries", &queries_done, "queries", "query rows processed (padding skipped)");
    m_stats.add("visible_pairs", &visible_pairs, "pairs", "(query, key) pairs after mask and padding");
    m_stats.add("kept_pairs", &kept_pairs, "pairs", "(query, key) pairs kept for exact recompute");
    m_stats.add("job_cycles", &job_cycles_total, "cycles", "cycles of all jobs, START to completion");
    m_stats.add("register_reads", [this] { return nlohmann::json(m_regs.reads); }, "accesses",
                "register reads on csr");
    m_stats.add("register_writes", [this] { return nlohmann::json(m_regs.writes); }, "accesses",
                "register writes on csr");
    m_stats.add("register_errors", [this] { return nlohmann::json(m_regs.errors); }, "accesses",
                "csr accesses answered with an error response");
    const std::pair<const char*, StageStats*> stages[] = {
        {"front", &front_stats}, {"fetch_k", &fetch_k_stats}, {"fetch_v", &fetch_v_stats},
        {"compute", &compute_stats}};
    for (const auto& st : stages) {
        auto& g = m_stats.group(std::string("stage_") + st.first,
                                std::string("pipeline stage: ") + st.first);
        g.add("busy_ns", &st.second->busy_ns, "ns", "issuing work and waiting for its completion");
        g.add("starved_ns", &st.second->starved_ns, "ns", "waiting for input from the previous stage");
        g.add("blocked_ns", &st.second->blocked_ns, "ns", "waiting for the next stage or for SRAM room");
    }
}

// ---- register file -----------------------------------------------------------------------------

void Controller::csr_transport(tlm_generic_payload& gp, sc_time& delay) {
    delay += m_clock * double(m_cfg.controller.csr_cycles);
    m_regs.access(gp, delay);  // the registers' callbacks act on writes
}

unsigned Controller::csr_debug(tlm_generic_payload& gp) { return m_regs.debug(gp); }

void Controller::on_ctrl_write(uint32_t v, const sc_time& delay) {
    if (!(v & regs::CTRL_START)) return;
    Register& status = m_regs[regs::STATUS];
    if (m_busy) {
        status.set(status.get() | regs::STATUS_OVERRUN);
        return;
    }
    Job j;
    const regs::DecodedJobCfg dc = regs::decode_job_cfg(m_regs[regs::JOB_CFG].get());
    j.opt = dc.opt;
    j.mode_ok = dc.mode_ok;
    j.heads = m_regs[regs::HEADS].get();
    j.n = m_regs[regs::SEQ_LEN].get();
    j.d = m_regs[regs::HEAD_DIM].get();
    j.q = get64(regs::Q_BASE_LO);
    j.k = get64(regs::K_BASE_LO);
    j.v = get64(regs::V_BASE_LO);
    j.out = get64(regs::OUT_BASE_LO);
    j.table = get64(regs::HEAD_TABLE_LO);
    m_pending = j;
    m_busy = true;
    status.set(regs::STATUS_BUSY);
    m_start_ev.notify(delay);
}

void Controller::update_irq(const sc_time& delay) {
    m_irq_level = (m_regs[regs::IRQ_STATUS].get() & m_regs[regs::IRQ_ENABLE].get()) != 0;
    m_irq_ev.notify(delay);
}

void Controller::drive_irq() { irq.write(m_irq_level); }

void Controller::set64(uint32_t lo, uint64_t v) {
    m_regs[lo].set(uint32_t(v));
    m_regs[lo + 4].set(uint32_t(v >> 32));
}

uint64_t Controller::get64(uint32_t lo) {
    return uint64_t(m_regs[lo].get()) | (uint64_t(m_regs[lo + 4].get()) << 32);
}

void Controller::trace_state(uint32_t s, const sc_time& t) { m_tracer.write(state, s, offset_of(t)); }

// ---- job sequencing ----------------------------------------------------------------------------

void Controller::job_thread() {
    for (;;) {
        wait(m_start_ev);
        const sc_time start = sc_time_stamp();
        ++jobs;
        m_heads.clear();
        m_rd_bytes = m_wr_bytes = m_kept_keys = m_k_rows = m_v_rows = 0;
        m_tracer.write(busy, true, SC_ZERO_TIME);
        trace_state(Setup, start);
        m_job = m_pending;
        ErrorCode err = check_job(m_cfg, m_job);
        if (err == ErrorCode::None) {
            wait(m_clock * double(m_cfg.controller.job_setup_cycles));
            // A job starts with empty buffers: no row of another job is ever taken as resident.
            proto::FetchCommand fl;
            fl.op = proto::FetchOp::Flush;
            proto::PooledPayload gp(m_pool);
            prepare(*gp, TLM_IGNORE_COMMAND, 0, nullptr, 0);
            gp->set_extension(&fl);
            sc_time d = SC_ZERO_TIME;
            to_fetcher.transport(*gp, d);
            wait(d);
            gp->clear_extension(&fl);
            if (!gp->is_response_ok()) err = ErrorCode::Internal;
        }
        if (err == ErrorCode::None) {
            m_error = ErrorCode::None;
            m_abort = false;
            m_queries_k.reset();
            m_queries_v.reset();
            m_k_items.reset();
            m_v_items.reset();
            m_head_start.assign(m_job.heads, SC_ZERO_TIME);
            m_head_rows.assign(m_job.heads, {0, 0});
            m_reserved[0] = m_reserved[1] = 0;
            m_stages_running = 4;
            m_go_ev.notify(SC_ZERO_TIME);
            while (m_stages_running) wait(m_stage_done_ev);
            err = m_error;
        }
        finish_job(err, start);
    }
}

void Controller::finish_job(ErrorCode err, const sc_time& start) {
    const sc_time end = sc_time_stamp();  // every stage synchronised before it finished
    const uint64_t cyc = uint64_t(std::llround((end - start) / m_clock));
    job_cycles_total += cyc;
    set64(regs::CYCLES_LO, cyc);
    set64(regs::MEM_RD_BYTES_LO, m_rd_bytes);
    set64(regs::MEM_WR_BYTES_LO, m_wr_bytes);
    set64(regs::KEPT_KEYS_LO, m_kept_keys);
    set64(regs::K_ROWS_FETCHED_LO, m_k_rows);
    set64(regs::V_ROWS_FETCHED_LO, m_v_rows);
    Register& status = m_regs[regs::STATUS];
    const uint32_t overrun = status.get() & regs::STATUS_OVERRUN;
    if (err == ErrorCode::None) {
        status.set(regs::encode_status_done(overrun));
        m_regs[regs::IRQ_STATUS].set(m_regs[regs::IRQ_STATUS].get() | regs::IRQ_DONE);
    } else {
        ++jobs_failed;
        status.set(regs::encode_status_error(err, overrun));
        m_regs[regs::IRQ_STATUS].set(m_regs[regs::IRQ_STATUS].get() | regs::IRQ_ERROR);
        SC_REPORT_INFO("sprint/controller", (std::string("job failed: ") + regs::to_string(err)).c_str());
    }
    m_busy = false;
    trace_state(Idle, end);
    m_tracer.write(busy, false, SC_ZERO_TIME);
    update_irq(SC_ZERO_TIME);
}

void Controller::fail(ErrorCode e) {
    if (m_error == ErrorCode::None) m_error = e;
    m_abort = true;
    m_queries_k.abort();
    m_queries_v.abort();
    m_k_items.abort();
    m_v_items.abort();
    m_release_ev.notify(SC_ZERO_TIME);
}

void Controller::stage_done(Stage& s) {
    s.qk.sync();  // the job ends at the stage's annotated time
    --m_stages_running;
    m_stage_done_ev.notify(SC_ZERO_TIME);
}

void Controller::stage_thread(Stage& s, const std::function<ErrorCode(Stage&)>& run,
                              const std::function<void()>& after) {
    for (;;) {
        wait(m_go_ev);
        s.qk.reset();
        const ErrorCode e = run(s);
        if (e != ErrorCode::None) fail(e);
        if (after) after();  // the next stage sees the end of this one's output
        stage_done(s);
    }
}

// ---- transport helpers -------------------------------------------------------------------------

bool Controller::call(InitiatorPort& port, tlm_generic_payload& gp, Stage& s) {
    const sc_time before = s.now();
    sc_time d = s.qk.get_local_time();
    port.transport(gp, d);
    s.qk.set(d);
    s.stats->busy_ns += (s.now() - before).to_seconds() * 1e9;
    if (s.qk.need_sync()) s.qk.sync();
    return gp.is_response_ok();
}

ErrorCode Controller::mem_transfer(tlm_command c, uint64_t addr, uint8_t* data, uint32_t len, Stage& s) {
    proto::PooledPayload gp(m_pool);
    prepare(*gp, c, addr, data, len);
    if (!call(to_fetcher, *gp, s)) return ErrorCode::BusError;
    (c == TLM_READ_COMMAND ? m_rd_bytes : m_wr_bytes) += len;
    return ErrorCode::None;
}

ErrorCode Controller::load_rows(proto::Buffer b, const Query& q, const uint32_t* tokens, uint32_t n,
                                uint32_t* slots, Stage& s) {
    const uint64_t base = (b == proto::Buffer::K ? m_job.k : m_job.v) + uint64_t(q.head) * m_job.n * m_job.d;
    for (;;) {
        const uint64_t releases_seen = m_releases;
        proto::FetchCommand fc;
        fc.op = proto::FetchOp::LoadRows;
        fc.buffer = b;
        fc.head = q.head;
        fc.query = q.index;
        fc.tensor_base = base;
        fc.row_bytes = m_job.d;
        fc.tokens = tokens;
        fc.count = n;
        fc.slots_out = slots;
        proto::PooledPayload gp(m_pool);
        prepare(*gp, TLM_IGNORE_COMMAND, 0, nullptr, 0);
        gp->set_extension(&fc);
        const bool ok = call(to_fetcher, *gp, s);
        gp->clear_extension(&fc);
        if (!ok) return fc.mem_status != TLM_OK_RESPONSE ? ErrorCode::BusError : ErrorCode::Internal;
        if (!fc.no_room_out) {
            m_rd_bytes += uint64_t(fc.fetched_out) * m_job.d;
            (b == proto::Buffer::K ? m_k_rows : m_v_rows) += fc.fetched_out;
            auto& per_head = m_head_rows[q.head];
            (b == proto::Buffer::K ? per_head.first : per_head.second) += fc.fetched_out;
            return ErrorCode::None;
        }
        // The chunks in flight fill the buffer: wait until the compute stage releases one (unless
        // it already did while this request was under way).
        stall(s, m_release_ev, [&] { return m_releases != releases_seen || m_abort; }, &StageStats::blocked_ns);
        if (m_abort) return ErrorCode::None;
    }
}

ErrorCode Controller::release_rows(proto::Buffer b, const Query& q, const uint32_t* slots, uint32_t n,
                                   Stage& s) {
    proto::FetchCommand fc;
    fc.op = proto::FetchOp::ReleaseRows;
    fc.buffer = b;
    fc.head = q.head;
    fc.count = n;
    fc.slots = slots;
    proto::PooledPayload gp(m_pool);
    prepare(*gp, TLM_IGNORE_COMMAND, 0, nullptr, 0);
    gp->set_extension(&fc);
    const bool ok = call(to_fetcher, *gp, s);
    gp->clear_extension(&fc);
    ++m_releases;
    m_reserved[int(b)] -= std::min(m_reserved[int(b)], n);
    m_release_ev.notify(s.qk.get_local_time());
    return ok ? ErrorCode::None : ErrorCode::Internal;
}

ErrorCode Controller::dp(proto::DatapathCommand& c, tlm_command cmd, uint8_t* data, uint32_t len, Stage& s) {
    proto::PooledPayload gp(m_pool);
    prepare(*gp, cmd, 0, data, len);
    gp->set_extension(&c);
    const bool ok = call(to_datapath, *gp, s);
    gp->clear_extension(&c);
    return ok ? ErrorCode::None : ErrorCode::Internal;
}

void Controller::stall(Stage& s, sc_event& ev, const std::function<bool()>& ready,
                       double StageStats::*what) {
    s.qk.sync();  // may let time pass: check the condition only afterwards
    const sc_time t0 = sc_time_stamp();
    while (!ready()) wait(ev);
    s.stats->*what += (sc_time_stamp() - t0).to_seconds() * 1e9;
}

template <class T>
bool Controller::put(Channel<T>& ch, T v, Stage& s) {
    s.qk.sync();  // hand over at the stage's annotated time
    const sc_time t0 = sc_time_stamp();
    const bool ok = ch.put(std::move(v));
    s.stats->blocked_ns += (sc_time_stamp() - t0).to_seconds() * 1e9;
    return ok;
}

template <class T>
bool Controller::get(Channel<T>& ch, T& v, Stage& s) {
    s.qk.sync();
    const sc_time t0 = sc_time_stamp();
    const bool ok = ch.get(v);
    s.stats->starved_ns += (sc_time_stamp() - t0).to_seconds() * 1e9;
    return ok;
}

// ---- front stage: head table, crossbar programming, Q rows, keep masks --------------------------

ErrorCode Controller::run_front(Stage& s) {
    for (uint32_t h = 0; h < m_job.heads && !m_abort; ++h) {
        core::HeadParams hp;
        ErrorCode e = front_head(s, h, hp);
        if (e != ErrorCode::None) return e;
        trace_state(Queries, s.now());
        for (uint32_t i = 0; i < hp.valid_len && !m_abort; ++i) {
            auto q = std::make_shared<Query>();
            q->head = h;
            q->index = i;
            q->hp = hp;
            q->last_of_head = i + 1 == hp.valid_len;
            if ((e = front_query(s, h, i, *q)) != ErrorCode::None) return e;
            if (!put(m_queries_k, q, s) || !put(m_queries_v, q, s)) return ErrorCode::None;
        }
    }
    return ErrorCode::None;
}

ErrorCode Controller::front_head(Stage& s, uint32_t h, core::HeadParams& hp) {
    const uint32_t n = m_job.n, d = m_job.d;
    m_head_start[h] = s.now();
    trace_state(HeadTable, s.now());
    m_tracer.write(head, h, offset_of(s.now()));
    uint8_t entry[regs::kHeadEntryBytes];
    ErrorCode e = mem_transfer(TLM_READ_COMMAND, m_job.table + uint64_t(h) * regs::kHeadEntryBytes,
                               entry, regs::kHeadEntryBytes, s);
    if (e != ErrorCode::None) return e;
    hp = regs::decode_head_entry(entry);
    if (!regs::head_entry_ok(hp, n)) return ErrorCode::BadHeadTable;
    if (m_job.opt.mode != core::Mode::Sprint) return ErrorCode::None;
    // Program the crossbar, one tile of keys at a time; padded keys are not written.
    trace_state(Program, s.now());
    const uint32_t tile = m_cfg.xbar.tile_cols;
    std::vector<uint8_t> buf;
    for (uint32_t j0 = 0; j0 < hp.valid_len; j0 += tile) {
        const uint32_t cnt = std::min(tile, hp.valid_len - j0);
        buf.resize(std::size_t(cnt) * d);
        e = mem_transfer(TLM_READ_COMMAND, m_job.k + (uint64_t(h) * n + j0) * d, buf.data(), cnt * d, s);
        if (e != ErrorCode::None) return e;
        proto::XbarCommand xc;
        xc.op = proto::XbarOp::Program;
        xc.head = h;
        xc.d = d;
        xc.params = hp;
        xc.first_key = j0;
        xc.key_count = cnt;
        proto::PooledPayload gp(m_pool);
        prepare(*gp, TLM_WRITE_COMMAND, 0, buf.data(), cnt * d);
        gp->set_extension(&xc);
        const bool ok = call(to_xbar, *gp, s);
        gp->clear_extension(&xc);
        if (!ok) return ErrorCode::Internal;
    }
    return ErrorCode::None;
}

ErrorCode Controller::front_query(Stage& s, uint32_t h, uint32_t i, Query& q) {
    const uint32_t n = m_job.n, d = m_job.d;
    const int end = core::key_end(int(i), q.hp.valid_len, m_job.opt.causal);
    q.q.resize(d);
    ErrorCode e = mem_transfer(TLM_READ_COMMAND, m_job.q + (uint64_t(h) * n + i) * d,
                               reinterpret_cast<uint8_t*>(q.q.data()), d, s);
    if (e != ErrorCode::None) return e;
    if (m_job.opt.mode != core::Mode::Sprint) {
        for (int j = 0; j < end; ++j) q.candidates.push_back(uint32_t(j));
        return ErrorCode::None;
    }
    std::vector<uint8_t> mask(std::size_t(end), 0);
    proto::XbarCommand xc;
    xc.op = proto::XbarOp::Evaluate;
    xc.head = h;
    xc.d = d;
    xc.params = q.hp;
    xc.query = i;
    xc.key_end = uint32_t(end);
    xc.empty_row = m_job.opt.empty_row;
    xc.mask_out = mask.data();
    proto::PooledPayload gp(m_pool);
    prepare(*gp, TLM_WRITE_COMMAND, 0, q.q.data(), d);
    gp->set_extension(&xc);
    const bool ok = call(to_xbar, *gp, s);
    gp->clear_extension(&xc);
    if (!ok) return ErrorCode::Internal;
    for (int j = 0; j < end; ++j)
        if (mask[std::size_t(j)]) q.candidates.push_back(uint32_t(j));
    return ErrorCode::None;
}

// ---- fetch stage: the rows of each query into the SRAM ------------------------------------------

ErrorCode Controller::run_fetch(Stage& s, proto::Buffer b) {
    const bool k = b == proto::Buffer::K;
    const uint32_t slots = (k ? m_cfg.sram.k_bytes : m_cfg.sram.v_bytes) / m_job.d;
    // On-chip pruning decides the V rows only after the softmax: the compute stage fetches them.
    const bool load = k || m_job.opt.mode != core::Mode::OnchipPrune;
    auto& queries = k ? m_queries_k : m_queries_v;
    auto& items = k ? m_k_items : m_v_items;
    // Up to loads_in_flight LoadRows run at once (on the buffer's loader threads), so the memory
    // sees the next chunk's requests before the previous chunk's last data arrived; items still
    // go to the compute stage in order.
    std::deque<std::shared_ptr<Load>> flight;
    unsigned loading = 0;
    auto deliver_front = [&]() -> ErrorCode {
        std::shared_ptr<Load> l = flight.front();
        stall(s, l->ev, [&] { return l->done; }, &StageStats::busy_ns);
        flight.pop_front();
        if (l->item.kind == Item::KChunk || l->item.kind == Item::VChunk) --loading;
        if (l->e != ErrorCode::None) return l->e;
        if (!m_abort) put(items, std::move(l->item), s);
        return ErrorCode::None;
    };
    auto drain = [&](std::size_t keep) -> ErrorCode {
        ErrorCode e = ErrorCode::None;
        while (flight.size() > keep && e == ErrorCode::None) e = deliver_front();
        return e;
    };
    auto marker = [&](Item::Kind kind, const std::shared_ptr<Query>& q) {
        auto l = std::make_shared<Load>();
        l->item = Item(kind, q);
        flight.push_back(l);
    };
    std::shared_ptr<Query> q;
    ErrorCode e = ErrorCode::None;
    for (;;) {
        // Nothing more to issue until the next query arrives: hand over what is in flight first.
        if (queries.empty() && (e = drain(0)) != ErrorCode::None) break;
        if (m_abort || !get(queries, q, s)) break;
        if (k) marker(Item::Begin, q);
        const auto& cand = q->candidates;
        // A query that fits the buffer is one chunk; one that does not goes in half-buffer chunks,
        // so the next chunk loads while the datapath works on the current one.
        const uint32_t cap = cand.size() <= slots ? slots : std::max(1u, slots / 2);
        for (uint32_t a = 0; load && a < cand.size() && !m_abort && e == ErrorCode::None; a += cap) {
            while (loading >= m_cfg.controller.loads_in_flight && e == ErrorCode::None) e = deliver_front();
            if (e != ErrorCode::None) break;
            auto l = std::make_shared<Load>();
            l->item = Item(k ? Item::KChunk : Item::VChunk, q, a, uint32_t(std::min<std::size_t>(cap, cand.size() - a)));
            l->item.slots.resize(l->item.count);
            // Reserve the chunk's slots here, in issue order: loads under way at once never take
            // each other's room (which could starve the oldest, the one the datapath waits for).
            const uint32_t need = l->item.count;
            const sc_time t0 = s.now();
            const double counted0 = s.stats->busy_ns + s.stats->starved_ns + s.stats->blocked_ns;
            while (m_reserved[int(b)] + need > slots && !m_abort && e == ErrorCode::None) {
                // Hand over what is ready: the datapath may need it before it can free room.
                if (!flight.empty() && flight.front()->done) {
                    e = deliver_front();
                    continue;
                }
                s.qk.sync();
                if (m_reserved[int(b)] + need > slots && !m_abort && !(!flight.empty() && flight.front()->done))
                    wait(m_release_ev | m_load_ev);
            }
            // Waiting for room is blocked time, less what handing over items counted meanwhile.
            const double counted = s.stats->busy_ns + s.stats->starved_ns + s.stats->blocked_ns - counted0;
            s.stats->blocked_ns += std::max(0.0, (s.now() - t0).to_seconds() * 1e9 - counted);
            if (m_abort || e != ErrorCode::None) break;
            m_reserved[int(b)] += need;
            l->done = false;
            flight.push_back(l);
            ++loading;
            l->buffer = b;
            l->start = s.now();
            l->stats = s.stats;
            m_load_tasks.push_back(l);
            m_load_task_ev.notify();
        }
        if (e != ErrorCode::None) break;
        marker(k ? Item::Softmax : Item::End, q);
    }
    if (e == ErrorCode::None) e = drain(0);
    // On an error, loads still running finish before the stage ends (they use this stage's data).
    for (auto& l : flight) stall(s, l->ev, [&] { return l->done; }, &StageStats::blocked_ns);
    return e;
}

void Controller::loader_thread() {
    for (;;) {
        while (m_load_tasks.empty()) wait(m_load_task_ev);
        std::shared_ptr<Load> l = m_load_tasks.front();
        m_load_tasks.pop_front();
        Stage st;
        StageStats unused;  // the issuing stage counts the load as its own busy time
        st.stats = &unused;
        if (l->start > sc_time_stamp()) st.qk.set(l->start - sc_time_stamp());  // LT: the issuer's time
        const Query& q = *l->item.q;
        l->e = load_rows(l->buffer, q, &q.candidates[l->item.first], l->item.count, l->item.slots.data(), st);
        st.qk.sync();
        l->done = true;
        l->ev.notify();
        m_load_ev.notify();
    }
}

// ---- compute stage: the datapath ----------------------------------------------------------------

ErrorCode Controller::run_compute(Stage& s) {
    const uint32_t d = m_job.d, v_buffer = m_cfg.sram.v_bytes / d;
    Item it;
    // Per query: Begin, K chunks and Softmax from the K stream, then V chunks and End from the V
    // stream.
    while (!m_abort && get(m_k_items, it, s)) {
        std::shared_ptr<Query> qp = it.q;
        Query& q = *qp;
        proto::DatapathCommand c;
        c.head = q.head;
        c.query = q.index;
        c.d = d;
        m_tracer.write(query, q.index, offset_of(s.now()));
        c.op = proto::DatapathOp::Begin;
        c.logit_scale = core::exact_logit_scale(q.hp, int(d));
        c.s_v = q.hp.s_v;
        c.softmax = m_job.opt.softmax;
        c.output = m_job.opt.output;
        ErrorCode e = dp(c, TLM_WRITE_COMMAND, reinterpret_cast<uint8_t*>(q.q.data()), d, s);
        while (e == ErrorCode::None && !m_abort && get(m_k_items, it, s) && it.kind == Item::KChunk) {
            c.op = proto::DatapathOp::QkChunk;
            c.tokens = &q.candidates[it.first];
            c.slots = it.slots.data();
            c.count = it.count;
            e = dp(c, TLM_IGNORE_COMMAND, nullptr, 0, s);
            if (e == ErrorCode::None) e = release_rows(proto::Buffer::K, q, it.slots.data(), it.count, s);
        }
        if (e != ErrorCode::None) return e;
        if (m_abort) break;
        c.op = proto::DatapathOp::Softmax;
        c.kept_out = &q.kept;
        c.prune = m_job.opt.mode == core::Mode::OnchipPrune;
        c.threshold = q.hp.threshold;
        c.empty_row = m_job.opt.empty_row;
        if ((e = dp(c, TLM_IGNORE_COMMAND, nullptr, 0, s)) != ErrorCode::None) return e;
        if (c.prune) {
            // On-chip pruning decides the V rows only now: fetch them here, chunk by chunk.
            const uint32_t v_slots = q.kept.size() <= v_buffer ? v_buffer : std::max(1u, v_buffer / 2);
            for (uint32_t a = 0; a < q.kept.size() && !m_abort; a += v_slots) {
                const uint32_t cnt = uint32_t(std::min<std::size_t>(v_slots, q.kept.size() - a));
                std::vector<uint32_t> slots(cnt);
                m_reserved[int(proto::Buffer::V)] += cnt;
                if ((e = load_rows(proto::Buffer::V, q, &q.kept[a], cnt, slots.data(), s)) != ErrorCode::None) return e;
                if (m_abort) break;
                c.op = proto::DatapathOp::VChunk;
                c.tokens = &q.kept[a];
                c.slots = slots.data();
                c.count = cnt;
                if ((e = dp(c, TLM_IGNORE_COMMAND, nullptr, 0, s)) != ErrorCode::None) return e;
                if ((e = release_rows(proto::Buffer::V, q, slots.data(), cnt, s)) != ErrorCode::None) return e;
            }
        }
        while (!m_abort && get(m_v_items, it, s) && it.kind == Item::VChunk) {
            c.op = proto::DatapathOp::VChunk;
            c.tokens = &q.kept[it.first];
            c.slots = it.slots.data();
            c.count = it.count;
            if ((e = dp(c, TLM_IGNORE_COMMAND, nullptr, 0, s)) != ErrorCode::None) return e;
            if ((e = release_rows(proto::Buffer::V, q, it.slots.data(), it.count, s)) != ErrorCode::None) return e;
        }
        if (m_abort) break;
        if ((e = finish_query(s, q)) != ErrorCode::None) return e;
    }
    return ErrorCode::None;
}

ErrorCode Controller::finish_query(Stage& s, Query& q) {
    const uint32_t n = m_job.n, d = m_job.d;
    const uint32_t eb = uint32_t(core::output_element_bytes(m_job.opt.output));
    std::vector<uint8_t> out(std::size_t(d) * eb);
    proto::DatapathCommand c;
    c.op = proto::DatapathOp::Finish;
    c.head = q.head;
    c.query = q.index;
    ErrorCode e = dp(c, TLM_READ_COMMAND, out.data(), d * eb, s);
    if (e != ErrorCode::None) return e;
    e = mem_transfer(TLM_WRITE_COMMAND, m_job.out + (uint64_t(q.head) * n + q.index) * d * eb,
                     out.data(), d * eb, s);
    if (e != ErrorCode::None) return e;
    m_kept_keys += q.kept.size();
    kept_pairs += q.kept.size();
    ++queries_done;
    const uint64_t visible = uint64_t(core::key_end(int(q.index), q.hp.valid_len, m_job.opt.causal));
    visible_pairs += visible;
    if (m_heads.empty() || m_heads.back().head != q.head) m_heads.push_back({q.head, 0, 0, 0, 0, 0, 0});
    HeadRecord& rec = m_heads.back();
    ++rec.queries;
    rec.visible += visible;
    rec.kept += q.kept.size();
    rec.k_fetched = m_head_rows[q.head].first;
    rec.v_fetched = m_head_rows[q.head].second;
    if (q.last_of_head) {
        ++heads_done;
        rec.cycles = uint64_t(std::llround((s.now() - m_head_start[q.head]) / m_clock));
    }
    if (m_observer) m_observer(q.head, q.index, q.kept);
    return ErrorCode::None;
}

}  // namespace sprint

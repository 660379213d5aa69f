#include "modules/controller.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/crossbar.h"
#include "core/keep_rule.h"
#include "modules/common/timing.h"
#include "tlm_interfaces/payload.h"

namespace sprint {

using namespace sc_core;
using namespace tlm;
using regs::ErrorCode;

namespace {

using proto::prepare;

bool ranges_overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) {
    return a < b + bn && b < a + an;
}

}  // namespace

Controller::Controller(const sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer)
    : sc_module(name),
      csr("csr"),
      to_xbar("to_xbar"),
      to_fetcher("to_fetcher"),
      to_datapath("to_datapath"),
      irq("irq"),
      state("state"),
      head("head"),
      query("query"),
      busy("busy"),
      m_cfg(cfg),
      m_clock(cfg.clock_ns, SC_NS),
      m_tracer(tracer),
      m_stats(basename(), "register file, job sequencing and interrupt") {
    csr.register_b_transport(this, &Controller::csr_transport);
    csr.register_transport_dbg(this, &Controller::csr_debug);

    m_regs[regs::CAP_MAX_SEQ].set(cfg.max_seq_len());
    m_regs[regs::CAP_MAX_DIM].set(cfg.max_head_dim());

    SC_HAS_PROCESS(Controller);
    SC_THREAD(job_thread);
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
}

// ---- register file --------------------------------------------------------------------------

void Controller::csr_transport(tlm_generic_payload& gp, sc_time& delay) {
    const bool is_write = gp.is_write();
    const uint64_t addr = gp.get_address();
    const uint32_t irq_before = m_regs[regs::IRQ_STATUS].get();
    const uint32_t en_before = m_regs[regs::IRQ_ENABLE].get();
    m_regs.access(gp);
    delay += m_clock * double(m_cfg.controller.csr_cycles);
    if (!gp.is_response_ok() || !is_write) return;
    if (addr == regs::CTRL) {
        uint32_t v;
        std::memcpy(&v, gp.get_data_ptr(), 4);
        on_ctrl_write(v, delay);
    }
    if (m_regs[regs::IRQ_STATUS].get() != irq_before || m_regs[regs::IRQ_ENABLE].get() != en_before)
        update_irq(delay);
}

unsigned Controller::csr_debug(tlm_generic_payload& gp) { return m_regs.debug(gp); }

void Controller::on_ctrl_write(uint32_t v, const sc_time& delay) {
    m_regs[regs::CTRL].set(0);
    if (!(v & regs::CTRL_START)) return;
    Register& status = m_regs[regs::STATUS];
    if (m_busy) {
        status.set(status.get() | regs::STATUS_OVERRUN);
        return;
    }
    Job j;
    j.cfg = m_regs[regs::JOB_CFG].get();
    j.heads = m_regs[regs::HEADS].get();
    j.n = m_regs[regs::SEQ_LEN].get();
    j.d = m_regs[regs::HEAD_DIM].get();
    j.q = get64(regs::Q_BASE_LO);
    j.k = get64(regs::K_BASE_LO);
    j.v = get64(regs::V_BASE_LO);
    j.out = get64(regs::OUT_BASE_LO);
    j.table = get64(regs::HEAD_TABLE_LO);
    j.opt.mode = core::Mode(j.cfg & regs::JOB_CFG_MODE_MASK);
    j.opt.causal = j.cfg & regs::JOB_CFG_CAUSAL;
    j.opt.softmax = (j.cfg & regs::JOB_CFG_SOFTMAX_FLOAT) ? core::SoftmaxKind::Float : core::SoftmaxKind::Fixed;
    j.opt.output = (j.cfg & regs::JOB_CFG_OUT_INT16) ? core::OutputFormat::Int16 : core::OutputFormat::Float32;
    j.opt.empty_row = (j.cfg & regs::JOB_CFG_EMPTY_MAX) ? core::EmptyRowPolicy::Max : core::EmptyRowPolicy::Self;
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

// ---- job sequencing -------------------------------------------------------------------------

void Controller::trace_state(uint32_t s, const sc_time& t) { m_tracer.write(state, s, offset_of(t)); }

void Controller::job_thread() {
    for (;;) {
        wait(m_start_ev);
        const sc_time start = sc_time_stamp();
        ++jobs;
        m_heads.clear();
        m_rd_bytes = m_wr_bytes = m_kept_keys = m_k_rows = m_v_rows = 0;
        m_qk.reset();
        m_tracer.write(busy, true, SC_ZERO_TIME);
        trace_state(Setup, start);
        const Job job = m_pending;
        ErrorCode err = validate(job);
        if (err == ErrorCode::None) err = run_job(job);
        finish_job(err, start);
    }
}

ErrorCode Controller::validate(const Job& j) const {
    if (j.heads == 0 || j.n == 0 || j.d == 0) return ErrorCode::BadShape;
    if ((j.cfg & regs::JOB_CFG_MODE_MASK) == 3) return ErrorCode::BadMode;
    const bool sprint = j.opt.mode == core::Mode::Sprint;
    if (j.d > std::min(m_cfg.sram.k_bytes, m_cfg.sram.v_bytes)) return ErrorCode::DimTooLarge;
    if (sprint && m_cfg.xbar_capacity(j.d) == 0) return ErrorCode::DimTooLarge;
    if (j.n > m_cfg.datapath.score_entries) return ErrorCode::SeqTooLong;
    if (sprint && j.n > m_cfg.xbar_capacity(j.d)) return ErrorCode::SeqTooLong;
    for (uint64_t base : {j.q, j.k, j.v, j.out, j.table})
        if (base % regs::kBaseAlign) return ErrorCode::Misaligned;
    const uint64_t elems = uint64_t(j.heads) * j.n * j.d;
    const uint64_t out_bytes = elems * core::output_element_bytes(j.opt.output);
    const uint64_t table_bytes = uint64_t(j.heads) * regs::kHeadEntryBytes;
    const std::pair<uint64_t, uint64_t> bufs[] = {
        {j.q, elems}, {j.k, elems}, {j.v, elems}, {j.table, table_bytes}, {j.out, out_bytes}};
    const uint64_t wb = m_cfg.fetcher.window_base, ws = m_cfg.fetcher.window_size;
    for (const auto& b : bufs) {
        if (b.first + b.second < b.first) return ErrorCode::OutOfRange;  // wraps
        if (ws && (b.first < wb || b.first - wb > ws || b.second > ws - (b.first - wb)))
            return ErrorCode::OutOfRange;
    }
    for (int i = 0; i < 4; ++i)
        if (ranges_overlap(j.out, out_bytes, bufs[i].first, bufs[i].second)) return ErrorCode::Overlap;
    return ErrorCode::None;
}

void Controller::finish_job(ErrorCode err, const sc_time& start) {
    m_qk.sync();  // the interrupt is raised at the job's annotated completion time
    const sc_time end = sc_time_stamp();
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
        status.set(regs::STATUS_DONE | overrun);
        m_regs[regs::IRQ_STATUS].set(m_regs[regs::IRQ_STATUS].get() | regs::IRQ_DONE);
    } else {
        ++jobs_failed;
        status.set(regs::STATUS_ERROR | overrun | (uint32_t(err) << regs::STATUS_ERR_CODE_LSB));
        m_regs[regs::IRQ_STATUS].set(m_regs[regs::IRQ_STATUS].get() | regs::IRQ_ERROR);
        SC_REPORT_INFO("sprint/controller",
                       (std::string("job failed: ") + regs::to_string(err)).c_str());
    }
    m_busy = false;
    trace_state(Idle, end);
    m_tracer.write(busy, false, SC_ZERO_TIME);
    update_irq(SC_ZERO_TIME);
}

bool Controller::call(tlm_utils::simple_initiator_socket<Controller>& s, tlm_generic_payload& gp,
                      sc_time& t) {
    sc_time d = offset_of(t);
    s->b_transport(gp, d);
    t = abs_time(d);
    return gp.is_response_ok();
}

ErrorCode Controller::mem_transfer(tlm_command c, uint64_t addr, uint8_t* data, uint32_t len,
                                   sc_time& t) {
    tlm_generic_payload gp;
    prepare(gp, c, addr, data, len);
    if (!call(to_fetcher, gp, t)) return ErrorCode::BusError;
    (c == TLM_READ_COMMAND ? m_rd_bytes : m_wr_bytes) += len;
    return ErrorCode::None;
}

ErrorCode Controller::load_rows(proto::Buffer b, uint32_t h, uint32_t i, uint64_t base, uint32_t d,
                                const uint32_t* tokens, uint32_t n, uint32_t* slots, sc_time& t) {
    proto::FetchCommand fc;
    fc.op = proto::FetchOp::LoadRows;
    fc.buffer = b;
    fc.head = h;
    fc.query = i;
    fc.tensor_base = base;
    fc.row_bytes = d;
    fc.tokens = tokens;
    fc.count = n;
    fc.slots_out = slots;
    tlm_generic_payload gp;
    prepare(gp, TLM_IGNORE_COMMAND, 0, nullptr, 0);
    gp.set_extension(&fc);
    const bool ok = call(to_fetcher, gp, t);
    gp.clear_extension(&fc);
    if (!ok) return fc.mem_status != TLM_OK_RESPONSE ? ErrorCode::BusError : ErrorCode::Internal;
    m_rd_bytes += uint64_t(fc.fetched_out) * d;
    (b == proto::Buffer::K ? m_k_rows : m_v_rows) += fc.fetched_out;
    return ErrorCode::None;
}

ErrorCode Controller::dp(proto::DatapathCommand& c, tlm_command cmd, uint8_t* data, uint32_t len,
                         sc_time& t) {
    tlm_generic_payload gp;
    prepare(gp, cmd, 0, data, len);
    gp.set_extension(&c);
    const bool ok = call(to_datapath, gp, t);
    gp.clear_extension(&c);
    return ok ? ErrorCode::None : ErrorCode::Internal;
}

ErrorCode Controller::run_job(const Job& job) {
    sc_time t = sc_time_stamp() + m_clock * double(m_cfg.controller.job_setup_cycles);
    ErrorCode e = ErrorCode::None;
    for (uint32_t h = 0; h < job.heads && e == ErrorCode::None; ++h) e = run_head(job, h, t);
    // The job ends at the last annotated time, error or not.
    m_qk.set(offset_of(t));
    return e;
}

ErrorCode Controller::run_head(const Job& job, uint32_t h, sc_time& t) {
    const sc_time head_start = t;
    const uint32_t n = job.n, d = job.d;
    const bool sprint = job.opt.mode == core::Mode::Sprint;

    // Head table entry.
    trace_state(HeadTable, t);
    m_tracer.write(head, h, offset_of(t));
    uint8_t entry[regs::kHeadEntryBytes];
    ErrorCode e = mem_transfer(TLM_READ_COMMAND, job.table + uint64_t(h) * regs::kHeadEntryBytes,
                               entry, regs::kHeadEntryBytes, t);
    if (e != ErrorCode::None) return e;
    core::HeadParams hp;
    std::memcpy(&hp.threshold, entry + 0, 4);
    std::memcpy(&hp.s_q, entry + 4, 4);
    std::memcpy(&hp.s_k, entry + 8, 4);
    std::memcpy(&hp.s_v, entry + 12, 4);
    std::memcpy(&hp.valid_len, entry + 16, 4);
    const bool finite = std::isfinite(hp.threshold) && std::isfinite(hp.s_q) &&
                        std::isfinite(hp.s_k) && std::isfinite(hp.s_v);
    if (!finite || hp.s_q <= 0 || hp.s_k <= 0 || hp.s_v <= 0 || hp.valid_len == 0 || hp.valid_len > n)
        return ErrorCode::BadHeadTable;

    // Start the head with empty buffers: rows of another head or job are never re-used.
    proto::FetchCommand fl;
    fl.op = proto::FetchOp::Flush;
    fl.head = h;
    tlm_generic_payload gp;
    prepare(gp, TLM_IGNORE_COMMAND, 0, nullptr, 0);
    gp.set_extension(&fl);
    const bool flushed = call(to_fetcher, gp, t);
    gp.clear_extension(&fl);
    if (!flushed) return ErrorCode::Internal;

    const uint64_t head_off = uint64_t(h) * n * d;
    if (sprint) {
        // Program the crossbar, one tile of keys at a time; padded keys are not written.
        trace_state(Program, t);
        const uint32_t tile = m_cfg.xbar.tile_cols;
        for (uint32_t j0 = 0; j0 < hp.valid_len; j0 += tile) {
            const uint32_t cnt = std::min(tile, hp.valid_len - j0);
            m_buf.resize(std::size_t(cnt) * d);
            e = mem_transfer(TLM_READ_COMMAND, job.k + head_off + uint64_t(j0) * d, m_buf.data(),
                             cnt * d, t);
            if (e != ErrorCode::None) return e;
            proto::XbarCommand xc;
            xc.op = proto::XbarOp::Program;
            xc.head = h;
            xc.d = d;
            xc.params = hp;
            xc.first_key = j0;
            xc.key_count = cnt;
            prepare(gp, TLM_WRITE_COMMAND, 0, m_buf.data(), cnt * d);
            gp.set_extension(&xc);
            const bool ok = call(to_xbar, gp, t);
            gp.clear_extension(&xc);
            if (!ok) return ErrorCode::Internal;
        }
    }

    // Queries: the front end of i+1 runs from the time the back end of i starts.
    trace_state(Queries, t);
    HeadRecord rec{h, 0, 0, 0, 0, m_k_rows, m_v_rows};
    const uint64_t kept_before = m_kept_keys;
    const uint32_t L = hp.valid_len;
    sc_time front_done = t;
    e = front(job, h, hp, 0, m_slots[0], front_done);
    if (e != ErrorCode::None) {
        t = front_done;
        return e;
    }
    sc_time back_done = t;
    t = front_done;
    for (uint32_t i = 0; i < L; ++i) {
        const sc_time back_start = std::max(front_done, back_done);
        m_qk.set(offset_of(back_start));
        if (m_qk.need_sync()) m_qk.sync();
        Slot& cur = m_slots[i % 2];
        if (i + 1 < L) {
            front_done = back_start;
            e = front(job, h, hp, i + 1, m_slots[(i + 1) % 2], front_done);
            t = std::max(t, front_done);
            if (e != ErrorCode::None) return e;
        }
        back_done = back_start;
        e = back(job, h, hp, i, cur, back_done);
        t = std::max(t, back_done);
        if (e != ErrorCode::None) return e;
        rec.visible += core::key_end(int(i), L, job.opt.causal);
        ++rec.queries;
    }
    m_qk.set(offset_of(back_done));
    if (m_qk.need_sync()) m_qk.sync();
    ++heads_done;
    rec.cycles = uint64_t(std::llround((back_done - head_start) / m_clock));
    rec.kept = m_kept_keys - kept_before;
    rec.k_fetched = m_k_rows - rec.k_fetched;
    rec.v_fetched = m_v_rows - rec.v_fetched;
    visible_pairs += rec.visible;
    m_heads.push_back(rec);
    return ErrorCode::None;
}

ErrorCode Controller::front(const Job& job, uint32_t h, const core::HeadParams& hp, uint32_t i,
                            Slot& s, sc_time& t) {
    const uint32_t n = job.n, d = job.d;
    const int end = core::key_end(int(i), hp.valid_len, job.opt.causal);
    s.q.resize(d);
    ErrorCode e = mem_transfer(TLM_READ_COMMAND, job.q + (uint64_t(h) * n + i) * d,
                               reinterpret_cast<uint8_t*>(s.q.data()), d, t);
    if (e != ErrorCode::None) return e;
    s.candidates.clear();
    if (job.opt.mode != core::Mode::Sprint) {
        for (int j = 0; j < end; ++j) s.candidates.push_back(uint32_t(j));
        return ErrorCode::None;
    }
    s.mask.assign(std::size_t(end), 0);
    proto::XbarCommand xc;
    xc.op = proto::XbarOp::Evaluate;
    xc.head = h;
    xc.d = d;
    xc.params = hp;
    xc.query = i;
    xc.key_end = uint32_t(end);
    xc.empty_row = job.opt.empty_row;
    xc.mask_out = s.mask.data();
    tlm_generic_payload gp;
    prepare(gp, TLM_WRITE_COMMAND, 0, reinterpret_cast<uint8_t*>(s.q.data()), d);
    gp.set_extension(&xc);
    const bool ok = call(to_xbar, gp, t);
    gp.clear_extension(&xc);
    if (!ok) return ErrorCode::Internal;
    for (int j = 0; j < end; ++j)
        if (s.mask[std::size_t(j)]) s.candidates.push_back(uint32_t(j));
    return ErrorCode::None;
}

ErrorCode Controller::back(const Job& job, uint32_t h, const core::HeadParams& hp, uint32_t i,
                           Slot& s, sc_time& t) {
    const uint32_t n = job.n, d = job.d;
    const uint64_t head_off = uint64_t(h) * n * d;
    m_tracer.write(query, i, offset_of(t));
    proto::DatapathCommand c;
    c.head = h;
    c.query = i;
    c.d = d;
    c.logit_scale = core::exact_logit_scale(hp, int(d));
    c.s_v = hp.s_v;
    c.softmax = job.opt.softmax;
    c.output = job.opt.output;
    c.op = proto::DatapathOp::Begin;
    ErrorCode e = dp(c, TLM_WRITE_COMMAND, reinterpret_cast<uint8_t*>(s.q.data()), d, t);
    if (e != ErrorCode::None) return e;

    // K phase: every candidate row through the K buffer, one buffer-full at a time.
    const uint32_t k_slots = m_cfg.sram.k_bytes / d, v_slots = m_cfg.sram.v_bytes / d;
    const auto& cand = s.candidates;
    for (std::size_t a = 0; a < cand.size(); a += k_slots) {
        const uint32_t cnt = uint32_t(std::min<std::size_t>(k_slots, cand.size() - a));
        m_chunk_slots.resize(cnt);
        e = load_rows(proto::Buffer::K, h, i, job.k + head_off, d, &cand[a], cnt,
                      m_chunk_slots.data(), t);
        if (e != ErrorCode::None) return e;
        c.op = proto::DatapathOp::QkChunk;
        c.tokens = &cand[a];
        c.slots = m_chunk_slots.data();
        c.count = cnt;
        if ((e = dp(c, TLM_IGNORE_COMMAND, nullptr, 0, t)) != ErrorCode::None) return e;
    }
    c.op = proto::DatapathOp::Softmax;
    c.prune = job.opt.mode == core::Mode::OnchipPrune;
    c.threshold = hp.threshold;
    c.empty_row = job.opt.empty_row;
    if ((e = dp(c, TLM_IGNORE_COMMAND, nullptr, 0, t)) != ErrorCode::None) return e;
    m_kept = *c.kept_out;

    // V phase: the kept rows through the V buffer.
    for (std::size_t a = 0; a < m_kept.size(); a += v_slots) {
        const uint32_t cnt = uint32_t(std::min<std::size_t>(v_slots, m_kept.size() - a));
        m_chunk_slots.resize(cnt);
        e = load_rows(proto::Buffer::V, h, i, job.v + head_off, d, &m_kept[a], cnt,
                      m_chunk_slots.data(), t);
        if (e != ErrorCode::None) return e;
        c.op = proto::DatapathOp::VChunk;
        c.tokens = &m_kept[a];
        c.slots = m_chunk_slots.data();
        c.count = cnt;
        if ((e = dp(c, TLM_IGNORE_COMMAND, nullptr, 0, t)) != ErrorCode::None) return e;
    }

    const uint32_t eb = uint32_t(core::output_element_bytes(job.opt.output));
    m_buf.resize(std::size_t(d) * eb);
    c.op = proto::DatapathOp::Finish;
    if ((e = dp(c, TLM_READ_COMMAND, m_buf.data(), d * eb, t)) != ErrorCode::None) return e;
    e = mem_transfer(TLM_WRITE_COMMAND, job.out + (uint64_t(h) * n + i) * d * eb, m_buf.data(),
                     d * eb, t);
    if (e != ErrorCode::None) return e;

    m_kept_keys += m_kept.size();
    kept_pairs += m_kept.size();
    ++queries_done;
    if (m_observer) m_observer(h, i, m_kept);
    return ErrorCode::None;
}

}  // namespace sprint

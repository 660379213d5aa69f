// The pipeline's transactions: each builds its command, sends it on the controller's port for the
// block, and turns the response into an error code and the job's accounting.
#include "modules/controller/pipeline.h"

#include "core/crossbar.h"
#include "tlm_interfaces/payload.h"

namespace sprint {

using namespace sc_core;
using namespace tlm;
using proto::prepare;
using regs::ErrorCode;

namespace {

// A command carried by an extension on TLM_IGNORE_COMMAND (or a plain access with `data`).
template <class Ext>
bool send(InitiatorPort& port, proto::PayloadPool& pool, Ext& ext, Stage& s,
          tlm_command cmd = TLM_IGNORE_COMMAND, uint8_t* data = nullptr, uint32_t len = 0) {
    proto::PooledPayload gp(pool);
    prepare(*gp, cmd, 0, data, len);
    gp->set_extension(&ext);
    const bool ok = s.call(port, *gp);
    gp->clear_extension(&ext);
    return ok;
}

// A command carried by an extension on TLM_IGNORE_COMMAND, outside any stage (the start of a
// job): sent at the current time, its delay returned in `d`.
template <class Ext>
bool command_now(InitiatorPort& port, proto::PayloadPool& pool, Ext& ext, sc_time& d) {
    proto::PooledPayload gp(pool);
    prepare(*gp, TLM_IGNORE_COMMAND, 0, nullptr, 0);
    gp->set_extension(&ext);
    d = SC_ZERO_TIME;
    port.transport(*gp, d);
    gp->clear_extension(&ext);
    return gp->is_response_ok();
}

}  // namespace

ErrorCode Pipeline::mem_transfer(tlm_command c, uint64_t addr, uint8_t* data, uint32_t len,
                                 uint32_t head, Stage& s, uint32_t query) {
    proto::PooledPayload gp(m_pool);
    prepare(*gp, c, addr, data, len);
    proto::HeadTag tag;
    tag.head = head;
    tag.query = query;
    gp->set_extension(&tag);
    const bool ok = s.call(m_ports.fetcher, *gp);
    gp->clear_extension(&tag);
    // What the memory completed counts, also the bursts before a failed one.
    (c == TLM_READ_COMMAND ? m_counts.rd_bytes : m_counts.wr_bytes) += tag.bytes_out;
    return ok ? ErrorCode::None : ErrorCode::BusError;
}

ErrorCode Pipeline::peek(uint64_t addr, uint8_t* data, uint32_t len, Stage& s) {
    proto::FetchCommand fc;
    fc.op = proto::FetchOp::Peek;
    proto::PooledPayload gp(m_pool);
    prepare(*gp, TLM_IGNORE_COMMAND, addr, data, len);
    gp->set_extension(&fc);
    const bool ok = s.call(m_ports.fetcher, *gp);
    gp->clear_extension(&fc);
    return ok ? ErrorCode::None : ErrorCode::BusError;
}

ErrorCode Pipeline::xbar(proto::XbarCommand& c, uint8_t* data, uint32_t len, Stage& s) {
    return send(m_ports.xbar, m_pool, c, s, TLM_WRITE_COMMAND, data, len) ? ErrorCode::None
                                                                          : ErrorCode::Internal;
}

ErrorCode Pipeline::comparators(proto::MaskCommand& c, uint8_t* data, uint32_t len, Stage& s) {
    return send(m_ports.comparators, m_pool, c, s,
                c.op == proto::MaskOp::Read ? TLM_READ_COMMAND : TLM_IGNORE_COMMAND, data, len)
               ? ErrorCode::None
               : ErrorCode::Internal;
}

ErrorCode Pipeline::dp(Lane& l, proto::DatapathCommand& c, tlm_command cmd, uint8_t* data,
                       uint32_t len, Stage& s) {
    return send(l.datapath, m_pool, c, s, cmd, data, len) ? ErrorCode::None : ErrorCode::Internal;
}

ErrorCode Pipeline::room(Lane& l, proto::ResidencyOp op, proto::Buffer b, uint32_t head,
                         const uint32_t* tokens, uint32_t count, Stage& s, bool* granted,
                         uint32_t* capacity) {
    proto::ResidencyCommand rc;
    rc.op = op;
    rc.buffer = b;
    rc.row_bytes = m_job.d;
    rc.head = head;
    rc.tokens = tokens;
    rc.count = count;
    // Reservations are bookkeeping of no duration: sent at the stage's local time without the
    // quantum keeper's check, so they never make the stage yield to others (a sync would).
    proto::PooledPayload gp(m_pool);
    prepare(*gp, TLM_IGNORE_COMMAND, 0, nullptr, 0);
    gp->set_extension(&rc);
    sc_time d = s.qk.get_local_time();
    l.sram.transport(*gp, d);
    gp->clear_extension(&rc);
    if (!gp->is_response_ok()) return ErrorCode::Internal;
    if (granted) *granted = !rc.no_room_out;
    if (capacity) *capacity = rc.capacity_out;
    return ErrorCode::None;
}

ErrorCode Pipeline::reserve(Lane& l, proto::Buffer b, uint32_t head, const uint32_t* tokens,
                            uint32_t count, Stage& s, bool& granted, uint32_t* capacity) {
    return room(l, proto::ResidencyOp::Reserve, b, head, tokens, count, s, &granted, capacity);
}

ErrorCode Pipeline::flush_buffers() {
    sc_time d;
    proto::FetchCommand fl;
    fl.op = proto::FetchOp::Flush;
    const bool flushed = command_now(m_ports.fetcher, m_pool, fl, d);
    wait(d);
    if (!flushed) return ErrorCode::Internal;
    // No keep mask of an earlier job stays latched in the comparator bank.
    proto::MaskCommand mc;
    mc.op = proto::MaskOp::Clear;
    if (!command_now(m_ports.comparators, m_pool, mc, d)) return ErrorCode::Internal;
    // Every datapath context ends too: a query of an earlier job (one that failed mid-query, or
    // a dense block of another size) holds no room in a score buffer.
    proto::DatapathCommand dc;
    dc.op = proto::DatapathOp::Flush;
    for (auto& l : m_lanes)
        if (!command_now(l->datapath, m_pool, dc, d)) return ErrorCode::Internal;
    return ErrorCode::None;
}

ErrorCode Pipeline::load_rows(Lane& l, proto::Buffer b, Query& q, const uint32_t* tokens,
                              uint32_t n, uint32_t* slots, Stage& s) {
    const uint64_t base =
        (b == proto::Buffer::K ? m_job.k : m_job.v) + uint64_t(q.head) * m_job.n * m_job.d;
    for (;;) {
        const uint64_t releases_seen = l.releases;
        proto::FetchCommand fc;
        fc.op = proto::FetchOp::LoadRows;
        fc.buffer = b;
        fc.unit = l.unit;
        fc.head = q.head;
        fc.query = q.index;
        fc.tensor_base = base;
        fc.row_bytes = m_job.d;
        fc.tokens = tokens;
        fc.count = n;
        fc.slots_out = slots;
        if (b == proto::Buffer::K && readback_head(q.head)) {
            fc.readback = true;
            fc.lsb_base =
                m_job.k_lsb + uint64_t(q.head) * m_job.n *
                                  core::key_lsb_row_bytes(int(m_job.d), m_cfg.xbar.key_bits);
        }
        const bool ok = send(m_ports.fetcher, m_pool, fc, s);
        m_counts.rd_bytes += fc.mem_bytes_out;  // what the memory delivered, also on a failure
        if (!ok)
            return fc.mem_status != TLM_OK_RESPONSE ? ErrorCode::BusError : ErrorCode::Internal;
        if (!fc.no_room_out) {
            (b == proto::Buffer::K ? m_counts.k_rows : m_counts.v_rows) += fc.fetched_out;
            auto& per_head = m_head_rows[q.head];
            (b == proto::Buffer::K ? per_head.first : per_head.second) += fc.fetched_out;
            (b == proto::Buffer::K ? q.k_fetched : q.v_fetched) += fc.fetched_out;
            (b == proto::Buffer::K ? q.k_reused : q.v_reused) += fc.hits_out;
            return ErrorCode::None;
        }
        // The chunks in flight fill the buffer: wait until the compute stage releases one (unless
        // it already did while this request was under way).
        s.stall(
            l.release_ev, [&] { return l.releases != releases_seen || m_abort; },
            s.times().blocked);
        if (m_abort) return ErrorCode::None;
    }
}

ErrorCode Pipeline::release_rows(Lane& l, proto::Buffer b, const Query& q, const uint32_t* tokens,
                                 const uint32_t* slots, uint32_t n, Stage& s) {
    proto::FetchCommand fc;
    fc.op = proto::FetchOp::ReleaseRows;
    fc.buffer = b;
    fc.unit = l.unit;
    fc.head = q.head;
    fc.count = n;
    fc.slots = slots;
    const bool ok = send(m_ports.fetcher, m_pool, fc, s);
    // The chunk's room goes back once the release has returned (after the stage's sync).
    const ErrorCode e =
        room(l, proto::ResidencyOp::Unreserve, b, q.head, tokens, n, s, nullptr, nullptr);
    ++l.releases;
    l.release_ev.notify(s.qk.get_local_time());
    return ok ? e : ErrorCode::Internal;
}

}  // namespace sprint

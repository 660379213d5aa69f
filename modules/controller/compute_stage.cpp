// The compute stage: per query the datapath's QK over the K chunks, the softmax (with the
// on-chip pruning and its own V fetches in onchip-prune mode), V over the V chunks and the output
// row written back; every chunk's rows released after use. Dense blocks are in compute_blocks.cpp,
// the key-interleaved units' shares in compute_shares.cpp.
#include <algorithm>
#include <cmath>

#include "core/crossbar.h"
#include "core/keep_rule.h"
#include "modules/common/timing.h"
#include "modules/controller/pipeline.h"

namespace sprint {

using namespace sc_core;
using namespace tlm;
using regs::ErrorCode;

ErrorCode Pipeline::run_compute(Stage& s, Lane& l) {
    if (m_job.opt.mode == core::Mode::OnchipPrune) {  // this stage fetches the V rows itself
        bool granted = false;
        const ErrorCode e =
            reserve(l, proto::Buffer::V, 0, nullptr, 0, s, granted, &l.own_v_capacity);
        if (e != ErrorCode::None) return e;
    }
    Item it;
    // Per query: Begin, K chunks and Softmax from the K stream, then V chunks and End from the V
    // stream.
    while (!m_abort && s.get(l.k_items, it)) {
        QueryPtr qp = it.q;
        s.take(qp->head, qp->index);  // held until its output rows are handed on
        const ErrorCode e = compute_query(s, l, qp, it);
        if (e != ErrorCode::None) return e;
        s.done(qp->head, qp->index);
    }
    return ErrorCode::None;
}

ErrorCode Pipeline::compute_query(Stage& s, Lane& l, const QueryPtr& qp, Item& it) {
    Query& q = *qp;
    if (!q.members.empty())
        return q.group                        ? compute_block_split(s, l, q, it)
               : core::online_tile(m_job.opt) ? compute_block_online(s, l, q, it)
                                              : compute_block(s, l, q, it);
    if (!m_cfg.scores_fit(q.candidates.size())) return ErrorCode::ScoreOverflow;
    const uint32_t d = m_job.d;
    proto::DatapathCommand c;
    c.head = q.head;
    c.query = q.index;
    c.d = d;
    q.compute_begin = s.now();
    c.op = proto::DatapathOp::Begin;
    c.logit_scale = core::exact_logit_scale(q.hp, int(d));
    c.s_v = q.hp.s_v;
    c.softmax = m_job.opt.softmax;
    c.output = m_job.opt.output;
    ErrorCode e = dp(l, c, TLM_WRITE_COMMAND, reinterpret_cast<uint8_t*>(q.q.data()), d, s);
    while (e == ErrorCode::None && !m_abort && s.get(l.k_items, it) && it.kind == Item::KChunk) {
        c.op = proto::DatapathOp::QkChunk;
        c.tokens = &q.candidates[it.first];
        c.slots = it.slots.data();
        c.count = it.count;
        e = dp(l, c, TLM_IGNORE_COMMAND, nullptr, 0, s);
        if (e == ErrorCode::None)
            e = release_rows(l, proto::Buffer::K, q, c.tokens, it.slots.data(), it.count, s);
    }
    if (e != ErrorCode::None || m_abort) return e;
    c.op = proto::DatapathOp::Softmax;
    c.kept_out = &q.kept;
    c.prune = m_job.opt.mode == core::Mode::OnchipPrune;
    c.threshold = q.hp.threshold;
    c.empty_row = m_job.opt.empty_row;
    if ((e = q.group ? shared_softmax(s, l, q, c) : dp(l, c, TLM_IGNORE_COMMAND, nullptr, 0, s)) !=
        ErrorCode::None)
        return e;
    if (c.prune && (e = fetch_kept_v(s, l, q, c)) != ErrorCode::None) return e;
    while (!m_abort && s.get(l.v_items, it) && it.kind == Item::VChunk) {
        c.op = proto::DatapathOp::VChunk;
        c.tokens = &q.kept[it.first];
        c.slots = it.slots.data();
        c.count = it.count;
        if ((e = dp(l, c, TLM_IGNORE_COMMAND, nullptr, 0, s)) != ErrorCode::None) return e;
        if ((e = release_rows(l, proto::Buffer::V, q, c.tokens, it.slots.data(), it.count, s)) !=
            ErrorCode::None)
            return e;
    }
    if (m_abort) return ErrorCode::None;
    if ((e = q.group ? join_shares(s, l, qp) : finish_query(s, l, qp)) != ErrorCode::None) return e;
    q.compute_end = s.now();
    compute_time(l, q);
    if (q.group) {  // the whole query's record: its shares' rows and compute time added up
        Query& w = *q.group->whole;
        add_share(w, q);
        // unit 0 comes last (it waited for every other share's partial): the record is complete
        if (q.unit == 0 && m_record_queries) record_compute(w, w, true);
        return ErrorCode::None;
    }
    if (m_record_queries) record_compute(q, q, true);
    return ErrorCode::None;
}

void Pipeline::compute_time(Lane& l, Query& q) {
    const double busy = l.compute_times.busy.value();
    const double wait = l.compute_times.starved.value() + l.compute_times.blocked.value();
    q.compute_busy_ns = busy - l.compute_busy_seen;
    q.compute_wait_ns = wait - l.compute_wait_seen;
    l.compute_busy_seen = busy;
    l.compute_wait_seen = wait;
}

Pipeline::QueryRecord& Pipeline::record_of(uint32_t head, uint32_t query) {
    std::vector<uint32_t>& idx = m_record_index[head];
    if (query >= idx.size()) idx.resize(std::size_t(query) + 1, 0);
    if (!idx[query]) {
        m_query_log.push_back({});
        m_query_log.back().head = head;
        m_query_log.back().query = query;
        idx[query] = uint32_t(m_query_log.size());
    }
    return m_query_log[idx[query] - 1];
}

void Pipeline::record_compute(const Query& member, const Query& work, bool lead) {
    QueryRecord& r = record_of(member.head, member.index);
    r.unit = work.unit;
    r.lead = work.index;
    r.front = member.front;
    r.compute_begin = work.compute_begin;
    r.compute_end = work.compute_end;
    if (!lead) return;
    r.k_fetched = work.k_fetched;
    r.v_fetched = work.v_fetched;
    r.k_reused = work.k_reused;
    r.v_reused = work.v_reused;
    r.compute_busy_ns = work.compute_busy_ns;
    r.compute_wait_ns = work.compute_wait_ns;
}

// On-chip pruning decides the V rows only after the softmax: they are fetched here, chunk by
// chunk, each chunk's room reserved first (only this stage uses the V buffer in this mode).
ErrorCode Pipeline::fetch_kept_v(Stage& s, Lane& l, Query& q, proto::DatapathCommand& c) {
    bool granted = false;
    ErrorCode e = ErrorCode::None;
    const uint32_t v_buffer = l.own_v_capacity;
    const uint32_t v_slots = q.kept.size() <= v_buffer ? v_buffer : std::max(1u, v_buffer / 2);
    for (uint32_t a = 0; a < q.kept.size() && !m_abort; a += v_slots) {
        const uint32_t cnt = uint32_t(std::min<std::size_t>(v_slots, q.kept.size() - a));
        while ((e = reserve(l, proto::Buffer::V, q.head, &q.kept[a], cnt, s, granted)) ==
                   ErrorCode::None &&
               !granted && !m_abort) {
            const uint64_t seen = l.releases;
            s.stall(
                l.release_ev, [&] { return l.releases != seen || m_abort; }, s.times().blocked);
        }
        if (e != ErrorCode::None || m_abort) return e;
        std::vector<uint32_t> slots(cnt);
        if ((e = load_rows(l, proto::Buffer::V, q, &q.kept[a], cnt, slots.data(), s)) !=
            ErrorCode::None)
            return e;
        if (m_abort) break;
        c.op = proto::DatapathOp::VChunk;
        c.tokens = &q.kept[a];
        c.slots = slots.data();
        c.count = cnt;
        if ((e = dp(l, c, TLM_IGNORE_COMMAND, nullptr, 0, s)) != ErrorCode::None) return e;
        if ((e = release_rows(l, proto::Buffer::V, q, &q.kept[a], slots.data(), cnt, s)) !=
            ErrorCode::None)
            return e;
    }
    return ErrorCode::None;
}

// The output row out of the datapath, handed to the write-back stage.
ErrorCode Pipeline::finish_query(Stage& s, Lane& l, const QueryPtr& q, uint32_t context) {
    const uint32_t d = m_job.d;
    const uint32_t eb = uint32_t(core::output_element_bytes(m_job.opt.output));
    Output o{q, std::vector<uint8_t>(std::size_t(d) * eb)};
    proto::DatapathCommand c;
    c.op = proto::DatapathOp::Finish;
    c.head = q->head;
    c.query = q->index;
    c.context = context;
    const ErrorCode e = dp(l, c, TLM_READ_COMMAND, o.bytes.data(), d * eb, s);
    if (e != ErrorCode::None) return e;
    s.put(l.outputs, std::move(o));  // false only when the job is aborting
    return ErrorCode::None;
}

ErrorCode Pipeline::run_writeback(Stage& s, Lane& l) {
    const uint32_t n = m_job.n, d = m_job.d;
    const uint32_t eb = uint32_t(core::output_element_bytes(m_job.opt.output));
    Output o;
    while (!m_abort && s.get(l.outputs, o)) {
        const Query& q = *o.q;
        s.take(q.head, q.index);  // held until its row is written
        const ErrorCode e =
            mem_transfer(TLM_WRITE_COMMAND, m_job.out + (uint64_t(q.head) * n + q.index) * d * eb,
                         o.bytes.data(), d * eb, q.head, s, q.index);
        if (e != ErrorCode::None) return e;
        account(s, q);
        s.done(q.head, q.index);
    }
    return ErrorCode::None;
}

// A query whose output row is in memory: the job's counters, its head's record, the observer.
void Pipeline::account(Stage& s, const Query& q) {
    m_counts.kept_keys += q.kept.size();
    m_kept_pairs += q.kept.size();
    m_queries_done.add(q.head, q.index, 1);
    const uint64_t visible =
        uint64_t(core::key_end(int(q.index), q.hp.valid_len, m_job.opt.causal));
    m_visible_pairs += visible;
    // Several writers finish rows out of order: a head's record is found by its index, and the
    // head is done when its last row (whichever it is) is in memory.
    if (m_head_record[q.head] == ~0u) {
        m_head_record[q.head] = uint32_t(m_heads.size());
        m_heads.push_back({q.head, 0, 0, 0, 0, 0, 0});
    }
    HeadRecord& rec = m_heads[m_head_record[q.head]];
    ++rec.queries;
    rec.visible += visible;
    rec.kept += q.kept.size();
    rec.k_fetched = m_head_rows[q.head].first;
    rec.v_fetched = m_head_rows[q.head].second;
    if (--m_head_left[q.head] == 0) {
        ++m_heads_done;
        m_tracer.head_end(q.head, offset_of(s.now()));
        rec.cycles = uint64_t(std::llround((s.now() - m_head_start[q.head]) / m_clock));
    }
    if (m_record_queries) {
        QueryRecord& r = record_of(q.head, q.index);
        r.kept = q.kept.size();
        r.visible = visible;
        r.done = s.now();
    }
    if (m_observer) m_observer(q.head, q.index, q.kept);
}

}  // namespace sprint

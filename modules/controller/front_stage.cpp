// The front stage: per head the head-table entry and the crossbar programming, per query the Q
// row and its keep mask from the crossbar and comparators.
#include <algorithm>

#include "core/crossbar.h"
#include "core/keep_rule.h"
#include "modules/common/timing.h"
#include "modules/controller/pipeline.h"

namespace sprint {

using namespace sc_core;
using namespace tlm;
using regs::ErrorCode;

ErrorCode Pipeline::run_front(Stage& s) {
    const ErrorCode e = front_heads(s);
    const ErrorCode ahead = drop_q_ahead(s);  // no read-ahead outlives the job
    return e != ErrorCode::None ? e : ahead;
}

ErrorCode Pipeline::front_heads(Stage& s) {
    for (uint32_t h = 0; h < m_job.heads && !m_abort; ++h) {
        core::HeadParams hp;
        ErrorCode e = front_head(s, h, hp);
        if (e != ErrorCode::None || m_abort) return e;
        std::vector<QueryPtr> qs;
        qs.reserve(hp.valid_len);
        for (uint32_t i = 0; i < hp.valid_len; ++i) {
            auto q = std::make_shared<Query>();
            q->head = h;
            q->index = i;
            q->hp = hp;
            q->last_of_head = i + 1 == hp.valid_len;
            qs.push_back(std::move(q));
        }
        // A head with more keys than the crossbar holds is scored in passes, all queries per
        // pass; its queries go on when the last pass is done. Otherwise each goes on at once.
        const uint32_t passes = m_passes[h];
        if (passes > 1 && (e = front_passes(s, h, hp, qs)) != ErrorCode::None) return e;
        trace_state(Queries, s.now());
        if ((e = drop_q_ahead(s)) != ErrorCode::None) return e;
        for (uint32_t i = 0; i < hp.valid_len && !m_abort; ++i) {
            QueryPtr q = std::move(qs[i]);  // the stages hold it from here: freed when done
            if (passes <= 1 && (e = front_query(s, h, i, *q)) != ErrorCode::None) return e;
            if (!s.put(m_evaluated, std::move(q))) return ErrorCode::None;
        }
    }
    return ErrorCode::None;
}

ErrorCode Pipeline::run_mask(Stage& s) {
    QueryPtr q, blk;
    uint32_t entry = 0, head = ~0u;
    while (!m_abort && s.get(m_evaluated, q)) {
        const uint32_t h = q->head, i = q->index;
        if (h != head) {  // a head's entries are dealt from unit 0
            entry = 0;
            head = h;
        }
        if (!q->masked) {
            const uint32_t end = uint32_t(core::key_end(int(i), q->hp.valid_len, m_job.opt.causal));
            const ErrorCode e = read_mask(s, h, i, *q, 0, end);
            if (e != ErrorCode::None) return e;
            --m_masks_unread;
            m_mask_read_ev.notify(SC_ZERO_TIME);
        }
        const uint32_t block = query_block(q->hp);
        if (block) {  // dense: into the block, which goes on when full or at the head's end
            if (!blk) blk = std::make_shared<Query>(*q);
            blk->members.push_back(q);
            if (q->candidates.size() > blk->candidates.size()) blk->candidates = q->candidates;
            if (blk->members.size() < block && !q->last_of_head) continue;
            blk->last_of_head = q->last_of_head;
            q = std::move(blk);
        }
        if (key_units()) {  // every unit its share of the query's (or block's) keys
            std::vector<QueryPtr> parts;
            deal_by_key(q, parts);
            for (const QueryPtr& p : parts) {
                Lane& l = *m_lanes[p->unit];
                if (!s.put(l.queries_k, p) || !s.put(l.queries_v, p)) return ErrorCode::None;
            }
            continue;
        }
        // Entry i goes to unit (i / per_turn) mod units: runs of unit_run queries, in whole
        // blocks in dense mode.
        const uint32_t per_turn = std::max(1u, m_cfg.controller.unit_run / std::max(1u, block));
        q->unit = (entry++ / per_turn) % uint32_t(m_lanes.size());
        Lane& l = *m_lanes[q->unit];
        if (!s.put(l.queries_k, q) || !s.put(l.queries_v, q)) return ErrorCode::None;
    }
    return ErrorCode::None;
}

// The passes of a head longer than the crossbar: pass p programs keys [p C, (p + 1) C) and
// evaluates every query that sees any of them (its Q row read again); the kept keys of the
// passes are joined in key order, and a query that kept none gets the empty-row key at the end
// (the best margin over all passes for the max policy).
ErrorCode Pipeline::front_passes(Stage& s, uint32_t h, const core::HeadParams& hp,
                                 std::vector<QueryPtr>& qs) {
    const uint32_t cap = m_cfg.xbar_capacity(m_job.d);
    std::vector<int32_t> best(hp.valid_len, -1);
    std::vector<double> best_margin(hp.valid_len, 0.0);
    // ADC top-k: each pass keeps its own best k; the row keeps the best k of all passes.
    const core::XbarNumerics x = m_cfg.numerics();
    const bool topk = x.adc_bits && x.adc_topk;
    std::vector<std::vector<std::pair<double, uint32_t>>> coded(topk ? hp.valid_len : 0);
    std::vector<double> codes(topk ? hp.valid_len : 0);
    // This head reads its masks itself, in the bank's order: the earlier heads' first.
    s.stall(
        m_mask_read_ev, [&] { return m_masks_unread == 0 || m_abort; }, s.times().blocked);
    for (uint32_t p = 0; p < m_passes[h] && !m_abort; ++p) {
        const uint32_t first = p * cap, last = std::min(hp.valid_len, first + cap);
        ErrorCode e = program_crossbar(s, h, hp, first, last);
        if (e != ErrorCode::None) return e;
        trace_state(Queries, s.now());
        if ((e = drop_q_ahead(s)) != ErrorCode::None) return e;
        for (uint32_t i = 0; i < hp.valid_len && !m_abort; ++i) {
            const uint32_t end = uint32_t(core::key_end(int(i), hp.valid_len, m_job.opt.causal));
            if (end <= first) continue;
            Query& q = *qs[i];
            if ((e = read_q_row(s, h, i, q)) != ErrorCode::None) return e;
            proto::XbarCommand xc;
            xc.codes_out = topk ? codes.data() : nullptr;
            const std::size_t before = q.candidates.size();
            if ((e = evaluate(s, h, i, q, first, std::min(end, last), true, xc)) !=
                    ErrorCode::None ||
                (e = read_mask(s, h, i, q, first, std::min(end, last))) != ErrorCode::None)
                return e;
            if (topk) {
                for (std::size_t c = before; c < q.candidates.size(); ++c)
                    coded[i].emplace_back(codes[q.candidates[c]], q.candidates[c]);
                q.candidates.resize(before);
            }
            if (xc.best_out >= 0 && (best[i] < 0 || xc.best_margin_out > best_margin[i])) {
                best[i] = xc.best_out;
                best_margin[i] = xc.best_margin_out;
            }
        }
    }
    for (uint32_t i = 0; i < hp.valid_len && !m_abort; ++i) {
        Query& q = *qs[i];
        q.masked = true;
        if (topk) q.candidates = core::adc_topk_merge(std::move(coded[i]), x.adc_topk);
        if (!q.candidates.empty()) continue;
        const uint32_t end = uint32_t(core::key_end(int(i), hp.valid_len, m_job.opt.causal));
        q.candidates.push_back(m_job.opt.empty_row == core::EmptyRowPolicy::Max
                                   ? uint32_t(best[i])
                                   : std::min(i, end - 1));
    }
    return ErrorCode::None;
}

// As many queries as the datapath has contexts, and as many as the score buffer holds the scores
// of: one tile each with the online softmax, else every key a member sees (at most valid_len);
// 0 outside dense mode.
uint32_t Pipeline::query_block(const core::HeadParams& hp) const {
    if (m_job.opt.mode != core::Mode::Dense) return 0;
    const uint32_t tile = core::online_tile(m_job.opt);
    const uint32_t by_scores =
        m_cfg.datapath.score_entries / std::max(1u, tile ? tile : hp.valid_len);
    return std::max(1u, std::min(m_cfg.datapath.contexts, by_scores));
}

ErrorCode Pipeline::front_head(Stage& s, uint32_t h, core::HeadParams& hp) {
    m_head_start[h] = s.now();
    trace_state(HeadTable, s.now());
    m_tracer.write(m_sig.head, h, offset_of(s.now()));
    m_tracer.head_begin(h, offset_of(s.now()));
    uint8_t entry[regs::kHeadEntryBytes];
    const ErrorCode e =
        mem_transfer(TLM_READ_COMMAND, m_job.table + uint64_t(h) * regs::kHeadEntryBytes, entry,
                     regs::kHeadEntryBytes, h, s);
    if (e != ErrorCode::None) return e;
    hp = regs::decode_head_entry(entry);
    if (!regs::head_entry_ok(hp, m_job.n)) return ErrorCode::BadHeadTable;
    m_head_left[h] = hp.valid_len;
    if (hp.valid_len == 0) m_tracer.head_end(h, offset_of(s.now()));  // no query will end it
    if (m_job.opt.mode != core::Mode::Sprint) return ErrorCode::None;
    m_passes[h] = core::crossbar_passes(m_cfg.numerics(), hp.valid_len, m_job.d);
    // With K-MSB read-back a head's K rows are read out of the array: its region (the array
    // holds head_regions heads at once) is reprogrammed only once they are all loaded.
    const uint32_t regions = m_cfg.numerics().head_regions(m_job.n, m_job.d);
    if (h >= regions && readback_head(h - regions))
        s.stall(
            m_k_fetched_ev, [&] { return m_k_left[h - regions] == 0 || m_abort; },
            s.times().blocked);
    if (m_abort) return ErrorCode::None;
    if (m_passes[h] > 1) return ErrorCode::None;  // programmed pass by pass (front_passes)
    // Each entry of the head (a query, or with key-interleaved units each share of one) counts.
    if (readback_head(h))
        m_k_left[h] = hp.valid_len * (key_units() ? uint32_t(m_lanes.size()) : 1u);
    return program_crossbar(s, h, hp, 0, hp.valid_len);
}

// Keys [first, last) of the head into the crossbar, one tile of keys at a time; padded keys are
// not written.
ErrorCode Pipeline::program_crossbar(Stage& s, uint32_t h, const core::HeadParams& hp,
                                     uint32_t first, uint32_t last) {
    const uint32_t n = m_job.n, d = m_job.d;
    trace_state(Program, s.now());
    const uint32_t tile = m_cfg.xbar.tile_cols;
    std::vector<uint8_t> buf;
    for (uint32_t j0 = first; j0 < last; j0 += tile) {
        const uint32_t cnt = std::min(tile, last - j0);
        buf.resize(std::size_t(cnt) * d);
        const uint64_t at = m_job.k + (uint64_t(h) * n + j0) * d;
        // Keys already in the array (xbar.k_resident): the model takes them untimed.
        ErrorCode e = m_cfg.xbar.k_resident
                          ? peek(at, buf.data(), cnt * d, s)
                          : mem_transfer(TLM_READ_COMMAND, at, buf.data(), cnt * d, h, s);
        if (e != ErrorCode::None) return e;
        proto::XbarCommand xc;
        xc.resident = m_cfg.xbar.k_resident;
        xc.op = proto::XbarOp::Program;
        xc.head = h;
        xc.d = d;
        xc.params = hp;
        xc.first_key = j0;
        xc.key_count = cnt;
        xc.keys_total = hp.valid_len;
        xc.column_base = m_cfg.numerics().head_base(h, m_job.n, d);
        if ((e = xbar(xc, buf.data(), cnt * d, s)) != ErrorCode::None) return e;
    }
    return ErrorCode::None;
}

// Query i's Q row, from the group of q_rows_per_read rows read in one burst (one memory latency
// for the group): the group read ahead, when it was, else read now; then the groups after it
// read ahead.
ErrorCode Pipeline::read_q_row(Stage& s, uint32_t h, uint32_t i, Query& q) {
    const uint32_t n = m_job.n, d = m_job.d;
    if (!q.front_seen) {  // the query enters the pipeline (its first pass, with passes)
        q.front = s.now();
        q.front_seen = true;
    }
    m_tracer.write(m_sig.query, i, offset_of(s.now()));
    if (i < m_q_first || i >= m_q_first + m_q_count) {
        QGroupPtr got;
        while (!got && !m_q_ahead.empty()) {  // earlier groups than i's: finished, then dropped
            QGroupPtr g = std::move(m_q_ahead.front());
            m_q_ahead.pop_front();
            s.stall(
                g->ev, [&] { return g->done; }, s.times().busy);
            if (g->e != ErrorCode::None) return g->e;
            if (g->head == h && i >= g->first && i < g->first + g->count) got = std::move(g);
        }
        if (got) {
            m_q_first = got->first;
            m_q_count = got->count;
            m_q_rows.swap(got->rows);
        } else {
            m_q_first = i;
            m_q_count = std::min(m_cfg.controller.q_rows_per_read, q.hp.valid_len - i);
            m_q_rows.resize(std::size_t(m_q_count) * d);
            const ErrorCode e =
                mem_transfer(TLM_READ_COMMAND, m_job.q + (uint64_t(h) * n + i) * d,
                             reinterpret_cast<uint8_t*>(m_q_rows.data()), m_q_count * d, h, s);
            if (e != ErrorCode::None) return e;
        }
        read_q_ahead(s, h, q.hp.valid_len);
    }
    const auto row = m_q_rows.begin() + std::ptrdiff_t(i - m_q_first) * d;
    q.q.assign(row, row + d);
    return ErrorCode::None;
}

void Pipeline::read_q_ahead(Stage& s, uint32_t h, uint32_t end) {
    uint32_t next = m_q_ahead.empty() ? m_q_first + m_q_count
                                      : m_q_ahead.back()->first + m_q_ahead.back()->count;
    while (m_q_ahead.size() < m_cfg.controller.q_groups_ahead && next < end) {
        auto g = std::make_shared<QGroup>();
        g->head = h;
        g->first = next;
        g->count = std::min(m_cfg.controller.q_rows_per_read, end - next);
        g->rows.resize(std::size_t(g->count) * m_job.d);
        g->start = s.now();
        next += g->count;
        m_q_ahead.push_back(g);
        m_q_tasks.push_back(std::move(g));
        m_q_task_ev.notify(SC_ZERO_TIME);
    }
}

ErrorCode Pipeline::drop_q_ahead(Stage& s) {
    ErrorCode e = ErrorCode::None;
    for (; !m_q_ahead.empty(); m_q_ahead.pop_front()) {
        const QGroupPtr& g = m_q_ahead.front();
        s.stall(
            g->ev, [&] { return g->done; }, s.times().blocked);
        if (e == ErrorCode::None) e = g->e;
    }
    m_q_first = m_q_count = 0;
    return e;
}

// Query i on the crossbar and comparators over keys [first, last): the decisions latched in the
// comparator bank for read_mask.
ErrorCode Pipeline::evaluate(Stage& s, uint32_t h, uint32_t i, Query& q, uint32_t first,
                             uint32_t last, bool defer_empty, proto::XbarCommand& xc) {
    xc.op = proto::XbarOp::Evaluate;
    xc.head = h;
    xc.d = m_job.d;
    xc.params = q.hp;
    xc.query = i;
    xc.key_begin = first;
    xc.key_end = last;
    xc.empty_row = m_job.opt.empty_row;
    xc.defer_empty = defer_empty;
    return xbar(xc, reinterpret_cast<uint8_t*>(q.q.data()), m_job.d, s);
}

ErrorCode Pipeline::read_mask(Stage& s, uint32_t h, uint32_t i, Query& q, uint32_t first,
                              uint32_t last) {
    m_mask.assign(last, 0);
    proto::MaskCommand mc;
    mc.head = h;
    mc.query = i;
    const ErrorCode e = comparators(mc, m_mask.data(), last, s);
    if (e != ErrorCode::None) return e;
    for (uint32_t j = first; j < last; ++j)
        if (m_mask[j]) q.candidates.push_back(j);
    return ErrorCode::None;
}

ErrorCode Pipeline::front_query(Stage& s, uint32_t h, uint32_t i, Query& q) {
    const int end = core::key_end(int(i), q.hp.valid_len, m_job.opt.causal);
    ErrorCode e = read_q_row(s, h, i, q);
    if (e != ErrorCode::None) return e;
    if (m_job.opt.mode != core::Mode::Sprint) {
        for (int j = 0; j < end; ++j) q.candidates.push_back(uint32_t(j));
        q.masked = true;
        return ErrorCode::None;
    }
    proto::XbarCommand xc;
    e = evaluate(s, h, i, q, 0, uint32_t(end), false, xc);
    if (e == ErrorCode::None) ++m_masks_unread;
    return e;
}

}  // namespace sprint

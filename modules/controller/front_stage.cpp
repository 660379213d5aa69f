// The front stage: per head the head-table entry and the crossbar programming, per query the Q
// row and its keep mask from the crossbar and comparators.
#include <algorithm>

#include "core/keep_rule.h"
#include "modules/common/timing.h"
#include "modules/controller/pipeline.h"

namespace sprint {

using namespace sc_core;
using namespace tlm;
using regs::ErrorCode;

ErrorCode Pipeline::run_front(Stage& s) {
    for (uint32_t h = 0; h < m_job.heads && !m_abort; ++h) {
        core::HeadParams hp;
        ErrorCode e = front_head(s, h, hp);
        if (e != ErrorCode::None) return e;
        trace_state(Queries, s.now());
        const uint32_t block = query_block(hp);
        QueryPtr blk;
        uint32_t entry = 0;  // the head's entries so far: entry i goes to unit i mod units
        m_q_first = m_q_count = 0;
        for (uint32_t i = 0; i < hp.valid_len && !m_abort; ++i) {
            auto q = std::make_shared<Query>();
            q->head = h;
            q->index = i;
            q->hp = hp;
            q->last_of_head = i + 1 == hp.valid_len;
            if ((e = front_query(s, h, i, *q)) != ErrorCode::None) return e;
            if (block) {  // dense: into the block, which goes on when full or at the head's end
                if (!blk) blk = std::make_shared<Query>(*q);
                blk->members.push_back(q);
                if (q->candidates.size() > blk->candidates.size()) blk->candidates = q->candidates;
                if (blk->members.size() < block && !q->last_of_head) continue;
                blk->last_of_head = q->last_of_head;
                q = std::move(blk);
            }
            q->unit = entry++ % uint32_t(m_lanes.size());
            Lane& l = *m_lanes[q->unit];
            if (!s.put(l.queries_k, q) || !s.put(l.queries_v, q)) return ErrorCode::None;
        }
    }
    return ErrorCode::None;
}

// As many queries as the datapath has contexts, and as many as the score buffer holds the scores
// of (each member sees at most valid_len keys); 0 outside dense mode.
uint32_t Pipeline::query_block(const core::HeadParams& hp) const {
    if (m_job.opt.mode != core::Mode::Dense) return 0;
    const uint32_t by_scores = m_cfg.datapath.score_entries / std::max(1u, hp.valid_len);
    return std::max(1u, std::min(m_cfg.datapath.contexts, by_scores));
}

ErrorCode Pipeline::front_head(Stage& s, uint32_t h, core::HeadParams& hp) {
    m_head_start[h] = s.now();
    trace_state(HeadTable, s.now());
    m_tracer.write(m_sig.head, h, offset_of(s.now()));
    uint8_t entry[regs::kHeadEntryBytes];
    const ErrorCode e =
        mem_transfer(TLM_READ_COMMAND, m_job.table + uint64_t(h) * regs::kHeadEntryBytes, entry,
                     regs::kHeadEntryBytes, s);
    if (e != ErrorCode::None) return e;
    hp = regs::decode_head_entry(entry);
    if (!regs::head_entry_ok(hp, m_job.n)) return ErrorCode::BadHeadTable;
    m_head_left[h] = hp.valid_len;
    if (m_job.opt.mode != core::Mode::Sprint) return ErrorCode::None;
    // With K-MSB read-back the previous head's K rows are read out of the array: it is
    // reprogrammed only once they are all loaded.
    if (readback() && h > 0)
        s.stall(
            m_k_fetched_ev, [&] { return m_k_left[h - 1] == 0 || m_abort; }, s.times().blocked);
    if (m_abort) return ErrorCode::None;
    m_k_left[h] = hp.valid_len;
    return program_crossbar(s, h, hp);
}

// The head's keys into the crossbar, one tile of keys at a time; padded keys are not written.
ErrorCode Pipeline::program_crossbar(Stage& s, uint32_t h, const core::HeadParams& hp) {
    const uint32_t n = m_job.n, d = m_job.d;
    trace_state(Program, s.now());
    const uint32_t tile = m_cfg.xbar.tile_cols;
    std::vector<uint8_t> buf;
    for (uint32_t j0 = 0; j0 < hp.valid_len; j0 += tile) {
        const uint32_t cnt = std::min(tile, hp.valid_len - j0);
        buf.resize(std::size_t(cnt) * d);
        ErrorCode e = mem_transfer(TLM_READ_COMMAND, m_job.k + (uint64_t(h) * n + j0) * d,
                                   buf.data(), cnt * d, s);
        if (e != ErrorCode::None) return e;
        proto::XbarCommand xc;
        xc.op = proto::XbarOp::Program;
        xc.head = h;
        xc.d = d;
        xc.params = hp;
        xc.first_key = j0;
        xc.key_count = cnt;
        if ((e = xbar(xc, buf.data(), cnt * d, s)) != ErrorCode::None) return e;
    }
    return ErrorCode::None;
}

ErrorCode Pipeline::front_query(Stage& s, uint32_t h, uint32_t i, Query& q) {
    const uint32_t n = m_job.n, d = m_job.d;
    const int end = core::key_end(int(i), q.hp.valid_len, m_job.opt.causal);
    // Q rows come in groups of q_rows_per_read (one burst, one memory latency for the group).
    ErrorCode e = ErrorCode::None;
    if (i >= m_q_first + m_q_count) {
        m_q_first = i;
        m_q_count = std::min(m_cfg.controller.q_rows_per_read, q.hp.valid_len - i);
        m_q_rows.resize(std::size_t(m_q_count) * d);
        e = mem_transfer(TLM_READ_COMMAND, m_job.q + (uint64_t(h) * n + i) * d,
                         reinterpret_cast<uint8_t*>(m_q_rows.data()), m_q_count * d, s);
        if (e != ErrorCode::None) return e;
    }
    const auto row = m_q_rows.begin() + std::ptrdiff_t(i - m_q_first) * d;
    q.q.assign(row, row + d);
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
    if ((e = xbar(xc, reinterpret_cast<uint8_t*>(q.q.data()), d, s)) != ErrorCode::None) return e;
    for (int j = 0; j < end; ++j)
        if (mask[std::size_t(j)]) q.candidates.push_back(uint32_t(j));
    return ErrorCode::None;
}

}  // namespace sprint

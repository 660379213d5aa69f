// Key-interleaved units on the compute stage: a query dealt to the units by key, each unit's share
// scored against the row's shared maximum, and the shares joined into the query's output row.
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

void Pipeline::add_share(Query& w, const Query& q) {
    w.k_fetched += q.k_fetched;
    w.v_fetched += q.v_fetched;
    w.k_reused += q.k_reused;
    w.v_reused += q.v_reused;
    w.compute_busy_ns += q.compute_busy_ns;
    w.compute_wait_ns += q.compute_wait_ns;
    if (q.unit == 0) w.compute_begin = q.compute_begin;
    w.compute_end = std::max(w.compute_end, q.compute_end);
}

bool Pipeline::key_units() const {
    return m_job.opt.key_units > 1;
}

void Pipeline::deal_by_key(const QueryPtr& q, std::vector<QueryPtr>& parts) {
    const uint32_t units = uint32_t(m_lanes.size());
    auto g = std::make_shared<Group>();
    g->whole = q;
    for (uint32_t u = 0; u < units; ++u) {
        auto p = std::make_shared<Query>();
        p->head = q->head;
        p->index = q->index;
        p->hp = q->hp;
        p->q = q->q;
        p->last_of_head = q->last_of_head;
        p->front = q->front;
        p->front_seen = q->front_seen;
        p->unit = u;
        p->group = g;
        p->members = q->members;  // a dense block: every unit holds every member's row
        parts.push_back(p);
    }
    for (uint32_t j : q->candidates) parts[j % units]->candidates.push_back(j);
    q->unit = 0;  // the unit that joins the shares and writes the row
    g->sums.assign(units, 0);
    g->sumfs.assign(units, 0.0);
    g->partials.resize(units);
    if (q->members.empty()) return;
    const std::size_t nb = q->members.size(), tile = core::online_tile(m_job.opt);
    const std::size_t tiles = (q->candidates.size() + tile - 1) / tile;
    g->tile_max.assign(tiles * nb, 0);
    g->tile_any.assign(tiles * nb, 0);
    g->tile_partials.assign(units, std::vector<core::RowEngine::Partial>(nb));
}

void Pipeline::wait_shares(Stage& s, uint32_t& count, uint32_t target) {
    ++count;
    s.qk.sync();  // the share arrives at the unit's own time
    if (count >= target)
        m_shares_ev.notify(SC_ZERO_TIME);
    else
        s.stall(
            m_shares_ev, [&] { return count >= target || m_abort; }, s.times().starved);
}

// The share's softmax: its largest score to the group, the row's maximum back, the exponentials
// against it (prob8 and float: normalised by the units' total sum, a second exchange).
ErrorCode Pipeline::shared_softmax(Stage& s, Lane& l, Query& q, proto::DatapathCommand& c) {
    Group& g = *q.group;
    const uint32_t units = uint32_t(m_lanes.size());
    proto::DatapathCommand m = c;
    int32_t mx = 0;
    bool any = false;
    m.op = proto::DatapathOp::LocalMax;
    m.max_out = &mx;
    m.any_out = &any;
    ErrorCode e = dp(l, m, TLM_IGNORE_COMMAND, nullptr, 0, s);
    if (e != ErrorCode::None) return e;
    if (any && (!g.any || mx > g.max)) g.max = mx;
    g.any |= any;
    wait_shares(s, g.at_max, units);
    if (m_abort) return ErrorCode::None;
    uint64_t sum = 0;
    double sumf = 0.0;
    c.shared_max = true;
    c.row_max = g.max;
    c.sum_out = &sum;
    c.sumf_out = &sumf;
    e = dp(l, c, TLM_IGNORE_COMMAND, nullptr, 0, s);
    c.shared_max = false;
    c.sum_out = nullptr;
    c.sumf_out = nullptr;
    if (e != ErrorCode::None) return e;
    g.sums[q.unit] = sum;
    g.sumfs[q.unit] = sumf;
    if (m_job.opt.softmax == core::SoftmaxKind::Fixed) return ErrorCode::None;
    wait_shares(s, g.at_sum, units);
    if (m_abort) return ErrorCode::None;
    m.op = proto::DatapathOp::Normalise;
    m.total = 0;
    m.total_f = 0.0;
    for (uint32_t u = 0; u < units; ++u) {  // in unit order, as the core's reference adds them
        m.total += g.sums[u];
        m.total_f += g.sumfs[u];
    }
    return dp(l, m, TLM_IGNORE_COMMAND, nullptr, 0, s);
}

// After its V rows: a share of unit u > 0 hands its partial to the group (the context ends);
// unit 0 waits for the others, adds them into its own context and reads the row out.
ErrorCode Pipeline::join_shares(Stage& s, Lane& l, const QueryPtr& qp) {
    Query& q = *qp;
    Group& g = *q.group;
    const uint32_t units = uint32_t(m_lanes.size());
    const uint32_t bytes = (m_job.d + 1) * 8;
    std::vector<uint8_t> wire(bytes);  // what crosses between the units (the model's timing)
    proto::DatapathCommand c;
    c.head = q.head;
    c.query = q.index;
    if (q.unit != 0) {
        core::RowEngine::Partial p;
        c.op = proto::DatapathOp::Partial;
        c.partial_out = &p;
        const ErrorCode e = dp(l, c, TLM_READ_COMMAND, wire.data(), bytes, s);
        if (e != ErrorCode::None) return e;
        g.partials[q.unit] = std::move(p);
        ++g.at_partial;  // unit 0 waits for units - 1 of them; this unit goes on
        s.qk.sync();
        m_shares_ev.notify(SC_ZERO_TIME);
        return ErrorCode::None;
    }
    s.stall(
        m_shares_ev, [&] { return g.at_partial >= units - 1 || m_abort; }, s.times().starved);
    if (m_abort) return ErrorCode::None;
    for (uint32_t u = 1; u < units; ++u) {  // in unit order
        c.op = proto::DatapathOp::Merge;
        c.partial_in = &g.partials[u];
        const ErrorCode e = dp(l, c, TLM_WRITE_COMMAND, wire.data(), bytes, s);
        if (e != ErrorCode::None) return e;
    }
    g.whole->kept = g.whole->candidates;  // every kept key, in key order
    return finish_query(s, l, g.whole);
}

}  // namespace sprint

// The compute stage: per query the datapath's QK over the K chunks, the softmax (with the
// on-chip pruning and its own V fetches in onchip-prune mode), V over the V chunks and the output
// row written back; every chunk's rows released after use.
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
        const ErrorCode e = compute_query(s, l, qp, it);
        if (e != ErrorCode::None) return e;
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
    s.show_query(q.index);
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

// Dense mode: one context per member of the block. Every chunk is read once for all of them;
// member c uses the chunk's tokens below its own key end (a prefix: candidates ascend).
// How many of `n` chunk tokens each member of the block uses: those below its own key end.
void Pipeline::prefix_counts(const Query& blk, const uint32_t* tokens, uint32_t n,
                             std::vector<uint32_t>& counts) {
    for (uint32_t c = 0; c < counts.size(); ++c) {
        const auto& cand = blk.members[c]->candidates;
        const uint32_t end = cand.empty() ? 0 : cand.back() + 1;
        counts[c] = uint32_t(std::lower_bound(tokens, tokens + n, end) - tokens);
    }
}

// A block's start: the row options into `c`, every member's Q row into its datapath context.
ErrorCode Pipeline::begin_block(Stage& s, Lane& l, Query& blk, proto::DatapathCommand& c) {
    const uint32_t d = m_job.d;
    c.head = blk.head;
    c.d = d;
    blk.compute_begin = s.now();
    s.show_query(blk.index);
    c.logit_scale = core::exact_logit_scale(blk.hp, int(d));
    c.s_v = blk.hp.s_v;
    c.softmax = m_job.opt.softmax;
    c.output = m_job.opt.output;
    c.softmax_tile = core::online_tile(m_job.opt);
    ErrorCode e = ErrorCode::None;
    for (uint32_t k = 0; k < blk.members.size() && e == ErrorCode::None; ++k) {
        c.op = proto::DatapathOp::Begin;
        c.query = blk.members[k]->index;
        c.context = k;
        e = dp(l, c, TLM_WRITE_COMMAND, reinterpret_cast<uint8_t*>(blk.members[k]->q.data()), d, s);
    }
    return e;
}

// A block's end: every member's output row out of the datapath, the block's time recorded.
ErrorCode Pipeline::finish_block(Stage& s, Lane& l, Query& blk) {
    const uint32_t nb = uint32_t(blk.members.size());
    ErrorCode e = ErrorCode::None;
    for (uint32_t k = 0; k < nb && e == ErrorCode::None && !m_abort; ++k)
        e = finish_query(s, l, blk.members[k], k);
    if (e != ErrorCode::None || m_abort) return e;
    blk.compute_end = s.now();
    compute_time(l, blk);
    if (m_record_queries)
        for (uint32_t k = 0; k < nb; ++k) record_compute(*blk.members[k], blk, k == 0);
    return ErrorCode::None;
}

ErrorCode Pipeline::compute_block(Stage& s, Lane& l, Query& blk, Item& it) {
    const uint32_t nb = uint32_t(blk.members.size());
    std::vector<uint32_t> counts(nb);
    proto::DatapathCommand c;
    ErrorCode e = begin_block(s, l, blk, c);
    c.counts = counts.data();
    c.contexts = nb;
    c.query = blk.index;  // a chunk's rows are read for the block: counted on its lead
    while (e == ErrorCode::None && !m_abort && s.get(l.k_items, it) && it.kind == Item::KChunk) {
        c.op = proto::DatapathOp::QkChunk;
        c.tokens = &blk.candidates[it.first];
        c.slots = it.slots.data();
        c.count = it.count;
        prefix_counts(blk, c.tokens, c.count, counts);
        e = dp(l, c, TLM_IGNORE_COMMAND, nullptr, 0, s);
        if (e == ErrorCode::None)
            e = release_rows(l, proto::Buffer::K, blk, c.tokens, it.slots.data(), it.count, s);
    }
    c.counts = nullptr;
    for (uint32_t k = 0; k < nb && e == ErrorCode::None && !m_abort; ++k) {
        c.op = proto::DatapathOp::Softmax;
        c.query = blk.members[k]->index;
        c.context = k;
        c.kept_out = &blk.members[k]->kept;
        e = dp(l, c, TLM_IGNORE_COMMAND, nullptr, 0, s);
    }
    c.counts = counts.data();
    c.query = blk.index;
    while (e == ErrorCode::None && !m_abort && s.get(l.v_items, it) && it.kind == Item::VChunk) {
        c.op = proto::DatapathOp::VChunk;
        c.tokens = &blk.candidates[it.first];
        c.slots = it.slots.data();
        c.count = it.count;
        prefix_counts(blk, c.tokens, c.count, counts);
        if ((e = dp(l, c, TLM_IGNORE_COMMAND, nullptr, 0, s)) == ErrorCode::None)
            e = release_rows(l, proto::Buffer::V, blk, c.tokens, it.slots.data(), it.count, s);
    }
    return e == ErrorCode::None ? finish_block(s, l, blk) : e;
}

// Dense mode with the online softmax: tile by tile, the tile's K rows scored for every member,
// then its V rows weighed (core/row_engine.h). A tile's rows may lie in two chunks and a chunk
// may hold several tiles: each datapath command takes the part of a chunk in the tile, and a
// chunk's rows are released once all of it is used. Each member holds at most one tile's scores.
class Pipeline::TileFeed {
  public:
    TileFeed(Pipeline& p, Stage& s, Lane& l, Query& blk, proto::Buffer b)
        : m_p(p), m_s(s), m_l(l), m_blk(blk), m_b(b) {}
    // Positions [from, to) of the block's candidates through the datapath (QkChunk for the K
    // buffer, VChunk for V), each member its prefix (`counts`, one per member), taking the
    // buffer's chunks from its stream as they are needed.
    ErrorCode run(uint32_t from, uint32_t to, proto::DatapathCommand& c,
                  std::vector<uint32_t>& counts);
    Item item;
    bool have = false;
    uint32_t used = 0;  // rows of `item` already used

  private:
    Pipeline& m_p;
    Stage& m_s;
    Lane& m_l;
    Query& m_blk;
    proto::Buffer m_b;
};

ErrorCode Pipeline::TileFeed::run(uint32_t from, uint32_t to, proto::DatapathCommand& c,
                                  std::vector<uint32_t>& counts) {
    const bool k = m_b == proto::Buffer::K;
    Channel<Item>& items = k ? m_l.k_items : m_l.v_items;
    ErrorCode e = ErrorCode::None;
    while (from < to && e == ErrorCode::None && !m_p.m_abort) {
        if (!have || used == item.count) {
            if (!m_s.get(items, item)) return ErrorCode::None;  // aborting
            if (item.kind != (k ? Item::KChunk : Item::VChunk) || item.first != from)
                return ErrorCode::Internal;
            have = true;
            used = 0;
        }
        const uint32_t n = std::min(item.count - used, to - from);
        c.op = k ? proto::DatapathOp::QkChunk : proto::DatapathOp::VChunk;
        c.tokens = &m_blk.candidates[from];
        c.slots = item.slots.data() + used;
        c.count = n;
        prefix_counts(m_blk, c.tokens, n, counts);
        if ((e = m_p.dp(m_l, c, TLM_IGNORE_COMMAND, nullptr, 0, m_s)) != ErrorCode::None) break;
        used += n;
        from += n;
        if (used == item.count)
            e = m_p.release_rows(m_l, m_b, m_blk, &m_blk.candidates[item.first], item.slots.data(),
                                 item.count, m_s);
    }
    return e;
}

ErrorCode Pipeline::compute_block_online(Stage& s, Lane& l, Query& blk, Item& it) {
    const uint32_t nb = uint32_t(blk.members.size());
    const uint32_t tile = core::online_tile(m_job.opt);
    const uint32_t total = uint32_t(blk.candidates.size());
    proto::DatapathCommand c;
    ErrorCode e = begin_block(s, l, blk, c);
    std::vector<uint32_t> counts(nb);
    c.counts = counts.data();
    c.contexts = nb;
    c.query = blk.index;  // a chunk's rows are read for the block: counted on its lead
    TileFeed kf(*this, s, l, blk, proto::Buffer::K), vf(*this, s, l, blk, proto::Buffer::V);
    for (uint32_t a = 0; a < total && e == ErrorCode::None && !m_abort; a += tile) {
        const uint32_t b = std::min(total, a + tile);
        if ((e = kf.run(a, b, c, counts)) == ErrorCode::None && !m_abort)
            e = vf.run(a, b, c, counts);
    }
    // The streams' closing markers: Softmax after the last K chunk, End after the last V chunk.
    if (e == ErrorCode::None && !m_abort && (!s.get(l.k_items, it) || it.kind != Item::Softmax))
        e = m_abort ? ErrorCode::None : ErrorCode::Internal;
    c.counts = nullptr;
    for (uint32_t k = 0; k < nb && e == ErrorCode::None && !m_abort; ++k) {
        c.op = proto::DatapathOp::Softmax;  // closes the member's row
        c.query = blk.members[k]->index;
        c.context = k;
        c.kept_out = &blk.members[k]->kept;
        e = dp(l, c, TLM_IGNORE_COMMAND, nullptr, 0, s);
    }
    if (e == ErrorCode::None && !m_abort && (!s.get(l.v_items, it) || it.kind != Item::End))
        e = m_abort ? ErrorCode::None : ErrorCode::Internal;
    return e == ErrorCode::None ? finish_block(s, l, blk) : e;
}

// Dense mode with the online softmax on key-interleaved units (core/row_engine.h): every unit
// runs the whole block on its share of the keys, tile by tile in step with the others: the
// tile's K rows scored, the members' largest scores exchanged (their maximum is the running one),
// the tile entered with it, the tile's V rows weighed, and the tile's partial accumulators handed
// to unit 0, which adds them before its next tile and at the end writes the block's rows.
ErrorCode Pipeline::compute_block_split(Stage& s, Lane& l, Query& blk, Item& it) {
    const uint32_t nb = uint32_t(blk.members.size());
    const uint32_t tile = core::online_tile(m_job.opt);
    const uint32_t tiles = uint32_t(blk.group->tile_max.size() / nb);
    proto::DatapathCommand c;
    ErrorCode e = begin_block(s, l, blk, c);
    std::vector<uint32_t> counts(nb), active(nb);
    c.contexts = nb;
    c.query = blk.index;  // a chunk's rows are read for the block: counted on its lead
    TileFeed kf(*this, s, l, blk, proto::Buffer::K), vf(*this, s, l, blk, proto::Buffer::V);
    uint32_t a = 0;  // the share's first position in tile t
    for (uint32_t t = 0; t < tiles && e == ErrorCode::None && !m_abort; ++t) {
        const auto& cand = blk.candidates;
        const uint32_t b =
            uint32_t(std::lower_bound(cand.begin(), cand.end(), (t + 1) * tile) - cand.begin());
        for (uint32_t k = 0; k < nb; ++k) {  // the members whose rows reach tile t
            const auto& mc = blk.members[k]->candidates;
            active[k] = !mc.empty() && mc.back() >= t * tile;
        }
        c.counts = counts.data();
        if ((e = kf.run(a, b, c, counts)) != ErrorCode::None || m_abort) break;
        if ((e = exchange_maxima(s, l, blk, t, c, active)) != ErrorCode::None || m_abort) break;
        c.counts = counts.data();
        if ((e = vf.run(a, b, c, counts)) != ErrorCode::None || m_abort) break;
        a = b;
        const bool last = t + 1 == tiles && blk.unit != 0;
        // This unit's last tile: its streams' closing markers first, and its record's part
        // before unit 0 may see the partial (and complete the record).
        if (last && ((e = close_block_split(s, l, it)) != ErrorCode::None || m_abort)) break;
        if ((e = exchange_partials(s, l, blk, t, c, active)) != ErrorCode::None || m_abort) break;
        if (last) {
            blk.compute_end = s.now();
            compute_time(l, blk);
            add_share(*blk.group->whole, blk);
        }
        if (blk.unit != 0) hand_partial(s, *blk.group);
        if (last) return ErrorCode::None;
    }
    if (e != ErrorCode::None || m_abort) return e;
    if ((e = close_block_split(s, l, it)) != ErrorCode::None || m_abort) return e;
    Query& whole = *blk.group->whole;  // unit 0: the rows closed and written
    c.counts = nullptr;
    for (uint32_t k = 0; k < nb && e == ErrorCode::None && !m_abort; ++k) {
        c.op = proto::DatapathOp::Softmax;
        c.query = blk.members[k]->index;
        c.context = k;
        std::vector<uint32_t> own;
        c.kept_out = &own;
        e = dp(l, c, TLM_IGNORE_COMMAND, nullptr, 0, s);
        blk.members[k]->kept = blk.members[k]->candidates;  // every visible key, on some unit
    }
    for (uint32_t k = 0; k < nb && e == ErrorCode::None && !m_abort; ++k)
        e = finish_query(s, l, blk.members[k], k);
    if (e != ErrorCode::None || m_abort) return e;
    blk.compute_end = s.now();
    compute_time(l, blk);
    add_share(whole, blk);
    if (m_record_queries)
        for (uint32_t k = 0; k < nb; ++k) record_compute(*blk.members[k], whole, k == 0);
    return ErrorCode::None;
}

// A unit's tile partial is the group's (at the unit's own time): unit 0 waits for units - 1 of
// them each tile; this unit goes on.
void Pipeline::hand_partial(Stage& s, Group& g) {
    s.qk.sync();
    ++g.at_partial;
    m_shares_ev.notify(SC_ZERO_TIME);
}

// The streams' closing markers after a split block's last chunks: Softmax (K) and End (V).
ErrorCode Pipeline::close_block_split(Stage& s, Lane& l, Item& it) {
    if (!s.get(l.k_items, it) || it.kind != Item::Softmax)
        return m_abort ? ErrorCode::None : ErrorCode::Internal;
    if (!s.get(l.v_items, it) || it.kind != Item::End)
        return m_abort ? ErrorCode::None : ErrorCode::Internal;
    return ErrorCode::None;
}

// A split block's first exchange of tile t: the members' largest scores to the group, the running
// maxima back, and the tile entered with them.
ErrorCode Pipeline::exchange_maxima(Stage& s, Lane& l, Query& blk, uint32_t t,
                                    proto::DatapathCommand& c, std::vector<uint32_t>& active) {
    Group& g = *blk.group;
    const uint32_t nb = uint32_t(blk.members.size()), units = uint32_t(m_lanes.size());
    c.counts = active.data();
    std::vector<int32_t> mx(nb);
    std::vector<uint8_t> any(nb);
    c.op = proto::DatapathOp::LocalMax;
    c.maxes_out = mx.data();
    c.anys_out = any.data();
    ErrorCode e = dp(l, c, TLM_IGNORE_COMMAND, nullptr, 0, s);
    if (e != ErrorCode::None) return e;
    int32_t* gm = &g.tile_max[std::size_t(t) * nb];
    uint8_t* ga = &g.tile_any[std::size_t(t) * nb];
    for (uint32_t k = 0; k < nb; ++k)
        if (active[k] && any[k] && (!ga[k] || mx[k] > gm[k])) gm[k] = mx[k], ga[k] = 1;
    wait_shares(s, g.at_max, units * (t + 1));
    if (m_abort) return ErrorCode::None;
    c.op = proto::DatapathOp::EnterTile;
    c.tile = t;
    c.run_maxes = gm;
    c.running = blk.unit == 0;
    return dp(l, c, TLM_IGNORE_COMMAND, nullptr, 0, s);
}

// A split block's second exchange of tile t: its partials read out (units > 0: the caller hands
// them to the group, hand_partial) or merged in unit order (unit 0).
ErrorCode Pipeline::exchange_partials(Stage& s, Lane& l, Query& blk, uint32_t t,
                                      proto::DatapathCommand& c, std::vector<uint32_t>& active) {
    Group& g = *blk.group;
    const uint32_t nb = uint32_t(blk.members.size()), units = uint32_t(m_lanes.size());
    const uint32_t tiles = uint32_t(g.tile_max.size() / nb);
    c.counts = active.data();
    std::vector<uint8_t> wire(std::size_t(nb) * (m_job.d + 1) * 8);  // the model's timing
    if (blk.unit != 0) {
        c.op = proto::DatapathOp::Partial;
        c.partials_out = g.tile_partials[blk.unit].data();
        c.end_contexts = t + 1 == tiles;
        return dp(l, c, TLM_READ_COMMAND, wire.data(), uint32_t(wire.size()), s);  // then handed
    }
    s.stall(
        m_shares_ev, [&] { return g.at_partial >= (units - 1) * (t + 1) || m_abort; },
        s.times().starved);
    for (uint32_t u = 1; u < units && !m_abort; ++u) {  // in unit order
        c.op = proto::DatapathOp::Merge;
        c.partials_in = g.tile_partials[u].data();
        const ErrorCode e = dp(l, c, TLM_WRITE_COMMAND, wire.data(), uint32_t(wire.size()), s);
        if (e != ErrorCode::None) return e;
    }
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
        s.show_query(q.index);
        const ErrorCode e =
            mem_transfer(TLM_WRITE_COMMAND, m_job.out + (uint64_t(q.head) * n + q.index) * d * eb,
                         o.bytes.data(), d * eb, q.head, s, q.index);
        if (e != ErrorCode::None) return e;
        account(s, q);
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

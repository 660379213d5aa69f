// Dense query blocks on the compute stage: the plain two-pass block, the online-softmax block
// tile by tile, and the block split by key over the units (their maxima and partials exchanged).
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

}  // namespace sprint

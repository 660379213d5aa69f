#include "modules/datapath.h"

#include <algorithm>

#include "tlm_interfaces/payload.h"

namespace sprint {

using namespace sc_core;
using namespace tlm;

Datapath::Datapath(const sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer)
    : sc_module(name),
      from_controller("from_controller", 1,
                      [this](tlm_generic_payload& gp, sc_time& d) { b_transport(gp, d); }),
      to_sram("to_sram", cfg.timing),
      busy("busy"),
      phase("phase"),
      m_cfg(cfg),
      m_clock(cfg.clock_ns, SC_NS),
      m_tracer(tracer),
      m_engines(cfg.datapath.contexts),
      m_context_query(cfg.datapath.contexts, core::kNoQuery),
      m_live(cfg.datapath.contexts, 0),
      m_stats(basename(), "digital exact recompute: QK, softmax and V units") {
    m_stats.add(
        "queued_ns",
        [this] { return nlohmann::json(from_controller.accept_stall.to_seconds() * 1e9); }, "ns",
        "AT: time requests waited for this block to accept them (END_REQ), summed");
}

void Datapath::mark(uint32_t ph, const sc_time& start, const sc_time& end) {
    if (!m_tracer.enabled()) return;
    m_tracer.write(busy, true, offset_of(start));
    m_tracer.write(phase, ph, offset_of(start));
    m_tracer.write(busy, false, offset_of(end));
    m_tracer.write(phase, 0u, offset_of(end));
}

core::RowEngine* Datapath::engine(uint32_t context) {
    return context < m_engines.size() ? &m_engines[context] : nullptr;
}

std::size_t Datapath::scores_held() const {
    std::size_t n = 0;
    for (std::size_t c = 0; c < m_engines.size(); ++c)
        if (m_live[c]) n += m_engines[c].scores_held();
    return n;
}

template <class Use>
bool Datapath::stream_rows(const proto::DatapathCommand& cmd, proto::Buffer buf, uint32_t lanes,
                           sc_time& delay, core::Duration& busy_ns, uint64_t& uses,
                           core::HeadCounter& macs, Use use) {
    if (cmd.count && (!cmd.tokens || !cmd.slots)) return false;
    // The contexts served and how many of the rows each uses.
    const uint32_t first = cmd.counts ? 0 : cmd.context;
    const uint32_t last = cmd.counts ? cmd.contexts : cmd.context + 1;
    if (last > m_engines.size() || first >= last) return false;
    auto used_by = [&](uint32_t c) { return cmd.counts ? cmd.counts[c] : cmd.count; };
    uses = 0;
    for (uint32_t c = first; c < last; ++c) {
        if (used_by(c) > cmd.count) return false;
        uses += used_by(c);
    }
    const sc_time start = std::max(abs_time(delay), m_unit.free_at());
    sc_time sram_done = start;
    if (cmd.count) {
        // The chunk's rows in one gather read: the SRAM streams them wherever their slots lie.
        m_rows.resize(std::size_t(cmd.count) * m_d);
        proto::PooledPayload p(m_pool);
        proto::prepare(*p, TLM_READ_COMMAND, proto::sram_address(buf, 0, m_d), m_rows.data(),
                       cmd.count * m_d);
        proto::RowGather g;
        g.slots = cmd.slots;
        g.count = cmd.count;
        g.row_bytes = m_d;
        g.query = cmd.query;
        p->set_extension(&g);
        sc_time d = offset_of(sram_done);
        to_sram.transport(*p, d);
        p->clear_extension(&g);
        if (!p->is_response_ok()) return false;
        sram_done = abs_time(d);
    }
    for (uint32_t i = 0; i < cmd.count; ++i)
        for (uint32_t c = first; c < last; ++c)
            if (i < used_by(c) &&
                !use(m_engines[c], cmd.tokens[i],
                     reinterpret_cast<const int8_t*>(&m_rows[std::size_t(i) * m_d])))
                return false;
    // The unit consumes `lanes` MACs a cycle while the SRAM streams: the slower one sets the pace.
    const sc_time compute = m_clock * double(ceil_div(uses * m_d, lanes));
    const sc_time end = std::max(sram_done, m_unit.occupy(start, compute));
    m_unit.extend_to(end);  // an SRAM-bound stage keeps the unit busy until its last row
    busy_ns += compute.to_seconds() * 1e9;
    delay = offset_of(end);
    for (uint32_t c = first; c < last; ++c)
        macs.add(cmd.head, m_context_query[c], uint64_t(used_by(c)) * m_d);
    return true;
}

bool Datapath::begin(tlm_generic_payload& gp, const proto::DatapathCommand& cmd,
                     const sc_time& start, sc_time& delay) {
    core::RowEngine* e = engine(cmd.context);
    if (!e || !gp.is_write() || cmd.d == 0 || gp.get_data_length() != cmd.d) return false;
    m_d = cmd.d;
    m_out = cmd.output;
    m_context_query[cmd.context] = cmd.query;
    m_live[cmd.context] = 1;
    e->begin(reinterpret_cast<const int8_t*>(gp.get_data_ptr()), int(m_d), cmd.logit_scale, cmd.s_v,
             cmd.softmax, cmd.output);
    e->set_online(cmd.softmax_tile);
    delay = offset_of(m_unit.occupy(start, m_clock));
    return true;
}

bool Datapath::qk_chunk(const proto::DatapathCommand& cmd, sc_time& delay) {
    uint64_t uses = 0;
    std::size_t held = scores_held();
    const bool ok =
        stream_rows(cmd, proto::Buffer::K, m_cfg.datapath.qk_lanes, delay, m_qk_busy_ns, uses,
                    m_qk_macs, [&](core::RowEngine& e, uint32_t tok, const int8_t* row) {
                        return held++ < m_cfg.datapath.score_entries && e.score(tok, row);
                    });
    if (ok) m_rows_scored += uses;
    m_score_peak.record_max(scores_held());
    return ok;
}

bool Datapath::softmax(const proto::DatapathCommand& cmd, const sc_time& start, sc_time& delay) {
    core::RowEngine* e = engine(cmd.context);
    if (!cmd.kept_out || !e) return false;
    if (cmd.prune) e->prune(cmd.threshold, cmd.empty_row, cmd.query);
    const std::size_t n = e->scores_held();
    const uint64_t exps = e->exp_ops(), divs = e->div_ops();
    if (cmd.shared_max) {  // key-interleaved units: the exp pass against the row's maximum
        if (!cmd.sum_out || !cmd.sumf_out) return false;
        *cmd.kept_out = e->softmax_shared(cmd.row_max);
        *cmd.sum_out = e->local_sum();
        *cmd.sumf_out = e->local_sum_float();
        m_exp_ops.add(cmd.head, cmd.query, e->exp_ops() - exps);
        const uint64_t cyc =
            m_cfg.datapath.softmax_latency + ceil_div(n, m_cfg.datapath.softmax_per_cycle);
        m_softmax_busy_ns += (m_clock * double(cyc)).to_seconds() * 1e9;
        delay = offset_of(m_unit.occupy(start, m_clock * double(cyc)));
        return true;
    }
    *cmd.kept_out = e->softmax();
    m_exp_ops.add(cmd.head, cmd.query, e->exp_ops() - exps);
    m_div_ops.add(cmd.head, cmd.query, e->div_ops() - divs);
    // Max search, then exp and sum: two passes over the scores, pipelined (prob8's normalising
    // divisions feed the V unit as it reads the probabilities). Online, the passes come tile by
    // tile with the V rows (v_chunk): closing the row costs nothing.
    const uint64_t cyc = e->online() ? 0
                                     : m_cfg.datapath.softmax_latency +
                                           2 * ceil_div(n, m_cfg.datapath.softmax_per_cycle);
    m_softmax_busy_ns += (m_clock * double(cyc)).to_seconds() * 1e9;
    delay = offset_of(m_unit.occupy(start, m_clock * double(cyc)));
    return true;
}

bool Datapath::v_chunk(const proto::DatapathCommand& cmd, sc_time& delay) {
    // Online contexts weigh the rows as they come: their exponentials, tiles and rescales here.
    const uint32_t first = cmd.counts ? 0 : cmd.context;
    const uint32_t last =
        std::min<uint32_t>(cmd.counts ? cmd.contexts : cmd.context + 1, uint32_t(m_engines.size()));
    std::vector<Seen>& seen = m_seen;  // reused: no allocation per chunk
    seen.clear();
    for (uint32_t c = first; c < last; ++c)
        seen.push_back({m_engines[c].exp_ops(), m_engines[c].tiles(), m_engines[c].rescales()});
    uint64_t uses = 0;
    const bool ok = stream_rows(
        cmd, proto::Buffer::V, m_cfg.datapath.v_lanes, delay, m_v_busy_ns, uses, m_v_macs,
        [](core::RowEngine& e, uint32_t tok, const int8_t* row) { return e.accumulate(tok, row); });
    if (!ok) return false;
    m_rows_accumulated += uses;
    uint64_t exps = 0, shared = 0, rows_begun = 0;
    for (uint32_t c = first; c < last; ++c) {
        const core::RowEngine& e = m_engines[c];
        const Seen& s = seen[c - first];
        m_exp_ops.add(cmd.head, m_context_query[c], e.exp_ops() - s.exps);
        m_rescale_macs.add(cmd.head, m_context_query[c], (e.rescales() - s.rescales) * (m_d + 1));
        (e.shared() ? shared : exps) += e.exp_ops() - s.exps;
        rows_begun += s.tiles == 0 && e.tiles() > 0;
    }
    if (exps || shared) {
        // The tiles' max and exp passes (a key-interleaved unit's max pass came before the
        // units' exchange: LocalMax); the unit's pipeline fills once per row (EnterTile for a
        // key-interleaved unit).
        const uint64_t cyc = rows_begun * m_cfg.datapath.softmax_latency +
                             2 * ceil_div(exps, m_cfg.datapath.softmax_per_cycle) +
                             ceil_div(shared, m_cfg.datapath.softmax_per_cycle);
        m_softmax_busy_ns += (m_clock * double(cyc)).to_seconds() * 1e9;
        delay = offset_of(m_unit.occupy(abs_time(delay), m_clock * double(cyc)));
    }
    return true;
}

// Key-interleaved units: the exchanges of a row split by key.
bool Datapath::exchange(tlm_generic_payload& gp, const proto::DatapathCommand& cmd,
                        const sc_time& start, sc_time& delay) {
    if (cmd.contexts) return exchange_block(gp, cmd, start, delay);
    core::RowEngine* e = engine(cmd.context);
    if (!e) return false;
    uint64_t cyc = 0;
    switch (cmd.op) {
        case proto::DatapathOp::LocalMax:  // the max pass
            if (!cmd.max_out || !cmd.any_out) return false;
            *cmd.any_out = e->local_max(*cmd.max_out);
            cyc = ceil_div(e->scores_held(), m_cfg.datapath.softmax_per_cycle);
            m_softmax_busy_ns += (m_clock * double(cyc)).to_seconds() * 1e9;
            break;
        case proto::DatapathOp::Normalise: {  // prob8 and float: divisions by the total
            const uint64_t divs = e->div_ops();
            e->normalise(cmd.total, cmd.total_f);
            m_div_ops.add(cmd.head, cmd.query, e->div_ops() - divs);
            break;
        }
        case proto::DatapathOp::Partial:  // the accumulators read out; the context ends
            if (!cmd.partial_out || !gp.is_read() || gp.get_data_length() != partial_bytes())
                return false;
            *cmd.partial_out = e->partial();
            m_live[cmd.context] = 0;
            cyc = ceil_div(m_d, m_cfg.datapath.v_lanes);
            break;
        case proto::DatapathOp::Merge:  // another unit's accumulators and sum added
            if (!cmd.partial_in || !gp.is_write() || gp.get_data_length() != partial_bytes() ||
                !e->merge(*cmd.partial_in))
                return false;
            m_merge_adds.add(cmd.head, cmd.query, m_d + 1);
            cyc = ceil_div(m_d, m_cfg.datapath.v_lanes);
            break;
        default:
            return false;
    }
    delay = offset_of(m_unit.occupy(start, m_clock * double(cyc)));
    return true;
}

bool Datapath::exchange_block(tlm_generic_payload& gp, const proto::DatapathCommand& cmd,
                              const sc_time& start, sc_time& delay) {
    const uint32_t n = cmd.contexts;
    if (n > m_engines.size() || !cmd.counts) return false;
    const bool moves = cmd.op == proto::DatapathOp::Partial || cmd.op == proto::DatapathOp::Merge;
    if (moves && gp.get_data_length() != n * partial_bytes()) return false;
    uint64_t cyc = 0, held = 0;
    for (uint32_t c = 0; c < n; ++c) {
        if (!cmd.counts[c]) continue;
        core::RowEngine& e = m_engines[c];
        const uint32_t q = m_context_query[c];
        switch (cmd.op) {
            case proto::DatapathOp::LocalMax:  // the tile's max pass
                if (!cmd.maxes_out || !cmd.anys_out) return false;
                cmd.anys_out[c] = e.local_max(cmd.maxes_out[c]);
                held += e.scores_held();
                break;
            case proto::DatapathOp::EnterTile: {  // the rescale, when the maximum rises
                const uint64_t tiles = e.tiles(), rescales = e.rescales();
                if (!cmd.run_maxes || !e.enter_tile_shared(cmd.tile, cmd.run_maxes[c], cmd.running))
                    return false;
                m_rescale_macs.add(cmd.head, q, (e.rescales() - rescales) * (m_d + 1));
                if (tiles == 0) cyc += m_cfg.datapath.softmax_latency;  // the row's first tile
                break;
            }
            case proto::DatapathOp::Partial:  // the tile's accumulators read out and zeroed
                if (!cmd.partials_out || !gp.is_read()) return false;
                cmd.partials_out[c] = e.take_partial();
                if (cmd.end_contexts) m_live[c] = 0;
                cyc += ceil_div(m_d, m_cfg.datapath.v_lanes);
                break;
            case proto::DatapathOp::Merge:  // another unit's tile partial added
                if (!cmd.partials_in || !gp.is_write() || !e.merge(cmd.partials_in[c]))
                    return false;
                m_merge_adds.add(cmd.head, q, m_d + 1);
                cyc += ceil_div(m_d, m_cfg.datapath.v_lanes);
                break;
            default:
                return false;
        }
    }
    if (cmd.op == proto::DatapathOp::LocalMax)
        cyc = ceil_div(held, m_cfg.datapath.softmax_per_cycle);
    if (cmd.op == proto::DatapathOp::LocalMax || cmd.op == proto::DatapathOp::EnterTile)
        m_softmax_busy_ns += (m_clock * double(cyc)).to_seconds() * 1e9;
    delay = offset_of(m_unit.occupy(start, m_clock * double(cyc)));
    return true;
}

bool Datapath::finish(tlm_generic_payload& gp, const proto::DatapathCommand& cmd,
                      const sc_time& start, sc_time& delay) {
    core::RowEngine* e = engine(cmd.context);
    const uint64_t divs = e ? e->div_ops() : 0;
    if (!e || !gp.is_read() || gp.get_data_length() != m_d * core::output_element_bytes(m_out) ||
        !e->finish(gp.get_data_ptr()))
        return false;
    m_div_ops.add(cmd.head, cmd.query, e->div_ops() - divs);  // fixed: one per element
    m_live[cmd.context] = 0;  // the output row is out: its scores leave the buffer
    ++m_rows_output;
    delay =
        offset_of(m_unit.occupy(start, m_clock * double(ceil_div(m_d, m_cfg.datapath.v_lanes))));
    return true;
}

void Datapath::b_transport(tlm_generic_payload& gp, sc_time& delay) {
    auto* cmd = gp.get_extension<proto::DatapathCommand>();
    if (!cmd) {
        gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    const bool needs_data =
        cmd->op == proto::DatapathOp::Begin || cmd->op == proto::DatapathOp::Finish ||
        cmd->op == proto::DatapathOp::Partial || cmd->op == proto::DatapathOp::Merge;
    if (!needs_data && gp.get_command() != TLM_IGNORE_COMMAND) {
        gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    const sc_time start = abs_time(delay);
    bool ok = true;
    uint32_t ph = 0;  // the phase signal: 1 QK, 2 softmax, 3 V, 4 output
    switch (cmd->op) {
        case proto::DatapathOp::Begin:
            ok = begin(gp, *cmd, start, delay);
            break;
        case proto::DatapathOp::QkChunk:
            ph = 1, ok = qk_chunk(*cmd, delay);
            break;
        case proto::DatapathOp::Softmax:
            ph = 2, ok = softmax(*cmd, start, delay);
            break;
        case proto::DatapathOp::VChunk:
            ph = 3, ok = v_chunk(*cmd, delay);
            break;
        case proto::DatapathOp::Finish:
            ph = 4, ok = finish(gp, *cmd, start, delay);
            break;
        case proto::DatapathOp::Flush:
            std::fill(m_live.begin(), m_live.end(), uint8_t(0));
            break;
        case proto::DatapathOp::LocalMax:
        case proto::DatapathOp::Normalise:
        case proto::DatapathOp::EnterTile:
            ph = 2, ok = exchange(gp, *cmd, start, delay);
            break;
        case proto::DatapathOp::Partial:
        case proto::DatapathOp::Merge:
            ph = 4, ok = exchange(gp, *cmd, start, delay);
            break;
        default:
            gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
            return;
    }
    if (ok && ph) mark(ph, start, abs_time(delay));
    if (!ok) {
        static const char* const names[] = {"Begin",   "QkChunk", "Softmax",  "VChunk",
                                            "Finish",  "Flush",   "LocalMax", "Normalise",
                                            "Partial", "Merge",   "EnterTile"};
        SC_REPORT_WARNING(
            "sprint/datapath",
            (std::string(names[int(cmd->op)]) +
             " refused: wrong data length or command, a token out of order, the score "
             "buffer full, or rows missing")
                .c_str());
    }
    gp.set_response_status(ok ? TLM_OK_RESPONSE : TLM_GENERIC_ERROR_RESPONSE);
}

}  // namespace sprint

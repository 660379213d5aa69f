// Datapath: the digital exact-recompute engine: QK unit (int8 x int8 -> int32 on the kept keys,
// scores into the score buffer) -> Softmax unit (fixed point with LUT exp, or float) -> V unit
// (probability-weighted sum of V rows). It holds `contexts` queries at once (Q row, scores,
// accumulator each; the score buffer is shared): a chunk of rows read once from SRAM serves
// every context that needs it (the dense mode's query block). Numerics are core::RowEngine's,
// one per context; this module adds the SRAM reads, the lane/throughput timing and the counters.
// Sockets: from_controller (target: DatapathCommand), to_sram (initiator: row reads).
// With key-interleaved units it also reports its context's largest score, takes the row's
// maximum, and hands its partial accumulators out (Partial) or adds another unit's (Merge); an
// online dense block does so for all its contexts at once, tile by tile (EnterTile).
// Counts: int8 MACs (QK, V), exp and divide operations, online-softmax rescales, merged partials,
// rows scored/accumulated, SRAM bytes read, score buffer peak, busy time per unit.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>

#include "core/row_engine.h"
#include "core/stats.h"
#include "modules/common/ports.h"
#include "modules/common/timing.h"
#include "tlm_interfaces/ip_config.h"
#include "tlm_interfaces/payload_pool.h"
#include "tlm_interfaces/sprint_protocol.h"
#include "waveforms/trace_scheduler.h"

namespace sprint {

class Datapath : public sc_core::sc_module {
  public:
    TargetPort from_controller;
    InitiatorPort to_sram;
    sc_core::sc_signal<bool> busy;
    sc_core::sc_signal<uint32_t> phase;  // 0 idle, 1 QK, 2 softmax, 3 V, 4 output

    Datapath(const sc_core::sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer);
    const core::StatGroup& stats() const { return m_stats; }
    // A job's start (its contexts empty): the score buffer's peak from zero.
    void reset_peaks() { m_score_peak.set(0); }

  private:
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    // One command each; false when the command breaks the block's rules.
    bool begin(tlm::tlm_generic_payload& gp, const proto::DatapathCommand& cmd,
               const sc_core::sc_time& start, sc_core::sc_time& delay);
    bool qk_chunk(const proto::DatapathCommand& cmd, sc_core::sc_time& delay);
    bool softmax(const proto::DatapathCommand& cmd, const sc_core::sc_time& start,
                 sc_core::sc_time& delay);
    bool v_chunk(const proto::DatapathCommand& cmd, sc_core::sc_time& delay);
    bool finish(tlm::tlm_generic_payload& gp, const proto::DatapathCommand& cmd,
                const sc_core::sc_time& start, sc_core::sc_time& delay);
    // LocalMax, Normalise, Partial, Merge (key-interleaved units).
    bool exchange(tlm::tlm_generic_payload& gp, const proto::DatapathCommand& cmd,
                  const sc_core::sc_time& start, sc_core::sc_time& delay);
    // The same for the contexts of an online dense block on key-interleaved units, and
    // EnterTile (the tile entered with the units' running maxima).
    bool exchange_block(tlm::tlm_generic_payload& gp, const proto::DatapathCommand& cmd,
                        const sc_core::sc_time& start, sc_core::sc_time& delay);
    // The bytes a Partial or Merge moves: the d accumulators and the sum, 8 bytes each.
    uint32_t partial_bytes() const { return (m_d + 1) * 8; }
    // Read rows (tokens[i] in slots[i]) from SRAM and hand each to `use`; the unit consumes
    // `lanes` MACs per cycle while the SRAM streams. Returns false on an SRAM or order error.
    // Each row goes to every context that uses it: use(context, token, row). On success each
    // context's MACs are counted in `macs` under the query it holds.
    template <class Use>
    bool stream_rows(const proto::DatapathCommand& cmd, proto::Buffer buf, uint32_t lanes,
                     sc_core::sc_time& delay, core::Duration& busy_ns, uint64_t& uses,
                     core::HeadCounter& macs, Use use);
    core::RowEngine* engine(uint32_t context);
    // Scores in the shared score buffer: those of the contexts between Begin and Finish.
    std::size_t scores_held() const;
    void mark(uint32_t ph, const sc_core::sc_time& start, const sc_core::sc_time& end);

    const IpConfig& m_cfg;
    sc_core::sc_time m_clock;
    TraceScheduler& m_tracer;
    std::vector<core::RowEngine> m_engines;
    std::vector<uint32_t> m_context_query;  // the query each context holds (since its Begin)
    std::vector<uint8_t> m_live;  // 1 from a context's Begin to its Finish: its scores are held
    uint32_t m_d = 0;
    core::OutputFormat m_out = core::OutputFormat::Float32;
    ResourceTimeline m_unit;  // QK, softmax and V share the row pipeline of one query
    std::vector<uint8_t> m_rows;
    // v_chunk: each served context's counts before the chunk (online exps, tiles, rescales).
    struct Seen {
        uint64_t exps, tiles, rescales;
    };
    std::vector<Seen> m_seen;
    proto::PayloadPool m_pool;
    core::StatGroup m_stats;
    core::HeadCounter m_qk_macs{m_stats, "qk_macs", "MACs", "int8 MACs in the QK unit"};
    core::HeadCounter m_v_macs{m_stats, "v_macs", "MACs", "V MACs (weight x int8 V)"};
    core::HeadCounter m_exp_ops{m_stats, "exp_ops", "operations",
                                "exponentials (LUT products or float)"};
    core::HeadCounter m_rescale_macs{m_stats, "rescale_macs", "MACs",
                                     "online softmax: the sum and accumulators rescaled when the "
                                     "running maximum rises (d + 1 each)"};
    core::HeadCounter m_merge_adds{m_stats, "merge_adds", "adds",
                                   "key-interleaved units: another unit's accumulators and sum "
                                   "added (d + 1 per partial)"};
    core::HeadCounter m_div_ops{m_stats, "div_ops", "operations",
                                "normalising divisions (per key, or per output element)"};
    core::Counter m_rows_scored{m_stats, "rows_scored", "rows", "K rows scored"};
    core::Counter m_rows_accumulated{m_stats, "rows_accumulated", "rows", "V rows accumulated"};
    core::Counter m_rows_output{m_stats, "rows_output", "rows", "output rows produced"};
    core::Counter m_score_peak{m_stats, "score_peak", "entries", "largest score buffer occupancy"};
    core::Duration m_qk_busy_ns{m_stats, "qk_busy_ns", "ns", "QK unit busy"};
    core::Duration m_softmax_busy_ns{m_stats, "softmax_busy_ns", "ns", "softmax unit busy"};
    core::Duration m_v_busy_ns{m_stats, "v_busy_ns", "ns", "V unit busy"};
};

}  // namespace sprint

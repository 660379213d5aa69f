// ComparatorBank: one comparator per bitline. Compares each integrated bitline value, shifted by
// the query's offset-encoding term, with the head's threshold reference and returns the one-bit
// keep-mask; applies the empty-row policy (a max search for policy 'max'). For studies it can
// instead digitise each margin with shared multi-bit ADCs (comparators.adc_bits > 0) and decide
// on the codes: threshold, or the adc_topk highest codes of the row (core::adc_select).
// The decisions are latched (up to comparators.mask_latches queries) until the controller reads
// the keep mask out, ceil(keys / readout_bits_per_cycle) cycles on the bank's read-out port (plus
// the max search and ADC conversions when used): the read-out of one query overlaps the
// evaluation of the next.
// Sockets: from_xbar (target: CompareCommand, data = bitline values), from_controller (target:
// MaskCommand, the keep-mask read-out).
// Counts: comparator decisions, keys kept, empty rows fixed, mask bits read out, ADC
// conversions, most masks latched at once, busy time.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include <systemc>
#include <tlm>

#include "core/crossbar.h"
#include "core/stats.h"
#include "modules/common/ports.h"
#include "modules/common/timing.h"
#include "tlm_interfaces/ip_config.h"
#include "tlm_interfaces/sprint_protocol.h"
#include "waveforms/trace_scheduler.h"

namespace sprint {

class ComparatorBank : public sc_core::sc_module {
  public:
    TargetPort from_xbar;
    TargetPort from_controller;
    sc_core::sc_signal<bool> busy;
    sc_core::sc_signal<uint32_t> kept_count;

    ComparatorBank(const sc_core::sc_module_name& name, const IpConfig& cfg,
                   TraceScheduler& tracer);
    const core::StatGroup& stats() const { return m_stats; }
    // A job's start (the latches cleared): the latched masks' peak from zero.
    void reset_peaks() { m_latched_max.set(0); }

  private:
    // One query's decisions, waiting for the read-out.
    struct Latched {
        uint32_t head, query, key_begin, key_end;
        std::vector<uint8_t> mask;  // key_end bytes
        sc_core::sc_time decided;   // absolute
        uint64_t extra_cycles;      // max search, ADC conversions: on the read-out
    };
    void compare(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    void read_mask(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);

    const IpConfig& m_cfg;
    core::XbarNumerics m_num;
    sc_core::sc_time m_clock;
    TraceScheduler& m_tracer;
    ResourceTimeline m_bank;
    std::vector<double> m_values, m_margins;  // by key
    std::deque<Latched> m_latched;            // oldest first
    core::StatGroup m_stats;
    core::HeadCounter m_decisions{m_stats, "decisions", "comparisons",
                                  "comparator decisions (visible keys)"};
    core::Counter m_kept{m_stats, "kept", "keys", "keys kept, including the empty-row policy"};
    core::Counter m_empty_rows{m_stats, "empty_rows", "queries",
                               "queries where the empty-row policy kept a key"};
    core::Counter m_mask_bits_read{m_stats, "mask_bits_read", "bits", "keep-mask bits read out"};
    core::HeadCounter m_conversions{m_stats, "adc_conversions", "conversions",
                                    "ADC read-out: margins digitised"};
    core::HeadCounter m_max_compares{m_stats, "max_track_compares", "comparisons",
                                     "query-max rule: the max-tracking circuit's comparisons (one "
                                     "per column evaluated), priced as decisions"};
    core::Counter m_latched_max{m_stats, "latched_max", "masks",
                                "most keep masks latched at once, waiting for the read-out"};
    core::Duration m_busy_ns{m_stats, "busy_ns", "ns",
                             "time reading out masks and searching the max"};
};

}  // namespace sprint

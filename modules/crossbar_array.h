// CrossbarArray: the ReRAM crossbar tiles that hold the top key bits of one head (one key per
// bitline column) and integrate a query's DAC-driven wordlines into bitline values.
// A head with more keys than the array holds (capacity at its d) is programmed and evaluated in
// passes of `capacity` keys; only the current pass's keys can be evaluated or read back. Heads
// that fit several times over go to regions of whole tiles (the Program's column_base), and the
// array holds one head per region.
// Sockets: from_controller (target: XbarCommand Program / Evaluate), from_fetcher (target:
// XbarCommand ReadBack, the K-MSB read-back of kept keys: one run of keys, or a list of runs each
// sensed at its own time), to_comparators (initiator).
// An evaluation copies the query into the DAC input buffer, which the drivers latch when the
// evaluation starts (the next query's copy overlaps it), then drives and integrates all tiles at
// once and hands the bitlines to the comparators, whose decisions are latched for the
// controller's mask read-out: the controller's Evaluate returns when the evaluation starts.
// Counts: cell writes and write pulses (programming is a real cost), evaluations, analog MACs,
// active tiles, keys read back, busy time. Program, evaluate and read-back share the array.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include <systemc>
#include <tlm>

#include "core/crossbar.h"
#include "core/stats.h"
#include "modules/common/ports.h"
#include "modules/common/timing.h"
#include "tlm_interfaces/ip_config.h"
#include "tlm_interfaces/payload_pool.h"
#include "tlm_interfaces/sprint_protocol.h"
#include "waveforms/trace_scheduler.h"

namespace sprint {

class CrossbarArray : public sc_core::sc_module {
  public:
    TargetPort from_controller;
    TargetPort from_fetcher;
    InitiatorPort to_comparators;
    sc_core::sc_signal<bool> busy;

    CrossbarArray(const sc_core::sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer);
    const core::StatGroup& stats() const { return m_stats; }

  private:
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    void program(tlm::tlm_generic_payload& gp, proto::XbarCommand& cmd, sc_core::sc_time& delay);
    void evaluate(tlm::tlm_generic_payload& gp, proto::XbarCommand& cmd, sc_core::sc_time& delay);
    void read_back(tlm::tlm_generic_payload& gp, proto::XbarCommand& cmd, sc_core::sc_time& delay);
    void occupy(const sc_core::sc_time& dur, sc_core::sc_time& delay);
    sc_core::sc_time cycles(uint64_t n) const { return m_clock * double(n); }
    uint32_t tiles_for(uint32_t keys, uint32_t d) const;

    const IpConfig& m_cfg;
    core::XbarNumerics m_num;
    sc_core::sc_time m_clock;
    TraceScheduler& m_tracer;
    // The array does one program, evaluate or read-back at a time; the controller and the
    // fetcher book it at their own (LT: decoupled) times.
    ResourceCalendar m_array;
    ResourceTimeline m_input;  // the DAC input buffer (only the controller's Evaluates use it)
    // The heads the array holds, by their first column (XbarCommand::column_base): a job whose
    // heads fit several times over keeps several (core::XbarNumerics::head_base), so the next
    // head is programmed while the last one's keys are read back.
    struct Region {
        core::CellArray cells;
        core::XbarNumerics num;  // with the region's column_base: its cells' defects, offsets
        uint32_t head = ~0u, d = 0, span = 0;
        uint32_t pass_first = 0, pass_end = 0;  // the keys it holds now (current pass)
        core::HeadParams params{};
    };
    std::map<uint32_t, Region> m_regions;
    Region* region_of(uint32_t head, uint32_t d);
    std::vector<int8_t> m_q_dac;
    std::vector<uint32_t> m_keys;  // ReadBack scratch: a run's key indices
    std::vector<double> m_bitlines;
    proto::PayloadPool m_pool;
    core::StatGroup m_stats;
    core::HeadCounter m_cell_writes{m_stats, "cell_writes", "cells",
                                    "ReRAM cells programmed (one per key element)"};
    core::Counter m_write_pulses{m_stats, "write_pulses", "pulses",
                                 "set/reset pulses (write_parallel_cells each)"};
    core::Counter m_programs{m_stats, "programs", "commands",
                             "program commands (one per tile of keys)"};
    core::Counter m_evaluations{m_stats, "evaluations", "queries", "queries evaluated"};
    core::HeadCounter m_analog_macs{m_stats, "analog_macs", "MACs",
                                    "wordline x cell products integrated"};
    core::Counter m_tile_evaluations{m_stats, "tile_evaluations", "tiles",
                                     "tiles activated, summed over queries"};
    core::Counter m_keys_resident{m_stats, "keys_resident", "keys",
                                  "keys found in place (k_resident): not written"};
    core::Counter m_max_cell_writes{m_stats, "max_cell_writes", "writes",
                                    "most writes any one cell has taken (endurance)"};
    std::vector<uint64_t> m_column_writes;  // writes per physical column (each of its cells)
    core::HeadCounter m_keys_read_back{m_stats, "keys_read_back", "keys",
                                       "key columns sensed for the K-MSB read-back"};
    core::Duration m_busy_ns{m_stats, "busy_ns", "ns",
                             "time programming, evaluating or reading back"};
};

}  // namespace sprint

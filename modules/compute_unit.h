// ComputeUnit: one CORELET of the paper, the block that recomputes exact attention for the
// queries given to it: its own K and V SRAM buffers (SramBuffer, sram.* sizes) and its own
// digital datapath (Datapath). An IP has IpConfig::units of them; the controller gives query i
// of a head to unit (i / controller.unit_run) mod units (dense mode: whole query blocks), and
// the one fetcher (the IP's DMA
// engine and memory port) loads each unit's rows into that unit's buffers.
// Sockets (of its blocks, bound by SprintIp): sram.from_controller, sram.from_fetcher,
// datapath.from_controller (targets); datapath.to_sram (initiator, to this unit's buffers).
// Counts: its blocks' statistics under "unit_<i>" (unit_0.sram.hits, unit_1.datapath.qk_macs).
#pragma once

#include <cstdint>
#include <string>

#include <systemc>

#include "core/stats.h"
#include "modules/datapath.h"
#include "modules/sram_buffer.h"
#include "tlm_interfaces/ip_config.h"
#include "waveforms/trace_scheduler.h"

namespace sprint {

// The instance name of unit `u` ("unit_0"), which also names its statistics and traces.
inline std::string unit_name(uint32_t u) {
    return "unit_" + std::to_string(u);
}

class ComputeUnit : public sc_core::sc_module {
  public:
    ComputeUnit(const sc_core::sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer);
    const core::StatGroup& stats() const { return m_stats; }

    SramBuffer sram;
    Datapath datapath;

  private:
    core::StatGroup m_stats;
};

}  // namespace sprint

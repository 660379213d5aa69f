#include "modules/compute_unit.h"

namespace sprint {

ComputeUnit::ComputeUnit(const sc_core::sc_module_name& name, const IpConfig& cfg,
                         TraceScheduler& tracer)
    : sc_module(name),
      sram("sram", cfg, tracer),
      datapath("datapath", cfg, tracer),
      m_stats(basename(), "compute unit (CORELET): K/V SRAM buffers and datapath") {
    m_stats.attach(&sram.stats());
    m_stats.attach(&datapath.stats());
}

}  // namespace sprint

#include "modules/sprint_ip.h"

#include <stdexcept>

namespace sprint {

namespace {

const IpConfig& checked(const IpConfig& cfg) {
    const std::string err = cfg.validate();
    if (!err.empty()) throw std::invalid_argument(err);
    return cfg;
}

}  // namespace

SprintIp::SprintIp(const sc_core::sc_module_name& name, const IpConfig& cfg)
    : sc_module(name),
      csr("csr"),
      mem("mem"),
      irq("irq"),
      m_cfg(checked(cfg)),
      tracer("tracer"),
      controller("controller", m_cfg, tracer),
      xbar("xbar", m_cfg, tracer),
      comparators("comparators", m_cfg, tracer),
      fetcher("fetcher", m_cfg, tracer),
      sram("sram", m_cfg, tracer),
      datapath("datapath", m_cfg, tracer),
      m_stats(basename(), "SPRINT IP") {
    csr.bind(controller.csr);
    controller.irq(irq);
    controller.to_xbar.bind(xbar.from_controller);
    controller.to_fetcher.bind(fetcher.from_controller);
    controller.to_datapath.bind(datapath.from_controller);
    xbar.to_comparators.bind(comparators.from_xbar);
    fetcher.to_sram.bind(sram.from_fetcher);
    datapath.to_sram.bind(sram.from_datapath);
    fetcher.mem.socket.bind(mem);

    m_stats.attach(&controller.stats());
    m_stats.attach(&xbar.stats());
    m_stats.attach(&comparators.stats());
    m_stats.attach(&fetcher.stats());
    m_stats.attach(&sram.stats());
    m_stats.attach(&datapath.stats());
}

void SprintIp::trace(sc_core::sc_trace_file* tf) {
    tracer.enable(true);
    const std::string p = name();
    sc_core::sc_trace(tf, controller.busy, p + ".controller.busy");
    sc_core::sc_trace(tf, controller.state, p + ".controller.state");
    sc_core::sc_trace(tf, controller.head, p + ".controller.head");
    sc_core::sc_trace(tf, controller.query, p + ".controller.query");
    sc_core::sc_trace(tf, xbar.busy, p + ".xbar.busy");
    sc_core::sc_trace(tf, comparators.busy, p + ".comparators.busy");
    sc_core::sc_trace(tf, comparators.kept_count, p + ".comparators.kept_count");
    sc_core::sc_trace(tf, fetcher.busy, p + ".fetcher.busy");
    sc_core::sc_trace(tf, fetcher.outstanding, p + ".fetcher.outstanding");
    sc_core::sc_trace(tf, sram.occupancy_k, p + ".sram.occupancy_k");
    sc_core::sc_trace(tf, sram.occupancy_v, p + ".sram.occupancy_v");
    sc_core::sc_trace(tf, datapath.busy, p + ".datapath.busy");
    sc_core::sc_trace(tf, datapath.phase, p + ".datapath.phase");
}

}  // namespace sprint

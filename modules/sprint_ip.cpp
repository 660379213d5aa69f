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
      units("unit", m_cfg.units,
            [this](const char*, std::size_t u) {
                return new ComputeUnit(unit_name(uint32_t(u)).c_str(), m_cfg, tracer);
            }),
      m_stats(basename(), "SPRINT IP") {
    csr.bind(controller.csr);
    controller.irq(irq);
    link(controller.to_xbar, xbar.from_controller.socket, "check_to_xbar");
    link(controller.to_fetcher, fetcher.from_controller.socket, "check_to_fetcher");
    link(xbar.to_comparators, comparators.from_xbar.socket, "check_to_comparators");
    link(controller.to_comparators, comparators.from_controller.socket,
         "check_controller_to_comparators");
    for (std::size_t u = 0; u < units.size(); ++u) {
        ComputeUnit& cu = units[u];
        const std::string n = std::string(cu.basename()) + "_";
        link(controller.to_datapath[u], cu.datapath.from_controller.socket,
             n + "check_to_datapath");
        link(controller.to_sram[u], cu.sram.from_controller.socket, n + "check_to_sram");
        link(fetcher.to_sram[u], cu.sram.from_fetcher.socket, n + "check_fetcher_to_sram");
        link(cu.datapath.to_sram, cu.sram.from_datapath.socket, n + "check_datapath_to_sram");
    }
    link(fetcher.to_xbar, xbar.from_fetcher.socket, "check_fetcher_to_xbar");
    link(fetcher.mem, mem, "check_mem");

    m_stats.attach(&controller.stats());
    m_stats.attach(&xbar.stats());
    m_stats.attach(&comparators.stats());
    m_stats.attach(&fetcher.stats());
    for (const ComputeUnit& cu : units) m_stats.attach(&cu.stats());
    if (!m_checkers.empty()) {
        auto& g = m_stats.group("protocol", "TLM-2.0 base-protocol checkers on every link");
        g.add(
            "links", [this] { return nlohmann::json(m_checkers.size()); }, "links",
            "links checked");
        g.add(
            "transactions",
            [this] {
                uint64_t n = 0;
                for (const auto& c : m_checkers) n += c->transactions;
                return nlohmann::json(n);
            },
            "transactions", "transactions checked");
        g.add(
            "violations", [this] { return nlohmann::json(protocol_violations().size()); },
            "violations", "protocol rule violations found");
    }
}

template <class Port, class Target>
void SprintIp::link(Port& from, Target& to, const std::string& name) {
    if (!m_cfg.check_protocol) {
        from.socket.bind(to);
        return;
    }
    m_checkers.push_back(std::make_unique<ProtocolChecker>(name.c_str()));
    from.socket.bind(m_checkers.back()->target);
    m_checkers.back()->initiator.bind(to);
}

std::vector<std::string> SprintIp::protocol_violations() const {
    std::vector<std::string> v;
    for (const auto& c : m_checkers)
        v.insert(v.end(), c->violations().begin(), c->violations().end());
    return v;
}

void SprintIp::trace(sc_core::sc_trace_file* tf) {
    tracer.enable(true);
    const std::string p = name();
    sc_core::sc_trace(tf, controller.busy, p + ".controller.busy");
    sc_core::sc_trace(tf, controller.state, p + ".controller.state");
    sc_core::sc_trace(tf, controller.head, p + ".controller.head");
    sc_core::sc_trace(tf, controller.query, p + ".controller.query");
    sc_core::sc_trace(tf, controller.job, p + ".controller.job");
    sc_core::sc_trace(tf, controller.mode, p + ".controller.mode");
    sc_core::sc_trace(tf, controller.front_state, p + ".controller.front_state");
    sc_core::sc_trace(tf, xbar.busy, p + ".xbar.busy");
    sc_core::sc_trace(tf, comparators.busy, p + ".comparators.busy");
    sc_core::sc_trace(tf, comparators.kept_count, p + ".comparators.kept_count");
    sc_core::sc_trace(tf, fetcher.busy, p + ".fetcher.busy");
    sc_core::sc_trace(tf, fetcher.outstanding, p + ".fetcher.outstanding");
    for (std::size_t n = 0; n < units.size(); ++n) {
        const ComputeUnit& cu = units[n];
        const std::string u = p + "." + cu.basename();
        sc_core::sc_trace(tf, cu.sram.occupancy_k, u + ".sram.occupancy_k");
        sc_core::sc_trace(tf, cu.sram.occupancy_v, u + ".sram.occupancy_v");
        sc_core::sc_trace(tf, cu.datapath.busy, u + ".datapath.busy");
        sc_core::sc_trace(tf, cu.datapath.phase, u + ".datapath.phase");
        const std::size_t i = 4 * n;
        const char* stages[] = {"fetch_k", "fetch_v", "compute", "writeback"};
        for (std::size_t k = 0; k < 4; ++k) {
            sc_core::sc_trace(tf, controller.stage_state[i + k], u + "." + stages[k] + ".state");
            sc_core::sc_trace(tf, controller.stage_query[i + k], u + "." + stages[k] + ".query");
            sc_core::sc_trace(tf, controller.stage_in_flight[i + k],
                              u + "." + stages[k] + ".in_flight");
        }
    }
}

}  // namespace sprint

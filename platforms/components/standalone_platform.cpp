#include "platforms/components/standalone_platform.h"

#include <limits>

#include <tlm>

namespace sprint::platform {

core::TechTable PlatformConfig::default_tech() {
    core::TechTable t = core::TechTable::defaults();
    MemoryConfig::apply_energy(MemoryConfig().preset, t);
    return t;
}

void PlatformConfig::register_params(core::ParamRegistry& reg) {
    ip.register_params(reg, "sprint");
    dram.register_params(reg, "dram");
    bus.register_params(reg, "bus");
    tech.register_params(reg, "tech");
    reg.add_uint("platform.dram_base", dram_base, "address", "where the router maps the DRAM", 0,
                 std::numeric_limits<uint64_t>::max());
    reg.add_uint("platform.csr_base", csr_base, "address",
                 "where the router maps the SPRINT registers", 0,
                 std::numeric_limits<uint64_t>::max());
    reg.add_double("platform.quantum_ns", quantum_ns, "ns",
                   "global quantum of temporal decoupling [D]", 0.001, 1e9);
}

IpConfig PlatformConfig::ip_for_platform() const {
    IpConfig c = ip;
    if (c.fetcher.window_size == 0) {  // the IP may reach the platform's DRAM and nothing else
        c.fetcher.window_base = dram_base;
        c.fetcher.window_size = dram_bytes();
    }
    return c;
}

std::string PlatformConfig::validate() const {
    std::string e = ip.validate();
    if (e.empty()) e = dram.validate();
    if (e.empty()) e = tech.validate();
    if (!e.empty()) return e;
    if (csr_base % regs::kCsrWindowBytes) return "platform.csr_base must be a multiple of 4096";
    const uint64_t dend = dram_base + dram_bytes();
    if (dend < dram_base) return "platform.dram_base + dram.size_mb wraps the address space";
    if (csr_base < dend && dram_base < csr_base + regs::kCsrWindowBytes)
        return "platform.csr_base overlaps the DRAM region";
    return "";
}

StandalonePlatform::StandalonePlatform(const PlatformConfig& c, Host::Script script,
                                       TransactionTracer::Sink trace)
    : cfg(c),
      host("host", c.csr_base, std::move(script)),
      bus("bus", c.bus),
      dram("dram", c.dram),
      sprint("sprint", c.ip_for_platform()),
      irq("irq") {
    tlm::tlm_global_quantum::instance().set(sc_core::sc_time(cfg.quantum_ns, sc_core::SC_NS));
    auto checked = [this](auto& from, auto& to, const char* name) {
        if (!cfg.ip.check_protocol) {
            from.bind(to);
            return;
        }
        m_checkers.push_back(std::make_unique<ProtocolChecker>(name));
        from.bind(m_checkers.back()->target);
        m_checkers.back()->initiator.bind(to);
    };
    // A tracer sits next to the IP: sprint.mem -> trace_mem -> bus, bus -> trace_csr -> [check]
    // -> sprint.csr.
    auto traced = [this, &trace](const char* name, const char* label) -> TransactionTracer* {
        if (!trace) return nullptr;
        m_tracers.push_back(std::make_unique<TransactionTracer>(name, label, trace));
        return m_tracers.back().get();
    };
    checked(host.bus, bus.targets, "check_host");
    if (TransactionTracer* t = traced("trace_mem", "mem")) {
        sprint.mem.bind(t->target);
        t->initiator.bind(bus.targets);
    } else {
        sprint.mem.bind(bus.targets);  // the IP checks its own mem port
    }
    checked(bus.initiators, dram.target, "check_dram");
    if (TransactionTracer* t = traced("trace_csr", "csr")) {
        bus.initiators.bind(t->target);
        checked(t->initiator, sprint.csr, "check_csr");
    } else {
        checked(bus.initiators, sprint.csr, "check_csr");
    }
    bus.map(0, cfg.dram_base, cfg.dram_bytes(), "dram");
    bus.map(1, cfg.csr_base, regs::kCsrWindowBytes, "sprint.csr");
    sprint.irq(irq);
    host.irq(irq);
}

StandalonePlatform::~StandalonePlatform() {
    close_vcd();
}

void StandalonePlatform::close_vcd() {
    if (m_vcd) sc_core::sc_close_vcd_trace_file(m_vcd);
    m_vcd = nullptr;
}

std::vector<std::string> StandalonePlatform::protocol_violations() const {
    std::vector<std::string> v = sprint.protocol_violations();
    for (const auto& c : m_checkers)
        v.insert(v.end(), c->violations().begin(), c->violations().end());
    return v;
}

uint64_t StandalonePlatform::protocol_transactions() const {
    uint64_t n = 0;
    for (const auto& c : m_checkers) n += c->transactions;
    for (const auto& c : sprint.checkers()) n += c->transactions;
    return n;
}

std::size_t StandalonePlatform::protocol_links() const {
    return m_checkers.size() + sprint.checkers().size();
}

void StandalonePlatform::open_vcd(const std::string& path, const std::string& comment) {
    std::string base = path;
    if (base.size() > 4 && base.compare(base.size() - 4, 4, ".vcd") == 0)
        base.resize(base.size() - 4);
    m_vcd = sc_core::sc_create_vcd_trace_file(base.c_str());
    m_vcd->set_time_unit(1, sc_core::SC_PS);
    sprint.trace(m_vcd);
    sc_core::sc_trace(m_vcd, irq, "irq");
    if (!comment.empty()) sc_core::sc_write_comment(m_vcd, comment);
}

}  // namespace sprint::platform

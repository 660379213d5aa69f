// The standalone platform: a host (driver model), a router with an address map, a main memory
// and the SPRINT IP, with the IP's irq wired to the host. Instance names are the top of the
// parameter tree: host, bus, dram, sprint (so "sprint.sram.k_bytes" names the IP's K buffer).
//
// Address map:  [dram_base, dram_base + dram.size_mb MiB)  main memory (bus target 0)
//               [csr_base,  csr_base + 4 KiB)               SPRINT registers (bus target 1)
// The IP's mem port and the host both sit on the router.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <systemc>

#include "core/energy.h"
#include "core/params.h"
#include "modules/sprint_ip.h"
#include "platforms/components/address_map.h"
#include "platforms/components/host.h"
#include "platforms/components/memory.h"
#include "platforms/components/router.h"
#include "tlm_interfaces/ip_config.h"
#include "tlm_interfaces/transaction_tracer.h"

namespace sprint::platform {

struct PlatformConfig {
    IpConfig ip;
    MemoryConfig dram;
    RouterConfig bus;
    uint64_t dram_base = kDefaultDramBase;
    uint64_t csr_base = kDefaultCsrBase;
    double quantum_ns = 1000.0;  // global quantum for temporal decoupling
    // The cost model's technology table (energy per event, leakage and area per structure):
    // parameters tech.<block>.<action>; --tech FILE replaces the values. Its dram entries are the
    // memory's (MemoryConfig::apply_energy): the default memory's here.
    core::TechTable tech = default_tech();

    // The built-in table with the default memory's energies.
    static core::TechTable default_tech();

    // Every parameter under its instance name (sprint.*, dram.*, bus.*, platform.*, tech.*).
    void register_params(core::ParamRegistry& reg);
    // The IP's configuration inside this platform: an unset address window (size 0) becomes the
    // DRAM region.
    IpConfig ip_for_platform() const;
    std::string validate() const;
    uint64_t dram_bytes() const { return dram.size_mb << 20; }
};

class StandalonePlatform {
  public:
    // With `trace`: every transaction on the IP's csr and mem links (platform side) goes to it
    // as it ends (TransactionTracer, --trace-tlm).
    StandalonePlatform(const PlatformConfig& cfg, Host::Script script,
                       TransactionTracer::Sink trace = nullptr);
    ~StandalonePlatform();

    const PlatformConfig cfg;
    Host host;
    Router bus;
    Memory dram;
    SprintIp sprint;
    sc_core::sc_signal<bool> irq;

    // Open a VCD file (".vcd" is appended by SystemC when missing) tracing the IP's
    // architectural state and the irq line; time unit 1 ps.
    // `comment` goes into the file as a $comment (the run's provenance).
    void open_vcd(const std::string& path, const std::string& comment = "");
    // Close the VCD file (SystemC writes its last values); also done by the destructor.
    void close_vcd();
    // With cfg.ip.check_protocol: every violation found on the IP's links and the platform's
    // (host -> bus, bus -> dram, bus -> sprint.csr).
    std::vector<std::string> protocol_violations() const;
    uint64_t protocol_transactions() const;
    std::size_t protocol_links() const;

  private:
    std::vector<std::unique_ptr<ProtocolChecker>> m_checkers;
    std::vector<std::unique_ptr<TransactionTracer>> m_tracers;
    sc_core::sc_trace_file* m_vcd = nullptr;
};

}  // namespace sprint::platform

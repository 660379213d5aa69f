// Embedding the IP in somebody else's virtual platform: no project platform code at all. A
// foreign memory bound straight to the IP's `mem` port, and an initiator that writes the
// registers directly on `csr`. The memory implements either only b_transport (no DMI, no debug
// transport) or only nb_transport, on a socket with no b_transport at all (as DRAMSys does).
// Every combination with both timing modes must give the core's bit-exact result. This is the
// example README.md shows.
#include <catch2/catch.hpp>

#include <type_traits>

#include "embed_fixtures.h"

using namespace sprint::embedtest;

template <class Memory>
void embed(sprint::TimingMode mode) {
    using namespace sprint;
    const FlatJob job;

    // --- the integrator's platform ---
    IpConfig cfg;  // defaults; cfg.fetcher.window_size = 0: the IP may address all of `mem`
    cfg.timing = mode;
    // A memory without b_transport needs nb_transport on the mem port in LT too.
    if (std::is_same<Memory, NbOnlyMemory>::value) cfg.fetcher.mem_protocol = MemProtocol::Nb;
    SprintIp ip("sprint", cfg);
    Memory ram("ram", 1 << 20);
    Cpu cpu("cpu");
    sc_core::sc_signal<bool> irq("irq");
    cpu.bus.bind(ip.csr);  // registers at offset 0 of the CPU's view
    ip.mem.bind(ram.socket);
    ip.irq(irq);
    cpu.irq(irq);

    job.load(ram.bytes);
    uint32_t status = 0;
    cpu.program = [&](Cpu& c) {
        job.start(c);
        sc_core::wait(c.irq.posedge_event());
        status = c.read(regs::STATUS);
        c.write(regs::IRQ_STATUS, c.read(regs::IRQ_STATUS));
    };
    sc_core::sc_start();

    CHECK(status == regs::STATUS_DONE);
    CHECK(ram.requests == ip.stats().count("fetcher.mem_reads") +
                              ip.stats().count("fetcher.mem_writes"));  // all traffic went there
    CHECK(job.output_exact(ram.bytes, cfg));
}

TEST_CASE("embed: LT with a b_transport-only memory and no router") {
    embed<PlainMemory>(sprint::TimingMode::LT);
}
TEST_CASE("embed: AT with a b_transport-only memory and no router") {
    embed<PlainMemory>(sprint::TimingMode::AT);
}
TEST_CASE("embed: LT with an nb_transport-only memory (DRAMSys-like) and no router") {
    embed<NbOnlyMemory>(sprint::TimingMode::LT);
}
TEST_CASE("embed: AT with an nb_transport-only memory (DRAMSys-like) and no router") {
    embed<NbOnlyMemory>(sprint::TimingMode::AT);
}

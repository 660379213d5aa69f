// The IP's register file seen from a bus master: reset values, access rights, the proper TLM
// response status for every kind of bad access, write-one-to-clear interrupt status and a level
// interrupt that follows IRQ_STATUS & IRQ_ENABLE.
#include <catch2/catch.hpp>

#include <cstring>

#include "harness.h"

using namespace sprint;
using tlm::tlm_response_status;

namespace {

void run(const std::function<void(platform::Host&, platform::StandalonePlatform&)>& body,
         platform::PlatformConfig cfg = test::small_platform()) {
    platform::StandalonePlatform* pp = nullptr;
    platform::StandalonePlatform p(cfg, [&](platform::Host& h) { body(h, *pp); });
    pp = &p;
    sc_core::sc_start();
}

tlm_response_status read32(platform::Host& h, uint64_t off, uint32_t& v) {
    uint8_t b[4] = {0, 0, 0, 0};
    const auto st = h.csr_access(tlm::TLM_READ_COMMAND, off, b, 4);
    std::memcpy(&v, b, 4);
    return st;
}

tlm_response_status write32(platform::Host& h, uint64_t off, uint32_t v) {
    uint8_t b[4];
    std::memcpy(b, &v, 4);
    return h.csr_access(tlm::TLM_WRITE_COMMAND, off, b, 4);
}

}  // namespace

TEST_CASE("registers: identification - capabilities and reset values") {
    run([](platform::Host& h, platform::StandalonePlatform& p) {
        CHECK(h.read_reg(regs::ID) == regs::kIdValue);
        CHECK(h.read_reg(regs::VERSION) == regs::kVersionValue);
        CHECK(h.read_reg(regs::CAP_MAX_SEQ) == p.sprint.config().max_seq_len());
        CHECK(h.read_reg(regs::CAP_MAX_SEQ) == 4096u);
        CHECK(h.read_reg(regs::CAP_MAX_DIM) == 4096u);
        for (const auto& r : regs::register_map()) {
            uint32_t v = 0xDEADBEEF;
            REQUIRE(read32(h, r.offset, v) == tlm::TLM_OK_RESPONSE);
            if (r.access != regs::Access::WO && r.name.rfind("CAP_", 0) != 0) CHECK(v == r.reset);
        }
    });
}

TEST_CASE("registers: bad accesses get the proper TLM response status and change nothing") {
    run([](platform::Host& h, platform::StandalonePlatform& p) {
        uint32_t v = 0;
        // Unmapped offset inside the window, misaligned offset, outside the 4 KiB window.
        CHECK(read32(h, 0x0F0, v) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        CHECK(read32(h, 0x002, v) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        CHECK(write32(h, 0x019, 1) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        CHECK(read32(h, 0x1000, v) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        // Wrong size and streaming.
        uint8_t b8[8] = {};
        CHECK(h.csr_access(tlm::TLM_READ_COMMAND, regs::HEADS, b8, 8) == tlm::TLM_BURST_ERROR_RESPONSE);
        CHECK(h.csr_access(tlm::TLM_WRITE_COMMAND, regs::HEADS, b8, 2) == tlm::TLM_BURST_ERROR_RESPONSE);
        CHECK(h.csr_access(tlm::TLM_WRITE_COMMAND, regs::HEADS, b8, 4, nullptr, 0, 2) ==
              tlm::TLM_BURST_ERROR_RESPONSE);
        // Partial byte enables are refused; all lanes enabled is fine.
        uint8_t data[4] = {7, 0, 0, 0};
        const uint8_t partial[4] = {0xFF, 0x00, 0xFF, 0xFF};
        const uint8_t full[4] = {0xFF, 0xFF, 0xFF, 0xFF};
        CHECK(h.csr_access(tlm::TLM_WRITE_COMMAND, regs::HEADS, data, 4, partial, 4) ==
              tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        CHECK(h.read_reg(regs::HEADS) == 0u);
        CHECK(h.csr_access(tlm::TLM_WRITE_COMMAND, regs::HEADS, data, 4, full, 4) == tlm::TLM_OK_RESPONSE);
        CHECK(h.read_reg(regs::HEADS) == 7u);
        // Writes to read-only registers.
        CHECK(write32(h, regs::ID, 0) == tlm::TLM_COMMAND_ERROR_RESPONSE);
        CHECK(write32(h, regs::STATUS, 0xFF) == tlm::TLM_COMMAND_ERROR_RESPONSE);
        CHECK(write32(h, regs::CYCLES_LO, 5) == tlm::TLM_COMMAND_ERROR_RESPONSE);
        CHECK(h.read_reg(regs::ID) == regs::kIdValue);
        CHECK(h.read_reg(regs::STATUS) == 0u);
        // The ignore command is accepted without effect.
        CHECK(h.csr_access(tlm::TLM_IGNORE_COMMAND, regs::HEADS, data, 4) == tlm::TLM_OK_RESPONSE);
        // The model counted the refused accesses and is still usable.
        CHECK(p.sprint.stats().value("controller.register_errors").get<uint64_t>() == 10u);
        CHECK(h.read_reg(regs::ID) == regs::kIdValue);
    });
}

TEST_CASE("registers: CTRL reads as zero and debug transport reads without side effects") {
    run([](platform::Host& h, platform::StandalonePlatform&) {
        h.write_reg(regs::SEQ_LEN, 1234);
        CHECK(h.read_reg(regs::CTRL) == 0u);
        tlm::tlm_generic_payload gp;
        uint8_t b[8] = {};
        gp.set_command(tlm::TLM_READ_COMMAND);
        gp.set_address(platform::kDefaultCsrBase + regs::HEADS);
        gp.set_data_ptr(b);
        gp.set_data_length(8);
        CHECK(h.bus->transport_dbg(gp) == 8u);
        uint32_t v[2];
        std::memcpy(v, b, 8);
        CHECK(v[1] == 1234u);  // SEQ_LEN follows HEADS
        gp.set_command(tlm::TLM_WRITE_COMMAND);
        CHECK(h.bus->transport_dbg(gp) == 0u);  // debug writes are refused
        CHECK(h.read_reg(regs::SEQ_LEN) == 1234u);
    });
}

TEST_CASE("registers: interrupt is a level of IRQ_STATUS and IRQ_ENABLE with write-one-to-clear") {
    const auto w = test::make_workload(1, 64, 64, 0.2, false);
    run([&](platform::Host& h, platform::StandalonePlatform& p) {
        const platform::JobDesc j = h.place(w, core::JobOptions{}, platform::kDefaultDramBase);
        // Program a job with interrupts disabled and poll STATUS instead.
        h.program_job(j);
        h.write_reg(regs::CTRL, regs::CTRL_START);
        CHECK((h.read_reg(regs::STATUS) & regs::STATUS_BUSY) != 0);
        h.wait_for(sc_core::sc_time(1, sc_core::SC_MS));
        CHECK(h.read_reg(regs::STATUS) == regs::STATUS_DONE);
        CHECK(h.read_reg(regs::IRQ_STATUS) == regs::IRQ_DONE);
        CHECK(p.irq.read() == false);  // cause pending but not enabled
        // Enabling the cause raises the line; enabling only ERROR does not.
        h.write_reg(regs::IRQ_ENABLE, regs::IRQ_ERROR);
        h.wait_for(sc_core::sc_time(10, sc_core::SC_NS));
        CHECK(p.irq.read() == false);
        h.write_reg(regs::IRQ_ENABLE, regs::IRQ_DONE);
        h.wait_for(sc_core::sc_time(10, sc_core::SC_NS));
        CHECK(p.irq.read() == true);
        // Writing 0 clears nothing; writing 1 to the bit clears it and drops the line.
        h.write_reg(regs::IRQ_STATUS, 0);
        h.wait_for(sc_core::sc_time(10, sc_core::SC_NS));
        CHECK(h.read_reg(regs::IRQ_STATUS) == regs::IRQ_DONE);
        CHECK(p.irq.read() == true);
        h.write_reg(regs::IRQ_STATUS, regs::IRQ_DONE);
        h.wait_for(sc_core::sc_time(10, sc_core::SC_NS));
        CHECK(h.read_reg(regs::IRQ_STATUS) == 0u);
        CHECK(p.irq.read() == false);
        CHECK(h.read_reg(regs::CYCLES_LO) > 0u);
    });
}

TEST_CASE("registers: START while busy sets OVERRUN and leaves the running job alone") {
    const auto w = test::make_workload(2, 128, 64, 0.2, false);
    run([&](platform::Host& h, platform::StandalonePlatform&) {
        const platform::JobDesc j = h.place(w, core::JobOptions{}, platform::kDefaultDramBase);
        // Start the job by hand, then write START again while it runs.
        h.program_job(j);
        h.write_reg(regs::IRQ_ENABLE, regs::IRQ_DONE | regs::IRQ_ERROR);
        h.write_reg(regs::CTRL, regs::CTRL_START);
        h.wait_for(sc_core::sc_time(100, sc_core::SC_NS));
        h.write_reg(regs::HEADS, 0);  // programs the next job only: the running one latched 2
        h.write_reg(regs::CTRL, regs::CTRL_START);
        CHECK((h.read_reg(regs::STATUS) & (regs::STATUS_BUSY | regs::STATUS_OVERRUN)) ==
              (regs::STATUS_BUSY | regs::STATUS_OVERRUN));
        h.sync();
        sc_core::wait(h.irq.posedge_event());
        CHECK(h.read_reg(regs::STATUS) == (regs::STATUS_DONE | regs::STATUS_OVERRUN));
        CHECK(h.read_output(j) == core::reference_output(w, core::JobOptions{}, core::XbarNumerics{}));
    });
}

// The IP's register file seen from a bus master: reset values, access rights, the proper TLM
// response status for every kind of bad access, write-one-to-clear interrupt status and a level
// interrupt that follows IRQ_STATUS & IRQ_ENABLE.
#include <catch2/catch.hpp>

#include <cstring>

#include "harness.h"
#include "tlm_interfaces/job_check.h"

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
        CHECK(h.read_reg(regs::CAP_MAX_SEQ) == capability_max_seq(p.sprint.config()));
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
        CHECK(h.csr_access(tlm::TLM_READ_COMMAND, regs::HEADS, b8, 8) ==
              tlm::TLM_BURST_ERROR_RESPONSE);
        CHECK(h.csr_access(tlm::TLM_WRITE_COMMAND, regs::HEADS, b8, 2) ==
              tlm::TLM_BURST_ERROR_RESPONSE);
        CHECK(h.csr_access(tlm::TLM_WRITE_COMMAND, regs::HEADS, b8, 4, nullptr, 0, 2) ==
              tlm::TLM_BURST_ERROR_RESPONSE);
        // Partial byte enables are refused; all lanes enabled is fine.
        uint8_t data[4] = {7, 0, 0, 0};
        const uint8_t partial[4] = {0xFF, 0x00, 0xFF, 0xFF};
        const uint8_t full[4] = {0xFF, 0xFF, 0xFF, 0xFF};
        CHECK(h.csr_access(tlm::TLM_WRITE_COMMAND, regs::HEADS, data, 4, partial, 4) ==
              tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        CHECK(h.read_reg(regs::HEADS) == 0u);
        CHECK(h.csr_access(tlm::TLM_WRITE_COMMAND, regs::HEADS, data, 4, full, 4) ==
              tlm::TLM_OK_RESPONSE);
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
        CHECK(h.read_output(j) ==
              core::reference_output(w, core::JobOptions{}, core::XbarNumerics{}));
    });
}

// ---- the contract of docs/registers.md, point by point ------------------------------------------

TEST_CASE("registers: reserved bits read as zero and ignore writes") {
    const auto w = test::make_workload(1, 64, 64, 0.2, false);
    run([&](platform::Host& h, platform::StandalonePlatform&) {
        for (const auto& r : regs::register_map()) {
            if (r.fields.empty() || r.access != regs::Access::RW) continue;
            INFO(r.name);
            REQUIRE(write32(h, r.offset, 0xFFFFFFFFu) == tlm::TLM_OK_RESPONSE);
            CHECK(h.read_reg(r.offset) == r.value_mask());
            REQUIRE(write32(h, r.offset, 0) == tlm::TLM_OK_RESPONSE);
        }
        CHECK(regs::find("JOB_CFG")->value_mask() == 0x3F7u);
        CHECK(regs::find("IRQ_ENABLE")->value_mask() == 0x3u);
        // CTRL without START (every other bit set) starts nothing.
        CHECK(write32(h, regs::CTRL, ~regs::CTRL_START) == tlm::TLM_OK_RESPONSE);
        h.wait_for(sc_core::sc_time(1, sc_core::SC_US));
        CHECK(h.read_reg(regs::STATUS) == 0u);
        // A job with every reserved JOB_CFG bit set and garbage in the head-table padding runs as
        // the same job without them, bit for bit.
        const platform::JobDesc j = h.place(w, core::JobOptions{}, platform::kDefaultDramBase);
        const uint8_t junk[12] = {0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA,
                                  0x99, 0x88, 0x77, 0x66, 0x55, 0x44};
        h.mem_write(j.table + 20, junk, sizeof junk);
        h.program_job(j);
        CHECK(write32(h, regs::JOB_CFG, ~regs::find("JOB_CFG")->value_mask()) ==
              tlm::TLM_OK_RESPONSE);
        CHECK(h.read_reg(regs::JOB_CFG) == 0u);
        CHECK(write32(h, regs::IRQ_ENABLE, 0xFFFFFFFFu) == tlm::TLM_OK_RESPONSE);
        h.write_reg(regs::CTRL, regs::CTRL_START);
        h.sync();
        sc_core::wait(h.irq.posedge_event());
        CHECK(h.read_reg(regs::STATUS) == regs::STATUS_DONE);
        // Writing 1s to IRQ_STATUS's reserved bits clears nothing else and sets nothing.
        CHECK(write32(h, regs::IRQ_STATUS, ~regs::IRQ_DONE & ~regs::IRQ_ERROR) ==
              tlm::TLM_OK_RESPONSE);
        CHECK(h.read_reg(regs::IRQ_STATUS) == regs::IRQ_DONE);
        CHECK(h.read_output(j) ==
              core::reference_output(w, core::JobOptions{}, core::XbarNumerics{}));
    });
}

TEST_CASE("registers: every read-only register refuses writes, the _HI halves included") {
    const auto w = test::make_workload(1, 64, 64, 0.2, false);
    run([&](platform::Host& h, platform::StandalonePlatform&) {
        // After a job, so the counters hold values worth keeping.
        const platform::JobDesc j = h.place(w, core::JobOptions{}, platform::kDefaultDramBase);
        REQUIRE(h.run_job(j, sc_core::sc_time(1, sc_core::SC_SEC)).ok());
        int ro = 0;
        for (const auto& r : regs::register_map()) {
            if (r.access != regs::Access::RO) continue;
            INFO(r.name);
            ++ro;
            const uint32_t before = h.read_reg(r.offset);
            CHECK(write32(h, r.offset, ~before) == tlm::TLM_COMMAND_ERROR_RESPONSE);
            CHECK(write32(h, r.offset, 0) == tlm::TLM_COMMAND_ERROR_RESPONSE);
            CHECK(h.read_reg(r.offset) == before);
        }
        CHECK(ro == 18);  // ID, VERSION, STATUS, 6 counters x 2 halves, 3 capabilities
        CHECK(h.read_reg(regs::CYCLES_LO) > 0u);
    });
}

TEST_CASE(
    "registers: byte enables of any length repeat over the word, only all lanes on is accepted") {
    run([](platform::Host& h, platform::StandalonePlatform&) {
        uint8_t d[4] = {9, 0, 0, 0};
        const uint8_t on1[1] = {0xFF}, on3[3] = {0xFF, 0xFF, 0xFF},
                      on8[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
        const uint8_t half[2] = {0xFF, 0x00}, weak[4] = {0xFF, 0xFF, 0xFF, 0x01}, none[1] = {0x00};
        CHECK(h.csr_access(tlm::TLM_WRITE_COMMAND, regs::HEADS, d, 4, on1, 1) ==
              tlm::TLM_OK_RESPONSE);
        CHECK(h.read_reg(regs::HEADS) == 9u);
        d[0] = 10;
        CHECK(h.csr_access(tlm::TLM_WRITE_COMMAND, regs::HEADS, d, 4, on3, 3) ==
              tlm::TLM_OK_RESPONSE);
        CHECK(h.read_reg(regs::HEADS) == 10u);
        d[0] = 11;
        // Only the first 4 entries of a longer array apply to a 4-byte access.
        CHECK(h.csr_access(tlm::TLM_WRITE_COMMAND, regs::HEADS, d, 4, on8, 8) ==
              tlm::TLM_OK_RESPONSE);
        CHECK(h.read_reg(regs::HEADS) == 11u);
        d[0] = 12;
        for (auto [be, len] : {std::pair{half, 2u}, std::pair{weak, 4u}, std::pair{none, 1u}}) {
            CHECK(h.csr_access(tlm::TLM_WRITE_COMMAND, regs::HEADS, d, 4, be, len) ==
                  tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
            CHECK(h.csr_access(tlm::TLM_READ_COMMAND, regs::HEADS, d, 4, be, len) ==
                  tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        }
        CHECK(h.read_reg(regs::HEADS) == 11u);
        uint8_t r[4] = {};
        CHECK(h.csr_access(tlm::TLM_READ_COMMAND, regs::HEADS, r, 4, on1, 1) ==
              tlm::TLM_OK_RESPONSE);
        CHECK(r[0] == 11);
    });
}

TEST_CASE(
    "registers: 1- and 2-byte accesses are burst errors, a streaming width above the length is a "
    "plain access") {
    run([](platform::Host& h, platform::StandalonePlatform&) {
        h.write_reg(regs::SEQ_LEN, 0x11223344);
        uint8_t b[8] = {0x55, 0, 0, 0, 0, 0, 0, 0};
        for (uint64_t off :
             {uint64_t(regs::SEQ_LEN), uint64_t(regs::SEQ_LEN + 1), uint64_t(regs::SEQ_LEN + 3)}) {
            CHECK(h.csr_access(tlm::TLM_READ_COMMAND, off, b, 1) == tlm::TLM_BURST_ERROR_RESPONSE);
            CHECK(h.csr_access(tlm::TLM_WRITE_COMMAND, off, b, 1) == tlm::TLM_BURST_ERROR_RESPONSE);
        }
        CHECK(h.csr_access(tlm::TLM_WRITE_COMMAND, regs::SEQ_LEN, b, 2) ==
              tlm::TLM_BURST_ERROR_RESPONSE);
        CHECK(h.read_reg(regs::SEQ_LEN) == 0x11223344u);
        // Streaming width 8 >= length 4: no streaming (TLM-2.0), an ordinary access.
        const uint32_t v = 77;
        std::memcpy(b, &v, 4);
        CHECK(h.csr_access(tlm::TLM_WRITE_COMMAND, regs::SEQ_LEN, b, 4, nullptr, 0, 8) ==
              tlm::TLM_OK_RESPONSE);
        CHECK(h.read_reg(regs::SEQ_LEN) == 77u);
        // Streaming width 2 < length 4 is streaming: refused.
        CHECK(h.csr_access(tlm::TLM_READ_COMMAND, regs::SEQ_LEN, b, 4, nullptr, 0, 2) ==
              tlm::TLM_BURST_ERROR_RESPONSE);
    });
}

TEST_CASE("registers: debug reads at misaligned, unmapped and partly mapped offsets") {
    run([](platform::Host& h, platform::StandalonePlatform&) {
        h.write_reg(regs::HEAD_DIM, 64);
        auto dbg = [&](uint64_t off, unsigned len, uint8_t* out) {
            tlm::tlm_generic_payload gp;
            gp.set_command(tlm::TLM_READ_COMMAND);
            gp.set_address(platform::kDefaultCsrBase + off);
            gp.set_data_ptr(out);
            gp.set_data_length(len);
            gp.set_streaming_width(len);
            return h.bus->transport_dbg(gp);
        };
        uint8_t b[64] = {};
        CHECK(dbg(regs::HEAD_DIM + 2, 4, b) == 0u);  // misaligned
        CHECK(dbg(0x0F0, 8, b) == 0u);               // unmapped
        CHECK(dbg(0xFFC, 16, b) == 0u);  // the last word of the window, unmapped, and past it
        // From CAP_MAX_SEQ on: three registers, then the first unmapped offset ends the read.
        CHECK(dbg(regs::CAP_MAX_SEQ, 64, b) == 12u);
        uint32_t caps[3];
        std::memcpy(caps, b, 12);
        CHECK(caps[2] == h.read_reg(regs::CAP_KEY_BITS));
        CHECK(caps[0] == h.read_reg(regs::CAP_MAX_SEQ));
        CHECK(caps[1] == h.read_reg(regs::CAP_MAX_DIM));
        // An incomplete last word is not transferred.
        CHECK(dbg(regs::HEAD_DIM, 6, b) == 4u);
        uint32_t d;
        std::memcpy(&d, b, 4);
        CHECK(d == 64u);
        // Debug reads have no side effects: IRQ_STATUS and CTRL are unchanged by them.
        CHECK(dbg(regs::CTRL, 16, b) == 16u);
        CHECK(h.read_reg(regs::STATUS) == 0u);
    });
}

TEST_CASE("registers: IRQ_ENABLE changes and IRQ_STATUS writes while a job runs") {
    const auto w = test::make_workload(2, 128, 64, 0.2, false);
    run([&](platform::Host& h, platform::StandalonePlatform& p) {
        const platform::JobDesc j = h.place(w, core::JobOptions{}, platform::kDefaultDramBase);
        h.program_job(j);
        h.write_reg(regs::IRQ_ENABLE, 0);
        h.write_reg(regs::CTRL, regs::CTRL_START);
        h.wait_for(sc_core::sc_time(2, sc_core::SC_US));
        REQUIRE((h.read_reg(regs::STATUS) & regs::STATUS_BUSY) != 0);
        // Nothing is pending yet: enabling both causes and clearing them changes nothing now.
        h.write_reg(regs::IRQ_ENABLE, regs::IRQ_DONE | regs::IRQ_ERROR);
        h.write_reg(regs::IRQ_STATUS, regs::IRQ_DONE | regs::IRQ_ERROR);
        h.wait_for(sc_core::sc_time(10, sc_core::SC_NS));
        CHECK(p.irq.read() == false);
        CHECK(h.read_reg(regs::IRQ_STATUS) == 0u);
        // Only ERROR enabled when the job completes: DONE is pending, the line stays low.
        h.write_reg(regs::IRQ_ENABLE, regs::IRQ_ERROR);
        while (h.read_reg(regs::STATUS) & regs::STATUS_BUSY)
            h.wait_for(sc_core::sc_time(1, sc_core::SC_US));
        CHECK(h.read_reg(regs::STATUS) == regs::STATUS_DONE);
        CHECK(h.read_reg(regs::IRQ_STATUS) == regs::IRQ_DONE);
        CHECK(p.irq.read() == false);
        // Enabling DONE afterwards raises it.
        h.write_reg(regs::IRQ_ENABLE, regs::IRQ_DONE);
        h.wait_for(sc_core::sc_time(10, sc_core::SC_NS));
        CHECK(p.irq.read() == true);
        CHECK(h.read_output(j) ==
              core::reference_output(w, core::JobOptions{}, core::XbarNumerics{}));
    });
}

TEST_CASE(
    "registers: the 64-bit counters hold the last job's values while busy and change at "
    "completion") {
    const auto w = test::make_workload(2, 128, 64, 0.2, false);
    run([&](platform::Host& h, platform::StandalonePlatform&) {
        const platform::JobDesc j = h.place(w, core::JobOptions{}, platform::kDefaultDramBase);
        platform::JobDesc dense = j;
        dense.opt.mode = core::Mode::Dense;
        const auto first = h.run_job(j, sc_core::sc_time(1, sc_core::SC_SEC));
        REQUIRE(first.ok());
        // The documented untorn read: HI, LO, HI again; retry while HI changed.
        auto read64 = [&](uint32_t lo) {
            for (;;) {
                const uint32_t hi = h.read_reg(lo + 4), l = h.read_reg(lo);
                if (h.read_reg(lo + 4) == hi) return (uint64_t(hi) << 32) | l;
            }
        };
        CHECK(read64(regs::CYCLES_LO) == first.cycles);
        h.program_job(dense);
        h.write_reg(regs::CTRL, regs::CTRL_START);
        int polls = 0;
        while (h.read_reg(regs::STATUS) & regs::STATUS_BUSY) {
            ++polls;
            CHECK(read64(regs::CYCLES_LO) == first.cycles);
            CHECK(read64(regs::MEM_RD_BYTES_LO) == first.mem_read_bytes);
            CHECK(read64(regs::KEPT_KEYS_LO) == first.kept_keys);
            h.wait_for(sc_core::sc_time(5, sc_core::SC_US));
        }
        CHECK(polls > 3);
        CHECK(h.read_reg(regs::STATUS) == regs::STATUS_DONE);
        CHECK(read64(regs::CYCLES_LO) != first.cycles);
        CHECK(read64(regs::KEPT_KEYS_LO) == 2u * 128 * 128);  // dense keeps every visible pair
    });
}

TEST_CASE("registers: START right after a failed job runs the next job normally") {
    const auto w = test::make_workload(1, 64, 64, 0.2, false);
    run([&](platform::Host& h, platform::StandalonePlatform&) {
        const platform::JobDesc j = h.place(w, core::JobOptions{}, platform::kDefaultDramBase);
        h.program_job(j);
        h.write_reg(regs::HEAD_DIM, 0);
        h.write_reg(regs::IRQ_ENABLE, regs::IRQ_DONE | regs::IRQ_ERROR);
        h.write_reg(regs::CTRL, regs::CTRL_START);
        h.sync();
        sc_core::wait(h.irq.posedge_event());
        const uint32_t failed = h.read_reg(regs::STATUS);
        CHECK((failed & (regs::STATUS_ERROR | regs::STATUS_DONE | regs::STATUS_BUSY)) ==
              regs::STATUS_ERROR);
        CHECK(regs::status_error(failed) == regs::ErrorCode::BadShape);
        // No clearing, no wait: fix the register and START at once.
        h.write_reg(regs::HEAD_DIM, 64);
        h.write_reg(regs::CTRL, regs::CTRL_START);
        CHECK(h.read_reg(regs::STATUS) ==
              regs::STATUS_BUSY);  // a new job clears DONE, ERROR and ERR_CODE
        while (h.read_reg(regs::STATUS) & regs::STATUS_BUSY)
            h.wait_for(sc_core::sc_time(1, sc_core::SC_US));
        CHECK(h.read_reg(regs::STATUS) == regs::STATUS_DONE);
        CHECK(h.read_reg(regs::IRQ_STATUS) ==
              (regs::IRQ_DONE | regs::IRQ_ERROR));  // both causes pending
        CHECK(h.read_output(j) ==
              core::reference_output(w, core::JobOptions{}, core::XbarNumerics{}));
    });
}

TEST_CASE("registers: JOB_CFG and head-table entries encode and decode through the field table") {
    for (int m = 0; m < 4; ++m)
        for (int bits = 0; bits < 32; ++bits) {
            core::JobOptions o;
            o.mode = core::Mode(m);
            o.causal = bits & 1;
            o.softmax = bits & 2    ? core::SoftmaxKind::Float
                        : bits & 16 ? core::SoftmaxKind::Prob8
                                    : core::SoftmaxKind::Fixed;
            o.output = bits & 4 ? core::OutputFormat::Int16 : core::OutputFormat::Float32;
            o.empty_row = bits & 8 ? core::EmptyRowPolicy::Max : core::EmptyRowPolicy::Self;
            const uint32_t v = regs::encode_job_cfg(o);
            CHECK((v & ~regs::find("JOB_CFG")->value_mask()) == 0u);  // no reserved bit set
            const regs::DecodedJobCfg d =
                regs::decode_job_cfg(v | ~regs::find("JOB_CFG")->value_mask() & ~7u);
            CHECK(d.mode_ok);
            CHECK(d.opt.mode == o.mode);
            CHECK(d.opt.causal == o.causal);
            CHECK(d.opt.softmax == o.softmax);
            CHECK(d.opt.output == o.output);
            CHECK(d.opt.empty_row == o.empty_row);
        }
    for (uint32_t bad = 4; bad < 8; ++bad) CHECK_FALSE(regs::decode_job_cfg(bad).mode_ok);
    CHECK(regs::encode_job_cfg(core::JobOptions{}) == 0u);

    core::HeadParams hp{-1.5f, 0.25f, 0.5f, 2.0f, 77};
    uint8_t e[regs::kHeadEntryBytes];
    std::memset(e, 0xAB, sizeof e);
    regs::encode_head_entry(hp, e);
    for (unsigned i = 20; i < regs::kHeadEntryBytes; ++i) CHECK(e[i] == 0);  // reserved bytes zero
    const core::HeadParams back = regs::decode_head_entry(e);
    CHECK(back.threshold == hp.threshold);
    CHECK(back.s_q == hp.s_q);
    CHECK(back.s_k == hp.s_k);
    CHECK(back.s_v == hp.s_v);
    CHECK(back.valid_len == hp.valid_len);
    CHECK(regs::head_entry_ok(hp, 77));
    CHECK_FALSE(regs::head_entry_ok(hp, 76));
    using Change = std::function<void(core::HeadParams&)>;
    for (const Change& bad : std::vector<Change>{
             [](core::HeadParams& x) { x.valid_len = 0; },
             [](core::HeadParams& x) { x.s_v = 0.0f; }, [](core::HeadParams& x) { x.s_q = -1.0f; },
             [](core::HeadParams& x) { x.threshold = INFINITY; }}) {
        core::HeadParams x = hp;
        bad(x);
        CHECK_FALSE(regs::head_entry_ok(x, 100));
    }
    const uint32_t st = regs::encode_status_error(regs::ErrorCode::Overlap, true);
    CHECK(regs::status_error(st) == regs::ErrorCode::Overlap);
    CHECK((st & (regs::STATUS_ERROR | regs::STATUS_OVERRUN | regs::STATUS_DONE)) ==
          (regs::STATUS_ERROR | regs::STATUS_OVERRUN));
}

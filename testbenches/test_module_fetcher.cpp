// Fetcher on its own, between a test initiator (the controller's side), the platform's Memory
// (through a logging passthrough, or bound directly) and a real SramBuffer (read back through its
// datapath port). Memory timing is the documented LT timeline of platforms/components/memory.h with
// round numbers: 50 ns read latency, 70 ns write latency, 16 GB/s, 64 B bursts, so 64 B take 4 ns:
//   data_start = max(arrive + latency, bus_free), data_end = bus_free = data_start + transfer.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "module_fixtures.h"
#include "modules/fetcher.h"
#include "modules/sram_buffer.h"
#include "platforms/components/memory.h"

using namespace sprint;
using namespace sprint::modtest;
using platform::Memory;
using platform::MemoryConfig;
using proto::Buffer;
using sc_core::sc_time;

namespace {

constexpr uint64_t kKBase = 0x1000, kVBase = 0x8000;
constexpr uint32_t kRow = 64;

MemoryConfig round_memory() {
    MemoryConfig m;
    m.latency_ns = 50;
    m.write_latency_ns = 70;
    m.bandwidth_gbps = 16;
    m.burst_bytes = 64;
    m.size_mb = 1;
    return m;
}

// Fetcher + SRAM + memory; the memory behind a Tap unless `direct`.
struct Bench : sc_core::sc_module {
    const IpConfig& cfg;
    TraceScheduler tracer{"tracer"};
    Memory memory;
    std::unique_ptr<Tap> tap;
    SramBuffer sram;
    Fetcher fetcher;
    TestInitiator ctl{"ctl"};
    TestInitiator reader{"reader"};
    TestInitiator allocator{"allocator"};  // the controller's reservations: unused here
    StubTarget xbar{"xbar"};               // K-MSB read-back: not used by these loads
    std::vector<uint8_t> k_rows = byte_rows(64, kRow, 3), v_rows = byte_rows(64, kRow, 101);

    Bench(const sc_core::sc_module_name& n, const IpConfig& c, const MemoryConfig& m,
          bool direct = false)
        : sc_module(n),
          cfg(c),
          memory("memory", m),
          sram("sram", c, tracer),
          fetcher("fetcher", c, tracer) {
        ctl.socket.bind(fetcher.from_controller.socket);
        fetcher.to_sram[0].bind(sram.from_fetcher.socket);
        fetcher.to_xbar.bind(xbar.socket);
        reader.socket.bind(sram.from_datapath.socket);
        allocator.socket.bind(sram.from_controller.socket);
        if (direct) {
            fetcher.mem.bind(memory.target);
        } else {
            tap = std::make_unique<Tap>("tap");
            fetcher.mem.bind(tap->in);
            tap->out.bind(memory.target);
        }
        memory.load(kKBase, k_rows.data(), k_rows.size());
        memory.load(kVBase, v_rows.data(), v_rows.size());
    }
    std::vector<uint8_t> k_row(uint32_t t) const {
        return {k_rows.begin() + t * kRow, k_rows.begin() + (t + 1) * kRow};
    }
    std::vector<uint8_t> v_row(uint32_t t) const {
        return {v_rows.begin() + t * kRow, v_rows.begin() + (t + 1) * kRow};
    }
    // A row as the datapath would read it (untimed for the caller: the delay is dropped).
    std::vector<uint8_t> sram_row(Buffer b, uint32_t slot, uint32_t rb = kRow) {
        std::vector<uint8_t> r(rb, 0xEE);
        sc_time d = sc_core::SC_ZERO_TIME;
        reader.read(proto::sram_address(b, slot, rb), r.data(), rb, d);
        return r;
    }
};

struct Loaded {
    tlm::tlm_response_status status;
    std::vector<uint32_t> slots;
    uint32_t hits, fetched;
    bool no_room;
    tlm::tlm_response_status mem_status;
    sc_time delay;
};

Loaded load_rows(TestInitiator& ctl, Buffer b, uint32_t query, uint64_t base,
                 const std::vector<uint32_t>& tokens, sc_time delay = sc_core::SC_ZERO_TIME,
                 uint32_t row_bytes = kRow, uint32_t head = 0, bool with_slots = true) {
    Loaded r;
    r.slots.assign(tokens.size(), ~0u);
    proto::FetchCommand c;
    c.op = proto::FetchOp::LoadRows;
    c.buffer = b;
    c.head = head;
    c.query = query;
    c.tensor_base = base;
    c.row_bytes = row_bytes;
    c.tokens = tokens.data();
    c.count = uint32_t(tokens.size());
    c.slots_out = with_slots ? r.slots.data() : nullptr;
    r.status = ctl.command(c, delay);
    r.hits = c.hits_out;
    r.fetched = c.fetched_out;
    r.no_room = c.no_room_out;
    r.mem_status = c.mem_status;
    r.delay = delay;
    return r;
}

// Unpin rows after use, as the controller does once the datapath has consumed a chunk.
tlm::tlm_response_status release_rows(TestInitiator& ctl, Buffer b, std::vector<uint32_t> slots) {
    proto::FetchCommand c;
    c.op = proto::FetchOp::ReleaseRows;
    c.buffer = b;
    c.slots = slots.data();
    c.count = uint32_t(slots.size());
    sc_time d = sc_core::SC_ZERO_TIME;
    return ctl.command(c, d);
}

tlm::tlm_response_status flush(TestInitiator& ctl) {
    proto::FetchCommand c;
    c.op = proto::FetchOp::Flush;
    sc_time d = sc_core::SC_ZERO_TIME;
    return ctl.command(c, d);
}

using Tokens = std::vector<uint32_t>;

std::vector<std::pair<uint64_t, unsigned>> accesses(const Tap& tap) {
    std::vector<std::pair<uint64_t, unsigned>> v;
    for (const auto& a : tap.log) v.emplace_back(a.addr, a.len);
    return v;
}

// Eight one-row requests (tokens 0, 2, .., 14: none adjacent) with the given window.
struct PipelineRun {
    Loaded l;
    std::vector<sc_time> arrive;
    uint64_t max_in_flight = 0, reads = 0;
};
PipelineRun eight_single_rows(uint32_t max_outstanding, uint32_t issue_cycles = 1) {
    IpConfig cfg;
    cfg.fetcher.max_outstanding = max_outstanding;
    cfg.fetcher.issue_cycles = issue_cycles;
    Bench b("bench", cfg, round_memory());
    PipelineRun r;
    b.ctl.body = [&](TestInitiator& ctl) {
        r.l = load_rows(ctl, Buffer::K, 0, kKBase, {0, 2, 4, 6, 8, 10, 12, 14});
    };
    sc_core::sc_start();
    for (const auto& a : b.tap->log) r.arrive.push_back(a.arrive);
    r.max_in_flight = b.fetcher.stats().count("max_in_flight");
    r.reads = b.memory.counters().read_transactions;
    return r;
}

}  // namespace

TEST_CASE(
    "module fetcher: load rows skips resident rows and coalesces adjacent misses into bursts") {
    IpConfig cfg;  // max_burst_bytes 256 = 4 rows of 64 B
    Bench b("bench", cfg, round_memory());
    b.fetcher.record_loads(true);
    std::vector<Loaded> l;
    std::vector<std::vector<uint8_t>> k_back;
    std::vector<uint32_t> k_tokens;
    b.ctl.body = [&](TestInitiator& ctl) {
        l.push_back(load_rows(ctl, Buffer::K, 0, kKBase, {0, 1, 2, 3}));
        l.push_back(load_rows(ctl, Buffer::K, 1, kKBase, {0, 1, 2, 3, 4, 5, 8, 9}));
        l.push_back(load_rows(ctl, Buffer::K, 2, kKBase, {1, 10, 11, 12, 13, 14, 20}));
        l.push_back(load_rows(ctl, Buffer::V, 2, kVBase, {3, 4}));
        // Every K row that was asked for, read back from the slot the SRAM gave it.
        for (std::size_t c = 1; c < 3; ++c)
            for (std::size_t i = 0; i < l[c].slots.size(); ++i)
                k_back.push_back(b.sram_row(Buffer::K, l[c].slots[i]));
    };
    sc_core::sc_start();

    REQUIRE(l.size() == 4);
    for (const auto& x : l) CHECK(x.status == tlm::TLM_OK_RESPONSE);
    CHECK(l[0].hits == 0);
    CHECK(l[0].fetched == 4);
    CHECK(l[1].hits == 4);
    CHECK(l[1].fetched == 4);
    CHECK(l[2].hits == 1);
    CHECK(l[2].fetched == 6);
    CHECK(l[3].hits == 0);
    CHECK(l[3].fetched == 2);
    // Resident rows keep their slots.
    CHECK(Tokens(l[1].slots.begin(), l[1].slots.begin() + 4) == l[0].slots);
    CHECK(l[2].slots[0] == l[0].slots[1]);

    const std::vector<std::pair<uint64_t, unsigned>> want = {
        {kKBase + 0 * kRow, 256},                             // 0..3
        {kKBase + 4 * kRow, 128},  {kKBase + 8 * kRow, 128},  // 4..5, 8..9
        {kKBase + 10 * kRow, 256}, {kKBase + 14 * kRow, 64},  // 10..13 (burst full), 14
        {kKBase + 20 * kRow, 64},                             // 20
        {kVBase + 3 * kRow, 128}};                            // V 3..4
    CHECK(accesses(*b.tap) == want);
    for (const auto& a : b.tap->log) CHECK(a.cmd == tlm::TLM_READ_COMMAND);
    CHECK(b.memory.counters().read_transactions == 7);
    CHECK(b.fetcher.stats().count("mem_reads") == 7);
    CHECK(b.fetcher.stats().count("mem_read_bytes") == 16 * kRow);

    const Tokens asked = {0, 1, 2, 3, 4, 5, 8, 9, 1, 10, 11, 12, 13, 14, 20};
    REQUIRE(k_back.size() == asked.size());
    for (std::size_t i = 0; i < asked.size(); ++i) {
        INFO("token " << asked[i]);
        CHECK(k_back[i] == b.k_row(asked[i]));
    }

    const auto& log = b.fetcher.load_log();
    REQUIRE(log.size() == 4);
    const uint32_t want_log[4][5] = {
        {0, 0, 4, 0, 4}, {1, 0, 8, 4, 4}, {2, 0, 7, 1, 6}, {2, 1, 2, 0, 2}};
    for (std::size_t i = 0; i < 4; ++i) {
        INFO("command " << i);
        CHECK(log[i].head == 0);
        CHECK(log[i].query == want_log[i][0]);
        CHECK(uint32_t(log[i].buffer) == want_log[i][1]);
        CHECK(log[i].requested == want_log[i][2]);
        CHECK(log[i].resident == want_log[i][3]);
        CHECK(log[i].fetched == want_log[i][4]);
    }
    CHECK(b.fetcher.stats().count("rows_requested_k") == 19);
    CHECK(b.fetcher.stats().count("rows_resident_k") == 5);
    CHECK(b.fetcher.stats().count("rows_fetched_k") == 14);
    CHECK(b.fetcher.stats().count("rows_requested_v") == 2);
    CHECK(b.fetcher.stats().count("rows_resident_v") == 0);
    CHECK(b.fetcher.stats().count("rows_fetched_v") == 2);
}

TEST_CASE("module fetcher: rows of one burst land in the separate slots the SRAM assigned") {
    IpConfig cfg;
    cfg.sram.k_bytes = 4 * kRow;  // 4 slots
    Bench b("bench", cfg, round_memory());
    std::vector<Loaded> l;
    std::vector<std::vector<uint8_t>> back;
    uint64_t writes_after_first = 0;
    tlm::tlm_response_status released = tlm::TLM_INCOMPLETE_RESPONSE;
    b.ctl.body = [&](TestInitiator& ctl) {
        l.push_back(load_rows(ctl, Buffer::K, 0, kKBase, {0, 1, 2, 3}));
        writes_after_first = b.sram.stats().count("writes");
        // While the first chunk is pinned there is no room for a second one.
        l.push_back(load_rows(ctl, Buffer::K, 1, kKBase, {1, 3, 4, 5}));
        released = release_rows(ctl, Buffer::K, l[0].slots);
        // 1 and 3 are resident (and pinned by this load): 4 and 5 (one burst) go to slots 0 and 2.
        l.push_back(load_rows(ctl, Buffer::K, 1, kKBase, {1, 3, 4, 5}));
        for (uint32_t s = 0; s < 4; ++s) back.push_back(b.sram_row(Buffer::K, s));
    };
    sc_core::sc_start();

    REQUIRE(l.size() == 3);
    CHECK(l[0].status == tlm::TLM_OK_RESPONSE);
    CHECK(l[0].slots == Tokens{0, 1, 2, 3});
    CHECK(writes_after_first == 1);  // consecutive slots: one SRAM write for the burst
    CHECK(l[1].status == tlm::TLM_OK_RESPONSE);
    CHECK(l[1].no_room);
    CHECK(l[1].fetched == 0);
    CHECK(released == tlm::TLM_OK_RESPONSE);
    CHECK(l[2].status == tlm::TLM_OK_RESPONSE);
    CHECK(l[2].slots == Tokens{1, 3, 0, 2});
    CHECK(l[2].hits == 2);
    CHECK(l[2].fetched == 2);
    CHECK(accesses(*b.tap) ==
          std::vector<std::pair<uint64_t, unsigned>>{{kKBase, 256}, {kKBase + 4 * kRow, 128}});
    CHECK(b.sram.stats().count("writes") == 3);  // the second burst is split over slots 0 and 2
    REQUIRE(back.size() == 4);
    CHECK(back[0] == b.k_row(4));
    CHECK(back[1] == b.k_row(1));
    CHECK(back[2] == b.k_row(5));
    CHECK(back[3] == b.k_row(3));
}

TEST_CASE("module fetcher: 8 one-row requests with max_outstanding 16 overlap their latencies") {
    // The SRAM table lookup takes 1 cycle, so request k issues at 1 + k ns (issue_cycles 1),
    // reaches data at 51 + k but the bus serialises the 4 ns transfers: request k ends at
    // 55 + 4k. Its row is written to SRAM in 1 + 1 cycles: the last write ends at 83 + 2 = 85.
    const PipelineRun r = eight_single_rows(16);
    CHECK(r.l.status == tlm::TLM_OK_RESPONSE);
    CHECK(r.l.fetched == 8);
    CHECK(r.l.delay == ns(85));
    REQUIRE(r.arrive.size() == 8);
    for (std::size_t k = 0; k < 8; ++k) CHECK(r.arrive[k] == ns(1 + double(k)));
    CHECK(r.max_in_flight == 8);
    CHECK(r.reads == 8);
}

TEST_CASE("module fetcher: 8 one-row requests with max_outstanding 1 wait for each other") {
    // Request k issues when request k - 1 completes: issue 1 + 54k, done 55 + 54k; the last
    // completes at 433 and its SRAM write ends at 435.
    const PipelineRun r = eight_single_rows(1);
    CHECK(r.l.status == tlm::TLM_OK_RESPONSE);
    CHECK(r.l.delay == ns(435));
    REQUIRE(r.arrive.size() == 8);
    for (std::size_t k = 0; k < 8; ++k) CHECK(r.arrive[k] == ns(1 + 54 * double(k)));
    CHECK(r.max_in_flight == 1);
    CHECK(r.reads == 8);
}

TEST_CASE("module fetcher: issue_cycles spaces the requests of one command") {
    // issue_cycles 20: request k issues at 1 + 20k and finds the bus free: done 55 + 20k.
    const PipelineRun r = eight_single_rows(16, 20);
    CHECK(r.l.status == tlm::TLM_OK_RESPONSE);
    CHECK(r.l.delay == ns(55 + 140 + 2));
    REQUIRE(r.arrive.size() == 8);
    for (std::size_t k = 0; k < 8; ++k) CHECK(r.arrive[k] == ns(1 + 20 * double(k)));
    CHECK(r.max_in_flight == 3);  // each request is in flight for 54 ns
}

TEST_CASE("module fetcher: plain read and write are split into max_burst_bytes pieces") {
    IpConfig cfg;
    Bench b("bench", cfg, round_memory());
    const std::vector<uint8_t> src = byte_rows(1, 600, 7);
    b.memory.load(0x2000, src.data(), src.size());
    std::vector<uint8_t> rd(600, 0xEE), wr = byte_rows(1, 600, 77);
    std::vector<tlm::tlm_response_status> st;
    std::vector<sc_time> delays;
    b.ctl.body = [&](TestInitiator& ctl) {
        sc_time d = sc_core::SC_ZERO_TIME;
        st.push_back(ctl.read(0x2000, rd.data(), 600, d));
        delays.push_back(d);
        sc_core::wait(d);
        d = sc_core::SC_ZERO_TIME;
        st.push_back(ctl.write(0x3000, wr.data(), 600, d));
        delays.push_back(d);
    };
    sc_core::sc_start();

    REQUIRE(st.size() == 2);
    CHECK(st[0] == tlm::TLM_OK_RESPONSE);
    CHECK(st[1] == tlm::TLM_OK_RESPONSE);
    CHECK(rd == src);
    std::vector<uint8_t> in_mem(600);
    b.memory.dump(0x3000, in_mem.data(), 600);
    CHECK(in_mem == wr);
    CHECK(accesses(*b.tap) == std::vector<std::pair<uint64_t, unsigned>>{{0x2000, 256},
                                                                         {0x2100, 256},
                                                                         {0x2200, 88},
                                                                         {0x3000, 256},
                                                                         {0x3100, 256},
                                                                         {0x3200, 88}});
    // Read: issues at 0, 1, 2; data from 50; transfers of 16, 16 and 8 ns (88 B = 2 bursts).
    CHECK(delays[0] == ns(90));
    // Write at 90: issues at 90, 91, 92; data from 160; the same transfers end at 200.
    CHECK(delays[1] == ns(110));
    CHECK(b.fetcher.stats().count("mem_reads") == 3);
    CHECK(b.fetcher.stats().count("mem_writes") == 3);
    CHECK(b.fetcher.stats().count("mem_read_bytes") == 600);
    CHECK(b.fetcher.stats().count("mem_write_bytes") == 600);
    CHECK(b.memory.counters().write_transactions == 3);
    CHECK(b.fetcher.stats().real("busy_ns") == Approx(200.0));
    CHECK(b.sram.stats().count("writes") == 0);
}

TEST_CASE(
    "module fetcher: a memory error fails load rows with mem_status and plain accesses pass it "
    "through") {
    IpConfig cfg;
    Bench b("bench", cfg, round_memory());  // 1 MiB: addresses 0 .. 0xFFFFF
    const uint64_t end = Memory::kChunkBytes;
    std::vector<std::pair<std::string, Loaded>> l;
    std::vector<std::pair<std::string, tlm::tlm_response_status>> plain;
    b.ctl.body = [&](TestInitiator& ctl) {
        // Rows 0 and 1 are one burst; row 1 lies past the end of the memory.
        l.emplace_back("past the end", load_rows(ctl, Buffer::K, 0, end - kRow, {0, 1}));
        l.emplace_back("row_bytes 0",
                       load_rows(ctl, Buffer::K, 0, kKBase, {0}, sc_core::SC_ZERO_TIME, 0));
        l.emplace_back("no slots", load_rows(ctl, Buffer::K, 0, kKBase, {0}, sc_core::SC_ZERO_TIME,
                                             kRow, 0, false));
        // 3 rows of 4 KB do not fit the 8 KB K buffer: the SRAM refuses, memory is not asked.
        l.emplace_back("sram refuses", load_rows(ctl, Buffer::K, 0, kKBase, {0, 1, 2},
                                                 sc_core::SC_ZERO_TIME, 4096));
        std::vector<uint8_t> buf(512);
        sc_time d = sc_core::SC_ZERO_TIME;
        plain.emplace_back("read past the end", ctl.read(end, buf.data(), 4, d));
        plain.emplace_back("read crossing the end", ctl.read(end - 256, buf.data(), 512, d));
        plain.emplace_back("write past the end", ctl.write(end, buf.data(), 4, d));
        plain.emplace_back("streaming read",
                           ctl.transport(Request{tlm::TLM_READ_COMMAND, 0, buf.data(), 8, 4}, d));
        plain.emplace_back("ignore without extension", ctl.transport(Request{}, d));
    };
    sc_core::sc_start();

    REQUIRE(l.size() == 4);
    for (const auto& x : l) {
        INFO(x.first);
        CHECK(x.second.status == tlm::TLM_GENERIC_ERROR_RESPONSE);
    }
    CHECK(l[0].second.mem_status == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(l[1].second.mem_status == tlm::TLM_OK_RESPONSE);
    CHECK(l[2].second.mem_status == tlm::TLM_OK_RESPONSE);
    CHECK(l[3].second.mem_status == tlm::TLM_OK_RESPONSE);
    REQUIRE(plain.size() == 5);
    CHECK(plain[0].second == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(plain[1].second == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(plain[2].second == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(plain[3].second == tlm::TLM_BURST_ERROR_RESPONSE);
    CHECK(plain[4].second == tlm::TLM_COMMAND_ERROR_RESPONSE);
    // One burst of the load, the 4-byte read, the second piece of the crossing read, the write.
    CHECK(b.fetcher.stats().count("mem_errors") == 4);
    CHECK(b.memory.counters().error_responses == 4);
    CHECK(b.fetcher.stats().count("mem_reads") == 1);  // the first 256 B of the crossing read
    CHECK(b.tap->log.size() == 5);
}

// When a burst fails the SRAM has already allocated slots for its rows: they must not stay
// "resident" with no data, or a retry would skip them.
TEST_CASE("module fetcher: rows whose fetch failed are not left resident") {
    IpConfig cfg;
    Bench b("bench", cfg, round_memory());
    const uint64_t bad = Memory::kChunkBytes - kRow;  // row 1 lies past the end
    std::vector<Loaded> l;
    std::vector<std::vector<uint8_t>> back;
    b.ctl.body = [&](TestInitiator& ctl) {
        l.push_back(load_rows(ctl, Buffer::K, 0, bad, {0, 1}));
        l.push_back(load_rows(ctl, Buffer::K, 0, kKBase, {0, 1}));
        for (uint32_t s : l.back().slots) back.push_back(b.sram_row(Buffer::K, s));
    };
    sc_core::sc_start();

    REQUIRE(l.size() == 2);
    CHECK(l[0].status == tlm::TLM_GENERIC_ERROR_RESPONSE);
    CHECK(l[0].hits == 0);
    CHECK(l[1].status == tlm::TLM_OK_RESPONSE);
    CHECK(l[1].hits == 0);
    CHECK(l[1].fetched == 2);
    REQUIRE(back.size() == 2);
    CHECK(back[0] == b.k_row(0));
    CHECK(back[1] == b.k_row(1));
}

TEST_CASE("module fetcher: flush empties the K and V resident tables") {
    IpConfig cfg;
    Bench b("bench", cfg, round_memory());
    std::vector<Loaded> l;
    tlm::tlm_response_status fl = tlm::TLM_INCOMPLETE_RESPONSE;
    b.ctl.body = [&](TestInitiator& ctl) {
        l.push_back(load_rows(ctl, Buffer::K, 0, kKBase, {0, 1}));
        l.push_back(load_rows(ctl, Buffer::V, 0, kVBase, {0}));
        l.push_back(load_rows(ctl, Buffer::K, 1, kKBase, {0, 1}));
        fl = flush(ctl);
        l.push_back(load_rows(ctl, Buffer::K, 2, kKBase, {0, 1}));
        l.push_back(load_rows(ctl, Buffer::V, 2, kVBase, {0}));
    };
    sc_core::sc_start();

    CHECK(fl == tlm::TLM_OK_RESPONSE);
    REQUIRE(l.size() == 5);
    const uint32_t want_fetched[5] = {2, 1, 0, 2, 1};
    for (std::size_t i = 0; i < 5; ++i) {
        CHECK(l[i].status == tlm::TLM_OK_RESPONSE);
        CHECK(l[i].fetched == want_fetched[i]);
    }
    CHECK(b.sram.stats().count("flushes") == 2);
    CHECK(b.tap->log.size() == 4);
}

TEST_CASE("module fetcher: with use_dmi rows move through DMI into identical SRAM contents") {
    IpConfig dmi_cfg, plain_cfg;
    dmi_cfg.fetcher.use_dmi = true;
    Bench dmi("dmi", dmi_cfg, round_memory(), true);  // fetcher bound directly to the memory
    Bench plain("plain", plain_cfg, round_memory());
    const Tokens tokens = {0, 2, 4};
    std::vector<Loaded> l;
    std::vector<std::vector<uint8_t>> back_dmi, back_plain;
    std::vector<uint8_t> wr = byte_rows(1, 64, 200), rd(64, 0);
    std::vector<sc_time> delays;
    uint64_t dmi_before_invalidate = 0;
    dmi.ctl.body = [&](TestInitiator& ctl) {
        l.push_back(load_rows(ctl, Buffer::K, 0, kKBase, tokens));
        l.push_back(load_rows(plain.ctl, Buffer::K, 0, kKBase, tokens));
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            back_dmi.push_back(dmi.sram_row(Buffer::K, l[0].slots[i]));
            back_plain.push_back(plain.sram_row(Buffer::K, l[1].slots[i]));
        }
        sc_core::wait(l[0].delay);
        // A plain write through the DMI pointer: done after the DMI write latency 70 + 4 ns.
        sc_time d = sc_core::SC_ZERO_TIME;
        ctl.write(0x3000, wr.data(), 64, d);
        delays.push_back(d);
        sc_core::wait(d);
        dmi_before_invalidate = dmi.fetcher.stats().count("dmi_accesses");
        // Revoked pointers: the next read goes through b_transport again.
        dmi.memory.invalidate_all_dmi();
        d = sc_core::SC_ZERO_TIME;
        ctl.read(0x3000, rd.data(), 64, d);
        delays.push_back(d);
    };
    sc_core::sc_start();

    REQUIRE(l.size() == 2);
    CHECK(l[0].status == tlm::TLM_OK_RESPONSE);
    CHECK(l[0].fetched == 3);
    // Row 0 through b_transport (done 55, SRAM 55..57) grants DMI; rows 2 and 4 issue at 2 and
    // 3 ns and complete after the DMI read latency 50 + 4 ns (56, 57), SRAM writes end at 61.
    CHECK(l[0].delay == ns(61));
    CHECK(l[0].slots == l[1].slots);
    CHECK(back_dmi == back_plain);
    for (std::size_t i = 0; i < tokens.size(); ++i) CHECK(back_dmi[i] == dmi.k_row(tokens[i]));
    CHECK(dmi_before_invalidate == 3);  // two rows and the write
    CHECK(dmi.fetcher.stats().count("dmi_accesses") == 3);
    CHECK(plain.fetcher.stats().count("dmi_accesses") == 0);
    REQUIRE(delays.size() == 2);
    CHECK(delays[0] == ns(74));
    // b_transport at 135 ns: data from 185, 4 ns transfer.
    CHECK(delays[1] == ns(54));
    std::vector<uint8_t> in_mem(64);
    dmi.memory.dump(0x3000, in_mem.data(), 64);
    CHECK(in_mem == wr);
    CHECK(rd == wr);
    CHECK(dmi.memory.counters().read_transactions == 2);
    CHECK(dmi.memory.counters().write_transactions == 0);
    CHECK(dmi.memory.counters().dmi_grants == 2);
    CHECK(plain.memory.counters().read_transactions == 3);
}

// Plain accesses support no byte enables: the base protocol's answer is
// TLM_BYTE_ENABLE_ERROR_RESPONSE.
TEST_CASE("module fetcher: byte enables on a plain access get a byte-enable error") {
    IpConfig cfg;
    Bench b("bench", cfg, round_memory());
    tlm::tlm_response_status st = tlm::TLM_INCOMPLETE_RESPONSE;
    b.ctl.body = [&](TestInitiator& ctl) {
        std::vector<uint8_t> buf(8, 0);
        const uint8_t be[8] = {0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0};
        sc_time d = sc_core::SC_ZERO_TIME;
        st = ctl.transport(Request{tlm::TLM_READ_COMMAND, kKBase, buf.data(), 8, 0, be, 8}, d);
    };
    sc_core::sc_start();
    CHECK(st == tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    CHECK(b.tap->log.empty());
}

// One row larger than max_burst_bytes is split like a plain access.
TEST_CASE(
    "module fetcher: a row larger than max_burst_bytes is fetched in max_burst_bytes pieces") {
    IpConfig cfg;
    cfg.fetcher.max_burst_bytes = 32;
    Bench b("bench", cfg, round_memory());
    Loaded l{};
    std::vector<uint8_t> back;
    b.ctl.body = [&](TestInitiator& ctl) {
        l = load_rows(ctl, Buffer::K, 0, kKBase, {5});
        back = b.sram_row(Buffer::K, l.slots[0]);
    };
    sc_core::sc_start();
    CHECK(l.status == tlm::TLM_OK_RESPONSE);
    CHECK(back == b.k_row(5));
    CHECK(accesses(*b.tap) == std::vector<std::pair<uint64_t, unsigned>>{
                                  {kKBase + 5 * kRow, 32}, {kKBase + 5 * kRow + 32, 32}});
}

namespace {

// The same commands on a batched and a per-request fetcher side by side (one thread, the same
// times): loads with holes, adjacent runs, re-use and a full burst, a plain write and read, with
// two requests in flight at most. What each returned and what each bench counted.
struct PathRun {
    std::vector<Loaded> loads;
    std::vector<std::vector<uint8_t>> rows;
    std::vector<sc_time> plain;  // the plain write's and read's delays
    uint64_t mem_reads, mem_read_bytes, mem_busy_ps, sram_writes, dmi_accesses, tap_log;
};

std::pair<PathRun, PathRun> both_paths(bool tap, bool pass_timing, sc_time hop_latency) {
    IpConfig batched, per_request;
    batched.fetcher.max_outstanding = per_request.fetcher.max_outstanding = 2;
    per_request.fetcher.lt_path = LtPath::PerRequest;
    Bench a("batched", batched, round_memory(), !tap),
        b("per_request", per_request, round_memory(), !tap);
    for (Bench* x : {&a, &b})
        if (x->tap) {
            x->tap->pass_timing = pass_timing;
            x->tap->latency = hop_latency;
        }
    std::pair<PathRun, PathRun> r;
    const std::vector<std::pair<Buffer, Tokens>> cmds = {{Buffer::K, {0, 1, 2, 3}},
                                                         {Buffer::K, {0, 1, 2, 3, 4, 5, 8, 9}},
                                                         {Buffer::K, {1, 10, 11, 12, 13, 14, 20}},
                                                         {Buffer::V, {3, 4, 7}}};
    std::vector<uint8_t> wr = byte_rows(1, 300, 9);
    a.ctl.body = [&](TestInitiator&) {
        for (auto [x, run] : {std::pair{&a, &r.first}, std::pair{&b, &r.second}}) {
            uint32_t q = 0;
            for (const auto& [buf, tokens] : cmds) {
                run->loads.push_back(
                    load_rows(x->ctl, buf, q++, buf == Buffer::K ? kKBase : kVBase, tokens));
                for (uint32_t s : run->loads.back().slots) run->rows.push_back(x->sram_row(buf, s));
            }
            std::vector<uint8_t> rd(300);
            sc_time d = ns(7);
            x->ctl.write(0x3000, wr.data(), 300, d);
            run->plain.push_back(d);
            d = ns(3);
            x->ctl.read(0x3000, rd.data(), 300, d);
            run->plain.push_back(d);
            CHECK(rd == wr);
        }
    };
    sc_core::sc_start();
    for (auto [x, run] : {std::pair{&a, &r.first}, std::pair{&b, &r.second}}) {
        run->mem_reads = x->memory.counters().read_transactions;
        run->mem_read_bytes = x->memory.counters().read_bytes;
        run->mem_busy_ps = x->memory.counters().busy_ps;
        run->sram_writes = x->sram.stats().count("writes");
        run->dmi_accesses = x->fetcher.stats().count("dmi_accesses");
        run->tap_log = x->tap ? x->tap->log.size() : 0;
    }
    return r;
}

void check_same_results(const PathRun& a, const PathRun& b) {
    REQUIRE(a.loads.size() == b.loads.size());
    for (std::size_t i = 0; i < a.loads.size(); ++i) {
        INFO("load " << i);
        CHECK(a.loads[i].status == tlm::TLM_OK_RESPONSE);
        CHECK(a.loads[i].slots == b.loads[i].slots);
        CHECK(a.loads[i].hits == b.loads[i].hits);
        CHECK(a.loads[i].fetched == b.loads[i].fetched);
        CHECK(a.loads[i].delay == b.loads[i].delay);
    }
    CHECK(a.rows == b.rows);
    CHECK(a.plain == b.plain);
    CHECK(a.mem_reads == b.mem_reads);
    CHECK(a.mem_read_bytes == b.mem_read_bytes);
    CHECK(a.mem_busy_ps == b.mem_busy_ps);
    CHECK(a.sram_writes == b.sram_writes);
}

}  // namespace

TEST_CASE(
    "module fetcher: the batched LT path gives the per-request path's times, rows and counts "
    "through timed DMI") {
    const auto [batched, per_request] = both_paths(false, false, sc_core::SC_ZERO_TIME);
    check_same_results(batched, per_request);
    // 8 reads of the loads and 2 + 2 pieces of the plain write and read: the first access of the
    // memory's DMI region is a transaction that checks the model, every later one is booked.
    CHECK(per_request.dmi_accesses == 0);
    CHECK(batched.dmi_accesses == per_request.mem_reads + 2 - 1);
    CHECK(batched.mem_reads == 10);
    CHECK(per_request.loads[1].delay > ns(50));  // the times compared are real ones
}

TEST_CASE("module fetcher: behind a tracing hop every request stays a transaction on both paths") {
    const auto [batched, per_request] = both_paths(true, false, sc_core::SC_ZERO_TIME);
    check_same_results(batched, per_request);
    CHECK(batched.dmi_accesses == 0);
    CHECK(batched.tap_log == per_request.tap_log);
    CHECK(batched.tap_log == 8 + 2 + 2);
}

TEST_CASE(
    "module fetcher: a hop that does not know timed DMI and adds latency fails the check: no "
    "access is booked") {
    const auto [batched, per_request] = both_paths(true, true, ns(5));
    check_same_results(batched, per_request);
    CHECK(batched.dmi_accesses == 0);
    CHECK(batched.tap_log == per_request.tap_log);
    CHECK(per_request.loads[0].delay > ns(55));  // the hop's latency is in every time
}

TEST_CASE("module fetcher: a hop that does not know timed DMI but adds nothing passes the check") {
    const auto [batched, per_request] = both_paths(true, true, sc_core::SC_ZERO_TIME);
    check_same_results(batched, per_request);
    CHECK(batched.tap_log == 1);  // the checking transaction
    CHECK(batched.dmi_accesses == per_request.tap_log - 1);
}

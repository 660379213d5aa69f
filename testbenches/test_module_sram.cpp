// SramBuffer on its own: one test initiator plays the fetcher (from_fetcher: row writes and
// ResidencyCommands), another the datapath (from_datapath: row reads). Small buffers (64 B of K
// = 4 slots of 16 B) make the replacement decisions easy to follow by hand; port timing is
// access_cycles + ceil(len / bytes_per_cycle) cycles per access, one access at a time per port.
#include <catch2/catch.hpp>

#include <limits>
#include <string>
#include <vector>

#include "module_fixtures.h"
#include "modules/sram_buffer.h"

using namespace sprint;
using namespace sprint::modtest;
using proto::Buffer;
using sc_core::sc_time;

namespace {

struct Bench {
    TraceScheduler tracer{"tracer"};
    SramBuffer sram;
    TestInitiator fetcher{"fetcher"};
    TestInitiator datapath{"datapath"};
    TestInitiator controller{"controller"};
    explicit Bench(const IpConfig& c) : sram("sram", c, tracer) {
        controller.socket.bind(sram.from_controller.socket);
        fetcher.socket.bind(sram.from_fetcher.socket);
        datapath.socket.bind(sram.from_datapath.socket);
    }
};

struct Acquired {
    tlm::tlm_response_status status;
    std::vector<uint32_t> slots;
    std::vector<uint8_t> hits;
    uint32_t evictions;
    bool no_room;
    sc_time delay;
};

Acquired acquire(TestInitiator& f, Buffer b, uint32_t head, uint32_t row_bytes,
                 const std::vector<uint32_t>& tokens, sc_time delay = sc_core::SC_ZERO_TIME) {
    Acquired r;
    r.slots.assign(tokens.size(), ~0u);
    r.hits.assign(tokens.size(), 0xEE);
    proto::ResidencyCommand c;
    c.op = proto::ResidencyOp::Acquire;
    c.buffer = b;
    c.head = head;
    c.row_bytes = row_bytes;
    c.tokens = tokens.data();
    c.count = uint32_t(tokens.size());
    c.slots_out = r.slots.data();
    c.hit_out = r.hits.data();
    r.status = f.command(c, delay);
    r.evictions = c.evictions_out;
    r.no_room = c.no_room_out;
    r.delay = delay;
    return r;
}

tlm::tlm_response_status release(TestInitiator& f, Buffer b, const std::vector<uint32_t>& slots) {
    std::vector<uint32_t> copy = slots;
    proto::ResidencyCommand c;
    c.op = proto::ResidencyOp::Release;
    c.buffer = b;
    c.slots = copy.data();
    c.count = uint32_t(copy.size());
    sc_time d = sc_core::SC_ZERO_TIME;
    return f.command(c, d);
}

// Acquire and release at once: the rows are in use for this command only (as a chunk the
// datapath consumed before the next one is fetched).
Acquired use(TestInitiator& f, Buffer b, uint32_t head, uint32_t row_bytes,
             const std::vector<uint32_t>& tokens) {
    Acquired a = acquire(f, b, head, row_bytes, tokens);
    if (a.status == tlm::TLM_OK_RESPONSE && !a.no_room) release(f, b, a.slots);
    return a;
}

tlm::tlm_response_status flush(TestInitiator& f, Buffer b) {
    proto::ResidencyCommand c;
    c.op = proto::ResidencyOp::Flush;
    c.buffer = b;
    sc_time d = sc_core::SC_ZERO_TIME;
    return f.command(c, d);
}

// 4 K slots and 4 V slots of 16 B.
IpConfig tiny(Replacement replacement) {
    IpConfig c;
    c.sram.k_bytes = 64;
    c.sram.v_bytes = 64;
    c.sram.replacement = replacement;
    return c;
}

using U32s = std::vector<uint32_t>;
using U8s = std::vector<uint8_t>;

}  // namespace

TEST_CASE("module sram: acquire reports hits and slots and LRU evicts the least recently used") {
    IpConfig cfg = tiny(Replacement::Lru);
    Bench b(cfg);
    std::vector<Acquired> a;
    b.fetcher.body = [&](TestInitiator& f) {
        a.push_back(use(f, Buffer::K, 0, 16, {0, 1, 2}));
        a.push_back(use(f, Buffer::K, 0, 16, {0, 3}));  // 0 used again
        a.push_back(use(f, Buffer::K, 0, 16, {4}));     // evicts 1, the least recently used
        a.push_back(use(f, Buffer::K, 0, 16, {1}));     // 1 again: evicts 2
        a.push_back(use(f, Buffer::K, 0, 16, {4, 0}));  // both resident
        a.push_back(use(f, Buffer::K, 0, 16, {2}));     // evicts 3 (untouched since it came)
        a.push_back(use(f, Buffer::V, 0, 16, {0}));     // the V table is separate
    };
    sc_core::sc_start();

    REQUIRE(a.size() == 7);
    for (const auto& x : a) CHECK(x.status == tlm::TLM_OK_RESPONSE);
    CHECK(a[0].slots == U32s{0, 1, 2});
    CHECK(a[0].hits == U8s{0, 0, 0});
    CHECK(a[0].evictions == 0);
    CHECK(a[1].slots == U32s{0, 3});
    CHECK(a[1].hits == U8s{1, 0});
    CHECK(a[2].slots == U32s{1});
    CHECK(a[2].hits == U8s{0});
    CHECK(a[2].evictions == 1);
    CHECK(a[3].slots == U32s{2});
    CHECK(a[3].hits == U8s{0});
    CHECK(a[3].evictions == 1);
    CHECK(a[4].slots == U32s{1, 0});
    CHECK(a[4].hits == U8s{1, 1});
    CHECK(a[4].evictions == 0);
    CHECK(a[5].slots == U32s{3});
    CHECK(a[5].evictions == 1);
    CHECK(a[6].slots == U32s{0});
    CHECK(a[6].hits == U8s{0});
    CHECK(b.sram.stats().count("acquires") == 7);
    CHECK(b.sram.stats().count("hits") == 3);
    CHECK(b.sram.stats().count("misses") == 8);
    CHECK(b.sram.stats().count("evictions") == 3);
    CHECK(b.sram.stats().count("peak_rows_k") == 4);
    CHECK(b.sram.stats().count("peak_rows_v") == 1);
}

TEST_CASE("module sram: FIFO evicts the oldest inserted row even when it was just hit") {
    IpConfig cfg = tiny(Replacement::Fifo);
    Bench b(cfg);
    std::vector<Acquired> a;
    b.fetcher.body = [&](TestInitiator& f) {
        a.push_back(use(f, Buffer::K, 0, 16, {0, 1, 2}));
        a.push_back(use(f, Buffer::K, 0, 16, {0, 3}));  // a hit does not refresh 0
        a.push_back(use(f, Buffer::K, 0, 16, {4}));     // evicts 0, the oldest
        a.push_back(use(f, Buffer::K, 0, 16, {1}));     // still resident
        a.push_back(use(f, Buffer::K, 0, 16, {4, 0}));  // 0 evicts 1
        a.push_back(use(f, Buffer::K, 0, 16, {2}));     // still resident
    };
    sc_core::sc_start();

    REQUIRE(a.size() == 6);
    for (const auto& x : a) CHECK(x.status == tlm::TLM_OK_RESPONSE);
    CHECK(a[1].slots == U32s{0, 3});
    CHECK(a[1].hits == U8s{1, 0});
    CHECK(a[2].slots == U32s{0});
    CHECK(a[2].evictions == 1);
    CHECK(a[3].slots == U32s{1});
    CHECK(a[3].hits == U8s{1});
    CHECK(a[4].slots == U32s{0, 1});
    CHECK(a[4].hits == U8s{1, 0});
    CHECK(a[4].evictions == 1);
    CHECK(a[5].slots == U32s{2});
    CHECK(a[5].hits == U8s{1});
    CHECK(b.sram.stats().count("hits") == 4);
    CHECK(b.sram.stats().count("misses") == 6);
    CHECK(b.sram.stats().count("evictions") == 2);
}

TEST_CASE("module sram: pinned rows stay until released - all or nothing when the buffer is full") {
    IpConfig cfg = tiny(Replacement::Fifo);
    Bench b(cfg);
    std::vector<Acquired> a;
    std::vector<tlm::tlm_response_status> rel;
    b.fetcher.body = [&](TestInitiator& f) {
        a.push_back(acquire(f, Buffer::K, 0, 16, {0, 1}));  // pinned: slots 0 1
        a.push_back(acquire(f, Buffer::K, 0, 16, {1, 2}));  // 1 hit (pinned twice), 2 in slot 2
        a.push_back(acquire(f, Buffer::K, 0, 16, {3, 4}));  // 3 fits, 4 does not: nothing changes
        rel.push_back(release(f, Buffer::K, a[0].slots));   // 0 unpinned, 1 still held by a[1]
        a.push_back(acquire(f, Buffer::K, 0, 16, {3, 4}));  // slots 3 and 0 (0 is unpinned now)
        rel.push_back(release(f, Buffer::K, {3}));          // release must match a pin
        rel.push_back(release(f, Buffer::K, {0, 0}));       // more releases than pins: error
        rel.push_back(release(f, Buffer::K, a[1].slots));
        rel.push_back(release(f, Buffer::K, a[3].slots));
        rel.push_back(release(f, Buffer::K, {99}));               // no such slot
        rel.push_back(release(f, Buffer::K, {0}));                // the last pin (from a[3])
        a.push_back(acquire(f, Buffer::K, 0, 16, {5, 6, 7, 8}));  // everything unpinned: fits
    };
    sc_core::sc_start();

    REQUIRE(a.size() == 5);
    REQUIRE(rel.size() == 7);
    for (const auto& x : a) CHECK(x.status == tlm::TLM_OK_RESPONSE);
    CHECK(a[0].slots == U32s{0, 1});
    CHECK(a[1].slots == U32s{1, 2});
    CHECK(a[1].hits == U8s{1, 0});
    CHECK(a[2].no_room);
    CHECK(a[2].slots == U32s{~0u, ~0u});
    CHECK(!a[3].no_room);
    CHECK(a[3].slots == U32s{3, 0});
    CHECK(a[3].evictions == 1);
    CHECK(rel[0] == tlm::TLM_OK_RESPONSE);
    CHECK(rel[1] == tlm::TLM_OK_RESPONSE);
    CHECK(rel[2] == tlm::TLM_GENERIC_ERROR_RESPONSE);  // slot 0 had one pin; nothing changed
    CHECK(rel[3] == tlm::TLM_OK_RESPONSE);
    CHECK(rel[4] == tlm::TLM_GENERIC_ERROR_RESPONSE);  // slot 3 was already released by rel[1]
    CHECK(rel[5] == tlm::TLM_GENERIC_ERROR_RESPONSE);
    CHECK(rel[6] == tlm::TLM_OK_RESPONSE);
    CHECK(!a[4].no_room);
    CHECK(b.sram.stats().count("no_room") == 1);
}

TEST_CASE(
    "module sram: rows are per head - a new row size reshapes - count above slots is an error") {
    IpConfig cfg = tiny(Replacement::Lru);
    Bench b(cfg);
    std::vector<std::pair<std::string, Acquired>> a;
    std::vector<tlm::tlm_response_status> fl;
    b.fetcher.body = [&](TestInitiator& f) {
        a.emplace_back("V head 0", use(f, Buffer::V, 0, 16, {5}));
        a.emplace_back("K head 0", use(f, Buffer::K, 0, 16, {5, 6}));
        a.emplace_back("K head 1", use(f, Buffer::K, 1, 16, {5}));
        a.emplace_back("K head 0 again", use(f, Buffer::K, 0, 16, {6}));
        a.emplace_back("K 32 B rows", use(f, Buffer::K, 1, 32, {5, 7}));
        a.emplace_back("K 3 rows in 2 slots", use(f, Buffer::K, 1, 32, {1, 2, 3}));
        a.emplace_back("K unchanged", use(f, Buffer::K, 1, 32, {5}));
        fl.push_back(flush(f, Buffer::K));
        a.emplace_back("K after flush", use(f, Buffer::K, 1, 32, {5}));
        a.emplace_back("V kept", use(f, Buffer::V, 0, 16, {5}));
        a.emplace_back("row_bytes 0", use(f, Buffer::K, 1, 0, {5}));
        a.emplace_back("row larger than buffer", use(f, Buffer::K, 1, 65, {5}));
    };
    sc_core::sc_start();

    REQUIRE(a.size() == 11);
    REQUIRE(fl.size() == 1);
    auto check = [&](std::size_t i, tlm::tlm_response_status st, U32s slots, U8s hits) {
        INFO(a[i].first);
        CHECK(a[i].second.status == st);
        if (st == tlm::TLM_OK_RESPONSE) {
            CHECK(a[i].second.slots == slots);
            CHECK(a[i].second.hits == hits);
        }
    };
    check(0, tlm::TLM_OK_RESPONSE, {0}, {0});
    check(1, tlm::TLM_OK_RESPONSE, {0, 1}, {0, 0});
    check(2, tlm::TLM_OK_RESPONSE, {2}, {0});        // another head's row 5 is not this head's
    check(3, tlm::TLM_OK_RESPONSE, {1}, {1});        // head 0's rows are still there
    check(4, tlm::TLM_OK_RESPONSE, {0, 1}, {0, 0});  // another row size: nothing is resident
    check(5, tlm::TLM_GENERIC_ERROR_RESPONSE, {}, {});
    check(6, tlm::TLM_OK_RESPONSE, {0}, {1});  // the failed acquire changed nothing
    CHECK(fl[0] == tlm::TLM_OK_RESPONSE);
    check(7, tlm::TLM_OK_RESPONSE, {0}, {0});
    check(8, tlm::TLM_OK_RESPONSE, {0}, {1});
    check(9, tlm::TLM_GENERIC_ERROR_RESPONSE, {}, {});
    check(10, tlm::TLM_GENERIC_ERROR_RESPONSE, {}, {});
    CHECK(b.sram.stats().count("flushes") == 1);
    CHECK(b.sram.stats().count("acquires") == 8);
}

TEST_CASE("module sram: rows written on the fetcher port read back on the datapath port") {
    IpConfig cfg;
    Bench b(cfg);
    const auto rows = byte_rows(3, 16, 9);
    std::vector<tlm::tlm_response_status> st;
    std::vector<U8s> back;
    const uint64_t k2 = proto::sram_address(Buffer::K, 2, 16);
    const uint64_t v1 = proto::sram_address(Buffer::V, 1, 16);
    const uint64_t k_last = proto::sram_address(Buffer::K, 8192 / 16 - 1, 16);
    b.fetcher.body = [&](TestInitiator& f) {
        sc_time d = sc_core::SC_ZERO_TIME;
        st.push_back(f.write(k2, rows.data(), 16, d));
        st.push_back(f.write(v1, rows.data() + 16, 16, d));
        st.push_back(f.write(k_last, rows.data() + 32, 16, d));
        for (uint64_t addr : {k2, v1, k_last, uint64_t(0)}) {
            back.emplace_back(addr == 0 ? 64 : 16, 0xEE);
            st.push_back(
                b.datapath.read(addr, back.back().data(), unsigned(back.back().size()), d));
        }
    };
    sc_core::sc_start();

    CHECK(k2 == 32);
    CHECK(v1 == 0x100010);
    REQUIRE(st.size() == 7);
    for (auto s : st) CHECK(s == tlm::TLM_OK_RESPONSE);
    REQUIRE(back.size() == 4);
    CHECK(back[0] == U8s(rows.begin(), rows.begin() + 16));
    CHECK(back[1] == U8s(rows.begin() + 16, rows.begin() + 32));
    CHECK(back[2] == U8s(rows.begin() + 32, rows.end()));
    // Slots 0 and 1 were never written; slot 2 holds the row; slot 3 is empty too.
    U8s want(64, 0);
    std::copy(rows.begin(), rows.begin() + 16, want.begin() + 32);
    CHECK(back[3] == want);
    CHECK(b.sram.stats().count("writes") == 3);
    CHECK(b.sram.stats().count("write_bytes") == 48);
    CHECK(b.sram.stats().count("reads") == 4);
    CHECK(b.sram.stats().count("read_bytes") == 16 * 3 + 64);
}

TEST_CASE("module sram: a RowGather read streams scattered rows as one pipelined access") {
    IpConfig cfg;
    cfg.sram.bytes_per_cycle = 16;
    cfg.sram.access_cycles = 3;
    Bench b(cfg);
    const auto rows = byte_rows(3, 16, 21);
    std::vector<tlm::tlm_response_status> st;
    U8s back(48, 0xEE), bad(32, 0xEE);
    sc_time took;
    b.fetcher.body = [&](TestInitiator& f) {
        sc_time d = sc_core::SC_ZERO_TIME;
        for (uint32_t i = 0; i < 3; ++i)
            st.push_back(f.write(proto::sram_address(Buffer::V, 10 * i + 5, 16),
                                 rows.data() + 16 * i, 16, d));
        d = sc_core::SC_ZERO_TIME;
        const std::vector<uint32_t> slots = {25, 5, 15};  // any order, any spacing
        proto::RowGather g;
        g.slots = slots.data();
        g.count = 3;
        g.row_bytes = 16;
        const uint64_t vbase = proto::sram_address(Buffer::V, 0, 16);
        st.push_back(
            b.datapath.transport(Request{tlm::TLM_READ_COMMAND, vbase, back.data(), 48}, d, &g));
        took = d;
        // a slot past the buffer, or a length that is not count x row_bytes: address errors
        const std::vector<uint32_t> outside = {5, 8192 / 16};
        g.slots = outside.data();
        g.count = 2;
        sc_time z = sc_core::SC_ZERO_TIME;
        st.push_back(
            b.datapath.transport(Request{tlm::TLM_READ_COMMAND, vbase, bad.data(), 32}, z, &g));
        g.slots = slots.data();
        st.push_back(
            b.datapath.transport(Request{tlm::TLM_READ_COMMAND, vbase, bad.data(), 16}, z, &g));
    };
    sc_core::sc_start();

    REQUIRE(st.size() == 6);
    for (int i = 0; i < 4; ++i) CHECK(st[std::size_t(i)] == tlm::TLM_OK_RESPONSE);
    CHECK(st[4] == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(st[5] == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    U8s want(rows.begin() + 32, rows.end());
    want.insert(want.end(), rows.begin(), rows.begin() + 32);
    CHECK(back == want);
    // access latency once, then 48 B at 16 B/cycle: 3 + 3 = 6 cycles (three row reads: 12)
    CHECK(took == ns(6));
    CHECK(bad == U8s(32, 0xEE));
    CHECK(b.sram.stats().count("reads") == 1);
    CHECK(b.sram.stats().count("read_bytes") == 48);
}

TEST_CASE(
    "module sram: a RowScatter write puts runs of rows in their slots, each run a port "
    "access at its own time, and a bad run writes nothing") {
    IpConfig cfg;
    cfg.sram.bytes_per_cycle = 16;
    cfg.sram.access_cycles = 3;
    Bench b(cfg);
    const auto rows = byte_rows(3, 16, 33), other = byte_rows(3, 16, 77);
    std::vector<tlm::tlm_response_status> st;
    std::vector<sc_time> ends;
    sc_time took;
    U8s back(48, 0xEE);
    const uint8_t be[1] = {TLM_BYTE_ENABLED};
    b.fetcher.body = [&](TestInitiator& f) {
        const uint64_t kbase = proto::sram_address(Buffer::K, 0, 16);
        std::vector<proto::RowScatter::Run> runs = {{5, 2, ns(10)}, {20, 1, ns(4)}};
        proto::RowScatter sc;
        sc.runs = runs.data();
        sc.run_count = 2;
        sc.row_bytes = 16;
        sc_time d = sc_core::SC_ZERO_TIME;
        U8s data(rows.begin(), rows.end());
        st.push_back(f.transport(Request{tlm::TLM_WRITE_COMMAND, kbase, data.data(), 48}, d, &sc));
        took = d;
        for (const auto& r : runs) ends.push_back(r.at);
        // The second run past the buffer: refused, and the first run not written either.
        std::vector<proto::RowScatter::Run> bad = {{5, 2, ns(0)}, {8192 / 16 - 1, 2, ns(0)}};
        sc.runs = bad.data();
        U8s data2(64, 0x5A);
        sc_time z = sc_core::SC_ZERO_TIME;
        st.push_back(f.transport(Request{tlm::TLM_WRITE_COMMAND, kbase, data2.data(), 64}, z, &sc));
        // Byte enables: refused.
        sc.runs = runs.data();
        U8s data3(other.begin(), other.end());
        st.push_back(f.transport(
            Request{tlm::TLM_WRITE_COMMAND, kbase, data3.data(), 48, 48, be, 1}, z, &sc));
        const std::vector<uint32_t> slots = {5, 6, 20};
        proto::RowGather g;
        g.slots = slots.data();
        g.count = 3;
        g.row_bytes = 16;
        st.push_back(
            b.datapath.transport(Request{tlm::TLM_READ_COMMAND, kbase, back.data(), 48}, z, &g));
    };
    sc_core::sc_start();

    REQUIRE(st.size() == 4);
    CHECK(st[0] == tlm::TLM_OK_RESPONSE);
    CHECK(st[1] == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(st[2] == tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    CHECK(st[3] == tlm::TLM_OK_RESPONSE);
    CHECK(back == U8s(rows.begin(), rows.end()));  // the first scatter's rows, nothing after
    // The port in the runs' order: 10 + 3 + 2 = 15, then the run that came at 4 waits: 15 + 4.
    REQUIRE(ends.size() == 2);
    CHECK(ends[0] == ns(15));
    CHECK(ends[1] == ns(19));
    CHECK(took == ns(19));
    CHECK(b.sram.stats().count("writes") == 2);  // a port access per run
    CHECK(b.sram.stats().count("write_bytes") == 48);
}

TEST_CASE("module sram: bad accesses get address - burst - byte-enable and command errors") {
    IpConfig cfg;
    Bench b(cfg);
    std::vector<std::pair<std::string, tlm::tlm_response_status>> st;
    std::vector<sc_time> delays;
    U8s after(16, 0xEE);
    tlm::tlm_response_status after_st = tlm::TLM_INCOMPLETE_RESPONSE;
    b.fetcher.body = [&](TestInitiator& f) {
        U8s buf(16, 0x5A);
        const uint8_t be[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        auto run = [&](const std::string& what, TestInitiator& who, Request r) {
            sc_time d = ns(4);
            st.emplace_back(what, who.transport(r, d));
            delays.push_back(d);
        };
        using tlm::TLM_IGNORE_COMMAND;
        using tlm::TLM_READ_COMMAND;
        using tlm::TLM_WRITE_COMMAND;
        TestInitiator& dp = b.datapath;
        run("read past the K end", dp, {TLM_READ_COMMAND, 8192 - 8, buf.data(), 16});
        run("read between K and V", dp, {TLM_READ_COMMAND, 0x80000, buf.data(), 16});
        run("write past the V end", f, {TLM_WRITE_COMMAND, 0x100000 + 8192, buf.data(), 4});
        run("read streaming", dp, {TLM_READ_COMMAND, 0, buf.data(), 16, 8});
        run("write streaming", f, {TLM_WRITE_COMMAND, 0, buf.data(), 16, 4});
        run("read byte enables", dp, {TLM_READ_COMMAND, 0, buf.data(), 16, 0, be, 16});
        run("write byte enables", f, {TLM_WRITE_COMMAND, 0, buf.data(), 16, 0, be, 16});
        run("write on the datapath port", dp, {TLM_WRITE_COMMAND, 0, buf.data(), 16});
        run("ignore on the datapath port", dp, {TLM_IGNORE_COMMAND, 0, nullptr, 0});
        run("read on the fetcher port", f, {TLM_READ_COMMAND, 0, buf.data(), 16});
        run("ignore without extension", f, {TLM_IGNORE_COMMAND, 0, nullptr, 0});
        // Nothing above wrote anything.
        sc_time d = sc_core::SC_ZERO_TIME;
        after_st = dp.read(0, after.data(), 16, d);
    };
    sc_core::sc_start();

    using namespace tlm;
    const std::vector<tlm_response_status> want = {
        TLM_ADDRESS_ERROR_RESPONSE,     TLM_ADDRESS_ERROR_RESPONSE, TLM_ADDRESS_ERROR_RESPONSE,
        TLM_BURST_ERROR_RESPONSE,       TLM_BURST_ERROR_RESPONSE,   TLM_BYTE_ENABLE_ERROR_RESPONSE,
        TLM_BYTE_ENABLE_ERROR_RESPONSE, TLM_COMMAND_ERROR_RESPONSE, TLM_COMMAND_ERROR_RESPONSE,
        TLM_COMMAND_ERROR_RESPONSE,     TLM_COMMAND_ERROR_RESPONSE};
    REQUIRE(st.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO(st[i].first);
        CHECK(st[i].second == want[i]);
        CHECK(delays[i] == ns(4));
    }
    CHECK(after_st == TLM_OK_RESPONSE);
    CHECK(after == U8s(16, 0));
    CHECK(b.sram.stats().count("writes") == 0);
    CHECK(b.sram.stats().count("reads") == 1);
}

// The range check must not wrap for an address near 2^64.
TEST_CASE("module sram: an address that wraps around 2^64 is an address error") {
    IpConfig cfg;
    Bench b(cfg);
    tlm::tlm_response_status st = tlm::TLM_INCOMPLETE_RESPONSE;
    b.fetcher.body = [&](TestInitiator&) {
        U8s buf(16, 0);
        sc_time d = sc_core::SC_ZERO_TIME;
        // Only a read, so the wrapped access cannot corrupt anything.
        st = b.datapath.read(std::numeric_limits<uint64_t>::max() - 7, buf.data(), 16, d);
    };
    sc_core::sc_start();
    CHECK(st == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(b.sram.stats().count("reads") == 0);
}

TEST_CASE(
    "module sram: an access takes access_cycles + ceil(len / bytes_per_cycle) and one port "
    "serialises") {
    IpConfig cfg;
    cfg.sram.bytes_per_cycle = 16;
    cfg.sram.access_cycles = 2;
    Bench b(cfg);
    std::vector<std::pair<std::string, sc_time>> t;
    b.fetcher.body = [&](TestInitiator& f) {
        U8s buf(64, 1);
        TestInitiator& dp = b.datapath;
        auto wr = [&](const char* what, uint64_t a, unsigned len, sc_time d) {
            f.write(a, buf.data(), len, d);
            t.emplace_back(what, d);
        };
        auto rd = [&](const char* what, uint64_t a, unsigned len, sc_time d) {
            dp.read(a, buf.data(), len, d);
            t.emplace_back(what, d);
        };
        const sc_time z = sc_core::SC_ZERO_TIME;
        wr("write 40 B", 0, 40, z);                // 2 + 3 = 5
        wr("write 16 B same time", 64, 16, z);     // queued behind it: 5 + 2 + 1 = 8
        rd("read 40 B same time", 0, 40, z);       // the read port is free: 5
        rd("read 16 B at 20 ns", 64, 16, ns(20));  // 20 + 3 = 23
        rd("read 17 B same time", 0, 17, z);       // queued: 23 + 2 + 2 = 27
        // The resident table is separate lookup logic: access_cycles, no data port.
        t.emplace_back("table lookup", acquire(f, Buffer::K, 0, 16, {0}).delay);  // 2
        sc_core::wait(ns(30));
        wr("write 16 B at 30 ns", 0, 16, z);     // 3
        rd("read 64 B at 31 ns", 0, 64, ns(1));  // 1 + 2 + 4 = 7
    };
    sc_core::sc_start();

    const std::vector<double> want = {5, 8, 5, 23, 27, 2, 3, 7};
    REQUIRE(t.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO(t[i].first);
        CHECK(t[i].second == ns(want[i]));
    }
    CHECK(b.sram.stats().real("write_port_busy_ns") == Approx(5 + 3 + 3));
    CHECK(b.sram.stats().real("read_port_busy_ns") == Approx(5 + 3 + 4 + 6));
}

TEST_CASE("module sram: abandon unpins one acquire and forgets only the rows that never arrived") {
    IpConfig cfg = tiny(Replacement::Lru);
    Bench b(cfg);
    Acquired first, failed, after, earlier_again;
    tlm::tlm_response_status ab = tlm::TLM_INCOMPLETE_RESPONSE, rel = ab, twice = ab;
    b.fetcher.body = [&](TestInitiator& f) {
        first = acquire(f, Buffer::K, 0, 16, {0, 1});      // an earlier chunk, still pinned
        failed = acquire(f, Buffer::K, 0, 16, {1, 2, 3});  // 1 resident, 2 and 3 allocated
        // The memory answered with an error: row 2 arrived, row 3 did not.
        U8s filled = {1, 1, 0};
        U32s slots = failed.slots;
        proto::ResidencyCommand c;
        c.op = proto::ResidencyOp::Abandon;
        c.buffer = Buffer::K;
        c.slots = slots.data();
        c.filled = filled.data();
        c.count = 3;
        sc_time d = sc_core::SC_ZERO_TIME;
        ab = f.command(c, d);
        twice = f.command(c, d);                   // its pins are gone: refused
        rel = release(f, Buffer::K, first.slots);  // the earlier chunk's pins are intact
        after = use(f, Buffer::K, 0, 16, {2, 3});  // 2 still resident, 3 must be fetched
        earlier_again = use(f, Buffer::K, 0, 16, {0, 1});
    };
    sc_core::sc_start();
    CHECK(ab == tlm::TLM_OK_RESPONSE);
    CHECK(twice == tlm::TLM_GENERIC_ERROR_RESPONSE);
    CHECK(rel == tlm::TLM_OK_RESPONSE);
    CHECK(failed.hits == U8s{1, 0, 0});
    CHECK(after.hits == U8s{1, 0});
    CHECK(earlier_again.hits == U8s{1, 1});
    CHECK(b.sram.stats().count("abandons") == 1);
}

TEST_CASE("module sram: reservations are the buffer's own - reserve, unreserve, capacity, flush") {
    IpConfig cfg = tiny(Replacement::Lru);  // 4 slots of 16 B
    Bench b(cfg);
    struct R {
        tlm::tlm_response_status st;
        bool no_room;
        uint32_t capacity;
    };
    std::vector<R> got;
    tlm::tlm_response_status wrong_port = tlm::TLM_INCOMPLETE_RESPONSE, resize = wrong_port;
    auto room = [&](TestInitiator& i, proto::ResidencyOp op, uint32_t count,
                    uint32_t row_bytes = 16) {
        proto::ResidencyCommand c;
        c.op = op;
        c.buffer = Buffer::K;
        c.row_bytes = row_bytes;
        c.count = count;
        sc_time d = sc_core::SC_ZERO_TIME;
        const auto st = i.command(c, d);
        return R{st, c.no_room_out, c.capacity_out};
    };
    b.controller.body = [&](TestInitiator& c) {
        got.push_back(room(c, proto::ResidencyOp::Reserve, 0));    // capacity only
        got.push_back(room(c, proto::ResidencyOp::Reserve, 3));    // 3 of 4
        got.push_back(room(c, proto::ResidencyOp::Reserve, 2));    // no room: 3 + 2 > 4
        got.push_back(room(c, proto::ResidencyOp::Unreserve, 2));  // 1 left
        got.push_back(room(c, proto::ResidencyOp::Reserve, 2));    // fits now
        resize = room(c, proto::ResidencyOp::Reserve, 1, 32).st;   // new row size while reserved
        flush(b.fetcher, Buffer::K);                               // a job's start ends them all
        got.push_back(room(c, proto::ResidencyOp::Reserve, 4));
        wrong_port =
            room(b.fetcher, proto::ResidencyOp::Reserve, 1).st;  // only from the controller
    };
    sc_core::sc_start();
    REQUIRE(got.size() == 6);
    for (const auto& r : got) CHECK(r.st == tlm::TLM_OK_RESPONSE);
    CHECK(got[0].capacity == 4u);
    CHECK_FALSE(got[1].no_room);
    CHECK(got[2].no_room);
    CHECK_FALSE(got[4].no_room);
    CHECK(resize == tlm::TLM_GENERIC_ERROR_RESPONSE);
    CHECK_FALSE(got[5].no_room);
    CHECK(wrong_port == tlm::TLM_COMMAND_ERROR_RESPONSE);
}

TEST_CASE("module sram: chunks reserving with tokens hold one slot per distinct row they claim") {
    IpConfig cfg = tiny(Replacement::Lru);  // 4 slots of 16 B
    Bench b(cfg);
    std::vector<bool> no_room;
    b.controller.body = [&](TestInitiator& c) {
        auto room = [&](proto::ResidencyOp op, uint32_t head, std::vector<uint32_t> tokens) {
            proto::ResidencyCommand r;
            r.op = op;
            r.buffer = Buffer::K;
            r.row_bytes = 16;
            r.head = head;
            r.tokens = tokens.data();
            r.count = uint32_t(tokens.size());
            sc_time d = sc_core::SC_ZERO_TIME;
            REQUIRE(c.command(r, d) == tlm::TLM_OK_RESPONSE);
            return r.no_room_out;
        };
        using proto::ResidencyOp;
        no_room.push_back(room(ResidencyOp::Reserve, 0, {1, 2, 3}));  // 3 distinct rows
        no_room.push_back(room(ResidencyOp::Reserve, 0, {2, 3, 4}));  // shares 2 and 3: 4 rows
        no_room.push_back(room(ResidencyOp::Reserve, 0, {3, 5}));     // 5 would be a fifth
        no_room.push_back(room(ResidencyOp::Reserve, 1, {1}));        // another head's row 1 too
        no_room.push_back(room(ResidencyOp::Reserve, 0, {1, 4}));     // only shared rows: fits
        room(ResidencyOp::Unreserve, 0,
             {1, 2, 3});                          // 1 stays claimed by {1, 4}, 2 and 3 by {2, 3, 4}
        room(ResidencyOp::Unreserve, 0, {1, 4});  // 2, 3, 4 of {2, 3, 4} are left
        no_room.push_back(room(ResidencyOp::Reserve, 0, {5}));  // now room for 5
        no_room.push_back(room(ResidencyOp::Reserve, 0, {6}));  // but not for 6 too
        flush(b.fetcher, Buffer::K);                            // a job's start ends them all
        no_room.push_back(room(ResidencyOp::Reserve, 0, {6, 7, 8, 9}));
    };
    sc_core::sc_start();
    CHECK(no_room == std::vector<bool>{false, false, true, true, false, false, true, false});
}

// ComparatorBank on its own: test initiators play the crossbar on from_xbar (CompareCommands)
// and the controller on from_controller (the keep-mask read-out), with hand-made bitline
// values. Expected masks follow the documented rule
// mask_j = (v_j - shift + offset_j >= threshold_raw); the decisions are latched at no cost and
// the read-out takes ceil(key_end / readout_bits_per_cycle) cycles, plus wta_cycles when the Max
// policy searches.
#include <catch2/catch.hpp>

#include <vector>

#include "core/crossbar.h"
#include "module_fixtures.h"
#include "modules/comparator_bank.h"

using namespace sprint;
using namespace sprint::modtest;
using sc_core::sc_time;

namespace {

struct CompareResult {
    tlm::tlm_response_status status;
    std::vector<uint8_t> mask;
    uint32_t kept;
    int32_t forced;
    sc_time delay;
};

struct Bench {
    TraceScheduler tracer{"tracer"};
    ComparatorBank bank;
    TestInitiator xbar{"xbar"};
    TestInitiator ctl{"ctl"};  // the controller's keep-mask read-out
    explicit Bench(const IpConfig& c) : bank("comparators", c, tracer) {
        xbar.socket.bind(bank.from_xbar.socket);
        ctl.socket.bind(bank.from_controller.socket);
    }
};

// The controller reads the oldest latched mask: `len` bytes for (head, query).
tlm::tlm_response_status read_mask(Bench& b, uint32_t head, uint32_t query, uint8_t* data,
                                   unsigned len, sc_time& delay) {
    proto::MaskCommand m;
    m.head = head;
    m.query = query;
    return b.ctl.transport(Request{tlm::TLM_READ_COMMAND, 0, data, len}, delay, &m);
}

// The crossbar's compare at `delay`, then (`read`) the controller's read-out of its mask at the
// same time: `delay` comes back as the read-out's end.
CompareResult compare(Bench& b, const std::vector<double>& v, double shift, double t_raw,
                      uint32_t query = 0, core::EmptyRowPolicy policy = core::EmptyRowPolicy::Self,
                      sc_time delay = sc_core::SC_ZERO_TIME, uint32_t key_end = ~0u,
                      unsigned len = ~0u, bool read = true,
                      tlm::tlm_command cmd = tlm::TLM_WRITE_COMMAND) {
    CompareResult r;
    const uint32_t n = key_end == ~0u ? uint32_t(v.size()) : key_end;
    r.mask.assign(v.size(), 0xEE);
    proto::CompareCommand c;
    c.head = 1;
    c.query = query;
    c.key_end = n;
    c.shift = shift;
    c.threshold_raw = t_raw;
    c.empty_row = policy;
    const unsigned l = len == ~0u ? unsigned(v.size() * sizeof(double)) : len;
    sc_time at = delay;
    r.status = b.xbar.transport(Request{cmd, 0, const_cast<double*>(v.data()), l}, at, &c);
    r.kept = c.kept_out;
    r.forced = c.forced_out;
    if (r.status == tlm::TLM_OK_RESPONSE && read)
        r.status = read_mask(b, 1, query, r.mask.data(), n, delay);
    r.delay = delay;
    return r;
}

std::vector<double> ramp(int n) {
    std::vector<double> v(std::size_t(n), 0.0);
    for (int j = 0; j < n; ++j) v[std::size_t(j)] = j;
    return v;
}

}  // namespace

TEST_CASE(
    "module comparators: the mask is margin >= threshold after the shift and counters count") {
    IpConfig cfg;
    Bench b(cfg);
    std::vector<CompareResult> r;
    b.xbar.body = [&](TestInitiator&) {
        // margins [5 15 10 9.5 25] against 10: kept 1, 2 (equal counts as kept), 4.
        r.push_back(compare(b, {10, 20, 15, 14.5, 30}, 5.0, 10.0));
        // A negative shift: margins j + 50 >= 100 keeps j = 50 .. 129 (80 keys). Issued at the same
        // time: the bank is busy for 1 cycle, then ceil(130 / 64) = 3 cycles -> 4 ns.
        r.push_back(compare(b, ramp(130), -50.0, 100.0));
    };
    sc_core::sc_start();

    REQUIRE(r.size() == 2);
    CHECK(r[0].status == tlm::TLM_OK_RESPONSE);
    CHECK(r[0].mask == std::vector<uint8_t>{0, 1, 1, 0, 1});
    CHECK(r[0].kept == 3);
    CHECK(r[0].forced == -1);
    CHECK(r[0].delay == ns(1));
    CHECK(r[1].status == tlm::TLM_OK_RESPONSE);
    std::vector<uint8_t> want(130, 0);
    for (int j = 50; j < 130; ++j) want[std::size_t(j)] = 1;
    CHECK(r[1].mask == want);
    CHECK(r[1].kept == 80);
    CHECK(r[1].forced == -1);
    CHECK(r[1].delay == ns(4));
    CHECK(b.bank.stats().count("decisions") == 135);
    CHECK(b.bank.stats().count("kept") == 83);
    CHECK(b.bank.stats().count("mask_bits_read") == 135);
    CHECK(b.bank.stats().count("empty_rows") == 0);
    CHECK(b.bank.stats().real("busy_ns") == Approx(4.0));
    CHECK(b.bank.stats().value("kept") == 83);
}

TEST_CASE("module comparators: read-out takes ceil(key_end / readout_bits_per_cycle) cycles") {
    IpConfig cfg;
    cfg.clock_ns = 2.0;
    cfg.comparators.readout_bits_per_cycle = 16;
    Bench b(cfg);
    std::vector<CompareResult> r;
    b.xbar.body = [&](TestInitiator&) {
        for (int n : {16, 17, 48, 49}) {
            r.push_back(compare(b, ramp(n), 0.0, 8.0));
            sc_core::wait(r.back().delay);
        }
        // An annotated start: 10 ns from now plus 1 cycle.
        r.push_back(compare(b, ramp(3), 0.0, 8.0, 0, core::EmptyRowPolicy::Self, ns(10)));
    };
    sc_core::sc_start();

    REQUIRE(r.size() == 5);
    CHECK(r[0].delay == ns(2));   // 1 cycle of 2 ns
    CHECK(r[1].delay == ns(4));   // 2 cycles
    CHECK(r[2].delay == ns(6));   // 3 cycles
    CHECK(r[3].delay == ns(8));   // 4 cycles
    CHECK(r[4].delay == ns(12));  // 10 ns + 1 cycle
    for (const auto& x : r) CHECK(x.status == tlm::TLM_OK_RESPONSE);
    CHECK(r[0].kept == 8);   // 8 .. 15
    CHECK(r[3].kept == 41);  // 8 .. 48
    CHECK(b.bank.stats().count("mask_bits_read") == 16 + 17 + 48 + 49 + 3);
    CHECK(b.bank.stats().real("busy_ns") == Approx(2.0 + 4.0 + 6.0 + 8.0 + 2.0));
}

TEST_CASE("module comparators: empty-row policy self keeps the query's key clamped into range") {
    IpConfig cfg;
    Bench b(cfg);
    std::vector<CompareResult> r;
    b.xbar.body = [&](TestInitiator&) {
        const std::vector<double> low = {1, 7, 3, 2, 5};  // all below 10
        r.push_back(compare(b, low, 0.0, 10.0, 3, core::EmptyRowPolicy::Self));
        sc_core::wait(r.back().delay);
        r.push_back(compare(b, low, 0.0, 10.0, 9, core::EmptyRowPolicy::Self));
    };
    sc_core::sc_start();

    REQUIRE(r.size() == 2);
    CHECK(r[0].status == tlm::TLM_OK_RESPONSE);
    CHECK(r[0].mask == std::vector<uint8_t>{0, 0, 0, 1, 0});
    CHECK(r[0].forced == 3);
    CHECK(r[0].kept == 1);
    CHECK(r[0].delay == ns(1));  // no winner-take-all pass for Self
    CHECK(r[1].mask == std::vector<uint8_t>{0, 0, 0, 0, 1});
    CHECK(r[1].forced == 4);
    CHECK(r[1].kept == 1);
    CHECK(r[1].delay == ns(1));
    CHECK(b.bank.stats().count("empty_rows") == 2);
    CHECK(b.bank.stats().count("kept") == 2);
}

TEST_CASE(
    "module comparators: empty-row policy max keeps the first largest margin and adds wta_cycles") {
    IpConfig cfg;
    Bench b(cfg);
    std::vector<CompareResult> r;
    b.xbar.body = [&](TestInitiator&) {
        // margins (v - 2) = [1 3 3 2 -4]: the first of the two largest is key 1.
        r.push_back(compare(b, {3, 5, 5, 4, -2}, 2.0, 10.0, 4, core::EmptyRowPolicy::Max));
        sc_core::wait(r.back().delay);
        // Not empty: Max changes nothing and costs no search.
        r.push_back(compare(b, {3, 15, 5, 4, -2}, 2.0, 10.0, 4, core::EmptyRowPolicy::Max));
    };
    sc_core::sc_start();

    REQUIRE(r.size() == 2);
    CHECK(r[0].status == tlm::TLM_OK_RESPONSE);
    CHECK(r[0].mask == std::vector<uint8_t>{0, 1, 0, 0, 0});
    CHECK(r[0].forced == 1);
    CHECK(r[0].kept == 1);
    CHECK(r[0].delay == ns(1 + 8));
    CHECK(r[1].mask == std::vector<uint8_t>{0, 1, 0, 0, 0});
    CHECK(r[1].forced == -1);
    CHECK(r[1].kept == 1);
    CHECK(r[1].delay == ns(1));
    CHECK(b.bank.stats().count("empty_rows") == 1);
    CHECK(b.bank.stats().real("busy_ns") == Approx(10.0));
}

TEST_CASE(
    "module comparators: the query-max rule decides against the query's largest margin, "
    "wta_cycles later") {
    IpConfig cfg;
    cfg.comparators.rule = "query-max";
    Bench b(cfg);
    std::vector<CompareResult> r;
    b.xbar.body = [&](TestInitiator&) {
        // margins (v - 2) = [1 3 3 2 -4], the largest 3: threshold -1.5 keeps 3, 3 and 2.
        r.push_back(compare(b, {3, 5, 5, 4, -2}, 2.0, -1.5));
    };
    sc_core::sc_start();

    REQUIRE(r.size() == 1);
    CHECK(r[0].status == tlm::TLM_OK_RESPONSE);
    CHECK(r[0].mask == std::vector<uint8_t>{0, 1, 1, 1, 0});
    CHECK(r[0].kept == 3);
    // the read-out (1 cycle for 5 bits) waits for the decisions, wta_cycles (8) after the compare
    CHECK(r[0].delay == ns(8 + 1));
    CHECK(b.bank.stats().count("max_track_compares") == 5);
    CHECK(b.bank.stats().count("decisions") == 5);
}

TEST_CASE("module comparators: comparator offsets follow the core for the same seed") {
    IpConfig cfg;
    cfg.seed = 3;
    cfg.comparators.offset_sigma = 0.5;
    Bench b(cfg);
    std::vector<double> v(64);
    for (int j = 0; j < 64; ++j) v[std::size_t(j)] = 10.0 + double(j % 7 - 3) * 0.2;
    std::vector<CompareResult> r;
    b.xbar.body = [&](TestInitiator&) { r.push_back(compare(b, v, 0.0, 10.0)); };
    sc_core::sc_start();

    REQUIRE(r.size() == 1);
    std::vector<uint8_t> want(64), ideal(64);
    const uint32_t kept =
        core::compare_bitlines(v.data(), 64, 0.0, 10.0, cfg.numerics(), want.data(), nullptr);
    core::compare_bitlines(v.data(), 64, 0.0, 10.0, IpConfig().numerics(), ideal.data(), nullptr);
    CHECK(r[0].status == tlm::TLM_OK_RESPONSE);
    CHECK(r[0].mask == want);
    CHECK(r[0].kept == kept);
    CHECK(want != ideal);  // the offsets do move decisions
}

TEST_CASE(
    "module comparators: a wrong data length is a generic error and no extension a command error") {
    IpConfig cfg;
    Bench b(cfg);
    std::vector<std::pair<std::string, CompareResult>> r;
    std::vector<tlm::tlm_response_status> plain;
    b.xbar.body = [&](TestInitiator& x) {
        const std::vector<double> v = {1, 2, 3, 4, 5};
        const auto S = core::EmptyRowPolicy::Self;
        const sc_time z = sc_core::SC_ZERO_TIME;
        r.emplace_back("key_end 4 for 5 values", compare(b, v, 0, 2, 0, S, z, 4));
        r.emplace_back("floats not doubles", compare(b, v, 0, 2, 0, S, z, 5, 20));
        r.emplace_back("key_end 0", compare(b, v, 0, 2, 0, S, z, 0, 0));
        r.emplace_back("read command",
                       compare(b, v, 0, 2, 0, S, z, 5, 40, true, tlm::TLM_READ_COMMAND));
        r.emplace_back("ignore command",
                       compare(b, v, 0, 2, 0, S, z, 5, 40, true, tlm::TLM_IGNORE_COMMAND));
        sc_time d = ns(2);
        std::vector<double> data = v;
        plain.push_back(x.write(0, data.data(), 40, d));
        plain.push_back(d == ns(2) ? tlm::TLM_OK_RESPONSE : tlm::TLM_INCOMPLETE_RESPONSE);
    };
    sc_core::sc_start();

    using tlm::TLM_COMMAND_ERROR_RESPONSE;
    using tlm::TLM_GENERIC_ERROR_RESPONSE;
    const std::vector<tlm::tlm_response_status> want = {
        TLM_GENERIC_ERROR_RESPONSE, TLM_GENERIC_ERROR_RESPONSE, TLM_GENERIC_ERROR_RESPONSE,
        TLM_COMMAND_ERROR_RESPONSE, TLM_COMMAND_ERROR_RESPONSE};
    REQUIRE(r.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO(r[i].first);
        CHECK(r[i].second.status == want[i]);
        CHECK(r[i].second.delay == sc_core::SC_ZERO_TIME);
        CHECK(r[i].second.mask == std::vector<uint8_t>(5, 0xEE));  // untouched
    }
    REQUIRE(plain.size() == 2);
    CHECK(plain[0] == TLM_COMMAND_ERROR_RESPONSE);
    CHECK(plain[1] == tlm::TLM_OK_RESPONSE);  // delay left alone
    CHECK(b.bank.stats().count("decisions") == 0);
    CHECK(b.bank.stats().count("kept") == 0);
    CHECK(b.bank.stats().count("mask_bits_read") == 0);
}

TEST_CASE(
    "module comparators: masks are read out oldest first, each once, and the latches are bounded") {
    IpConfig cfg;
    cfg.comparators.mask_latches = 3;
    Bench b(cfg);
    std::vector<std::pair<std::string, tlm::tlm_response_status>> st;
    std::vector<uint8_t> m0(5, 0xEE), m1(5, 0xEE);
    b.xbar.body = [&](TestInitiator&) {
        const std::vector<double> v = {1, 20, 3, 40, 5};
        sc_time z = sc_core::SC_ZERO_TIME;
        std::vector<uint8_t> m(5, 0xEE);
        st.emplace_back("read with none latched", read_mask(b, 1, 0, m.data(), 5, z));
        for (uint32_t q = 0; q < 3; ++q)
            st.emplace_back("latch " + std::to_string(q),
                            compare(b, v, 0, 10, q, {}, z, ~0u, ~0u, false).status);
        st.emplace_back("a fourth with every latch full",
                        compare(b, v, 0, 10, 3, {}, z, ~0u, ~0u, false).status);
        st.emplace_back("read query 1 before 0", read_mask(b, 1, 1, m.data(), 5, z));
        st.emplace_back("read another head", read_mask(b, 2, 0, m.data(), 5, z));
        st.emplace_back("read 4 bytes of 5", read_mask(b, 1, 0, m.data(), 4, z));
        st.emplace_back("read query 0", read_mask(b, 1, 0, m0.data(), 5, z));
        st.emplace_back("read query 0 again", read_mask(b, 1, 0, m.data(), 5, z));
        st.emplace_back("read query 1", read_mask(b, 1, 1, m1.data(), 5, z));
        proto::MaskCommand clear;
        clear.op = proto::MaskOp::Clear;
        st.emplace_back("clear", b.ctl.command(clear, z));
        st.emplace_back("read query 2 after the clear", read_mask(b, 1, 2, m.data(), 5, z));
        st.emplace_back("latch after the clear", compare(b, v, 0, 10, 5).status);
    };
    sc_core::sc_start();

    using tlm::TLM_GENERIC_ERROR_RESPONSE;
    using tlm::TLM_OK_RESPONSE;
    const std::vector<tlm::tlm_response_status> want = {TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_OK_RESPONSE};
    REQUIRE(st.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO(st[i].first);
        CHECK(st[i].second == want[i]);
    }
    CHECK(m0 == std::vector<uint8_t>{0, 1, 0, 1, 0});
    CHECK(m1 == m0);
    CHECK(b.bank.stats().count("latched_max") == 3);
    CHECK(b.bank.stats().count("decisions") == 4 * 5);  // the refused fourth decided nothing
    CHECK(b.bank.stats().count("mask_bits_read") == 3 * 5);
}

TEST_CASE("module comparators: a mask is read out no earlier than its decisions are taken") {
    IpConfig cfg;
    Bench b(cfg);
    sc_time first, second;
    b.xbar.body = [&](TestInitiator&) {
        const std::vector<double> v = {1, 20, 3, 40, 5};
        proto::CompareCommand c;
        c.head = 1;
        c.key_end = 5;
        c.threshold_raw = 10;
        c.decided_after = ns(7);  // the array's evaluation ends 7 ns after the request
        sc_time at = sc_core::SC_ZERO_TIME;
        b.xbar.transport(Request{tlm::TLM_WRITE_COMMAND, 0, const_cast<double*>(v.data()), 40}, at,
                         &c);
        CHECK(at == sc_core::SC_ZERO_TIME);  // latching takes no time of its own
        std::vector<uint8_t> m(5);
        first = sc_core::SC_ZERO_TIME;
        CHECK(read_mask(b, 1, 0, m.data(), 5, first) == tlm::TLM_OK_RESPONSE);
        // The next query's decisions come at 3 ns, but the read-out port is busy until 8 ns.
        c.query = 1;
        c.decided_after = ns(3);
        at = sc_core::SC_ZERO_TIME;
        b.xbar.transport(Request{tlm::TLM_WRITE_COMMAND, 0, const_cast<double*>(v.data()), 40}, at,
                         &c);
        second = sc_core::SC_ZERO_TIME;
        CHECK(read_mask(b, 1, 1, m.data(), 5, second) == tlm::TLM_OK_RESPONSE);
    };
    sc_core::sc_start();
    CHECK(first == ns(7 + 1));   // decided at 7, one read-out cycle
    CHECK(second == ns(8 + 1));  // after the first read-out
}

// CrossbarArray on its own: a test initiator plays the controller on from_controller; the
// comparator side is either a stub target that records the bitline payload or the real
// ComparatorBank. Expected values are hand-computed from the documented formulas with the
// default parameters (1 GHz clock, 16 B/cycle query copy, 7 evaluate cycles, 64 mask bits/cycle)
// and cross-checked against the SystemC-free core (CellArray, compare_bitlines, empty-row policy).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/crossbar.h"
#include "core/keep_rule.h"
#include "module_fixtures.h"
#include "modules/comparator_bank.h"
#include "modules/crossbar_array.h"

using namespace sprint;
using namespace sprint::modtest;
using sc_core::sc_time;

namespace {

// Six hand-made keys of d = 4. Their top 4 bits (arithmetic shift) are
//   k0 [1 1 1 1]  k1 [2 1 0 3]  k2 [-1 0 2 5]  k3 [3 2 -2 -8]  k4 [0 2 -1 7]  k5 [-8 -8 -7 -8]
// and the query's DAC codes are [1 2 -1 0]. With mid-point reconstruction (the default) the
// DAC drives [1.5 2.5 -0.5 0.5] and each key code counts as code + 0.5, so the raw approximate
// scores are [6 9 2 8.5 11 -30.5]; the offset-encoding shift is 7.5 * (1.5 + 2.5 - 0.5 + 0.5) =
// 30, and each bitline integrates score + shift = [36 39 32 38.5 41 -0.5]. (The floor mapping
// would give scores [2 4 -3 9 5 -17], shift 8 * 2 = 16.)
const std::vector<int8_t> kKeys = {16, 31, 17,  25,   37, 20, 5,  50,  -3,   9,    40,   90,
                                   63, 33, -17, -128, 15, 47, -1, 127, -128, -113, -100, -120};
const std::vector<int8_t> kQuery = {20, 47, -10, 15};
constexpr uint32_t kD = 4, kKeysN = 6;

// One raw unit = 16 * 16 * s_q * s_k / sqrt(4) = 0.5 logit, so threshold 2.0 is 4 raw units.
core::HeadParams hand_params() {
    core::HeadParams hp;
    hp.threshold = 2.0f;
    hp.s_q = 0.0625f;
    hp.s_k = 0.0625f;
    return hp;
}

// What the core computes for one evaluate.
struct CoreEval {
    std::vector<double> bitlines;
    std::vector<uint8_t> mask;
    uint32_t kept = 0;
    int forced = -1;
    double shift = 0, t_raw = 0;
};

CoreEval core_eval(const std::vector<int8_t>& keys, uint32_t d, const std::vector<int8_t>& q,
                   const core::HeadParams& hp, const core::XbarNumerics& x, uint32_t head,
                   uint32_t query, uint32_t key_end, core::EmptyRowPolicy policy) {
    const int n = int(keys.size() / d);
    core::CellArray cells;
    cells.reset(n, int(d));
    cells.program(keys.data(), 0, n, head, x);
    std::vector<int8_t> dac(d);
    core::query_to_dac(q.data(), int(d), x, dac.data());
    CoreEval r;
    r.bitlines.resize(key_end);
    cells.bitlines(dac.data(), int(key_end), head, query, x, r.bitlines.data());
    r.shift = core::query_shift(dac.data(), int(d), x);
    r.t_raw = core::threshold_raw(hp, int(d), x);
    r.mask.resize(key_end);
    std::vector<double> margins(key_end);
    r.kept = core::compare_bitlines(r.bitlines.data(), int(key_end), r.shift, r.t_raw, x,
                                    r.mask.data(), margins.data());
    r.forced = core::apply_empty_row_policy(r.mask.data(), int(key_end), int(query), policy,
                                            margins.data());
    if (r.forced >= 0) ++r.kept;
    return r;
}

// The controller's side of the link.
struct ProgramResult {
    tlm::tlm_response_status status;
    uint64_t cells;
    sc_time delay;
};
ProgramResult program(TestInitiator& ctl, uint32_t head, uint32_t d, const core::HeadParams& hp,
                      uint32_t first, uint32_t count, const int8_t* rows, sc_time delay,
                      unsigned len = ~0u) {
    proto::XbarCommand c;
    c.op = proto::XbarOp::Program;
    c.head = head;
    c.d = d;
    c.params = hp;
    c.first_key = first;
    c.key_count = count;
    const unsigned l = len == ~0u ? count * d : len;
    const auto st =
        ctl.transport(Request{tlm::TLM_WRITE_COMMAND, 0, const_cast<int8_t*>(rows), l}, delay, &c);
    return {st, c.cells_written_out, delay};
}

struct EvalResult {
    tlm::tlm_response_status status;
    std::vector<uint8_t> mask;
    uint32_t kept;
    int32_t forced;
    sc_time delay;
};
EvalResult evaluate(TestInitiator& ctl, uint32_t head, uint32_t d, const std::vector<int8_t>& q,
                    uint32_t query, uint32_t key_end, core::EmptyRowPolicy policy, sc_time delay,
                    TestInitiator* reader = nullptr,
                    tlm::tlm_command cmd = tlm::TLM_WRITE_COMMAND) {
    EvalResult r;
    r.mask.assign(key_end, 0xEE);
    proto::XbarCommand c;
    c.op = proto::XbarOp::Evaluate;
    c.head = head;
    c.d = d;
    c.query = query;
    c.key_end = key_end;
    c.empty_row = policy;
    r.status = ctl.transport(Request{cmd, 0, const_cast<int8_t*>(q.data()), unsigned(q.size())},
                             delay, &c);
    r.kept = c.kept_out;
    r.forced = c.forced_out;
    // With a reader (the real comparator bank), the controller's mask read-out follows at once:
    // the delay is then the read-out's end, else the evaluation's start.
    if (reader && r.status == tlm::TLM_OK_RESPONSE) {
        proto::MaskCommand m;
        m.head = head;
        m.query = query;
        r.status =
            reader->transport(Request{tlm::TLM_READ_COMMAND, 0, r.mask.data(), key_end}, delay, &m);
    }
    r.delay = delay;
    return r;
}

// The crossbar with the real comparator bank behind it.
struct XbarBench {
    const IpConfig& cfg;
    TraceScheduler tracer{"tracer"};
    CrossbarArray xbar;
    ComparatorBank comparators;
    TestInitiator ctl{"ctl"};
    TestInitiator fetch{"fetch"};  // the fetcher's read-back requests
    TestInitiator mask{"mask"};    // the controller's keep-mask read-out
    explicit XbarBench(const IpConfig& c)
        : cfg(c), xbar("xbar", c, tracer), comparators("comparators", c, tracer) {
        ctl.socket.bind(xbar.from_controller.socket);
        fetch.socket.bind(xbar.from_fetcher.socket);
        xbar.to_comparators.bind(comparators.from_xbar.socket);
        mask.socket.bind(comparators.from_controller.socket);
    }
};

// The crossbar with a stub comparator that records the bitline payload.
struct XbarStubBench {
    const IpConfig& cfg;
    TraceScheduler tracer{"tracer"};
    CrossbarArray xbar;
    StubTarget cmp{"cmp"};
    TestInitiator ctl{"ctl"};
    TestInitiator fetch{"fetch"};             // the fetcher's read-back requests
    std::vector<proto::CompareCommand> seen;  // copies of the CompareCommand of each call
    explicit XbarStubBench(const IpConfig& c) : cfg(c), xbar("xbar", c, tracer) {
        ctl.socket.bind(xbar.from_controller.socket);
        fetch.socket.bind(xbar.from_fetcher.socket);
        xbar.to_comparators.bind(cmp.socket);
    }
};

std::vector<double> as_doubles(const std::vector<uint8_t>& bytes) {
    std::vector<double> v(bytes.size() / sizeof(double));
    std::memcpy(v.data(), bytes.data(), v.size() * sizeof(double));
    return v;
}

// A small array: tiles of 8 wordlines x 4 bitlines, 4 tiles. Capacity: 16 keys at d <= 8,
// 8 keys at 8 < d <= 16, none at d > 32.
IpConfig small_xbar() {
    IpConfig c;
    c.xbar.tile_rows = 8;
    c.xbar.tile_cols = 4;
    c.xbar.tiles = 4;
    return c;
}

}  // namespace

TEST_CASE("module xbar: program counts keys x d cell writes and ceil(cells / parallel) pulses") {
    IpConfig cfg;
    cfg.xbar.write_parallel_cells = 100;
    cfg.xbar.write_pulse_ns = 12.5;
    XbarStubBench b(cfg);
    const auto k64 = int8_rows(8, 64, 1);
    const auto k200 = int8_rows(1, 200, 2);
    std::vector<ProgramResult> r;
    b.ctl.body = [&](TestInitiator& ctl) {
        const core::HeadParams hp = hand_params();
        // 5 x 64 = 320 cells -> 4 pulses -> 50 ns.
        r.push_back(program(ctl, 0, 64, hp, 0, 5, k64.data(), sc_core::SC_ZERO_TIME));
        // 3 x 64 = 192 cells -> 2 pulses -> 25 ns, issued at the same time: the array is busy
        // until 50 ns, so it ends at 75 ns.
        r.push_back(program(ctl, 0, 64, hp, 5, 3, k64.data() + 5 * 64, sc_core::SC_ZERO_TIME));
        // A new head at d = 200 (two row groups): 200 cells -> 2 pulses -> 25 ns, ends at 100.
        r.push_back(program(ctl, 1, 200, hp, 0, 1, k200.data(), sc_core::SC_ZERO_TIME));
    };
    sc_core::sc_start();

    REQUIRE(r.size() == 3);
    for (const auto& x : r) CHECK(x.status == tlm::TLM_OK_RESPONSE);
    CHECK(r[0].cells == 320);
    CHECK(r[1].cells == 192);
    CHECK(r[2].cells == 200);
    CHECK(r[0].delay == ns(50));
    CHECK(r[1].delay == ns(75));
    CHECK(r[2].delay == ns(100));
    CHECK(b.xbar.stats().count("cell_writes") == 712);
    CHECK(b.xbar.stats().count("write_pulses") == 8);
    CHECK(b.xbar.stats().count("programs") == 3);
    CHECK(b.xbar.stats().count("evaluations") == 0);
    CHECK(b.xbar.stats().real("busy_ns") == Approx(100.0));
    CHECK(b.xbar.stats().value("write_pulses") == 8);
    CHECK(b.cmp.log.empty());
}

TEST_CASE("module xbar: the keep mask read out is the core's, after copy + evaluate + read-out") {
    IpConfig cfg;
    XbarBench b(cfg);
    std::vector<ProgramResult> p;
    std::vector<EvalResult> e;
    b.ctl.body = [&](TestInitiator& ctl) {
        // 6 x 4 = 24 cells -> 1 pulse -> 10 ns.
        p.push_back(
            program(ctl, 0, kD, hand_params(), 0, kKeysN, kKeys.data(), sc_core::SC_ZERO_TIME));
        sc_core::wait(p.back().delay);
        // ceil(4 / 16) = 1 copy + 7 evaluate cycles, then ceil(6 / 64) = 1 read-out cycle: 9 ns.
        e.push_back(evaluate(ctl, 0, kD, kQuery, 0, kKeysN, core::EmptyRowPolicy::Self,
                             sc_core::SC_ZERO_TIME, &b.mask));
        sc_core::wait(e.back().delay);
        // Only keys [0, 3) take part: scores [6 9 2].
        e.push_back(evaluate(ctl, 0, kD, kQuery, 1, 3, core::EmptyRowPolicy::Self,
                             sc_core::SC_ZERO_TIME, &b.mask));
    };
    sc_core::sc_start();

    REQUIRE(p.size() == 1);
    CHECK(p[0].status == tlm::TLM_OK_RESPONSE);
    CHECK(p[0].delay == ns(10));
    REQUIRE(e.size() == 2);
    const core::XbarNumerics x = cfg.numerics();

    CHECK(e[0].status == tlm::TLM_OK_RESPONSE);
    CHECK(e[0].mask == std::vector<uint8_t>{1, 1, 0, 1, 1, 0});
    CHECK(e[0].kept == 4);
    CHECK(e[0].forced == -1);
    CHECK(e[0].delay == ns(9));
    const CoreEval c0 =
        core_eval(kKeys, kD, kQuery, hand_params(), x, 0, 0, 6, core::EmptyRowPolicy::Self);
    CHECK(e[0].mask == c0.mask);
    CHECK(e[0].kept == c0.kept);

    CHECK(e[1].status == tlm::TLM_OK_RESPONSE);
    CHECK(e[1].mask == std::vector<uint8_t>{1, 1, 0});
    CHECK(e[1].kept == 2);
    CHECK(e[1].delay == ns(9));
    const CoreEval c1 =
        core_eval(kKeys, kD, kQuery, hand_params(), x, 0, 1, 3, core::EmptyRowPolicy::Self);
    CHECK(e[1].mask == c1.mask);

    CHECK(b.xbar.stats().count("evaluations") == 2);
    CHECK(b.xbar.stats().count("analog_macs") == 6 * 4 + 3 * 4);
    CHECK(b.xbar.stats().count("tile_evaluations") == 2);
    CHECK(b.xbar.stats().real("busy_ns") == Approx(10.0 + 7.0 + 7.0));  // the copies not
    CHECK(b.comparators.stats().count("mask_bits_read") == 9);
    CHECK(b.comparators.stats().count("decisions") == 9);
    CHECK(b.comparators.stats().count("kept") == 6);
}

TEST_CASE(
    "module xbar: back-to-back queries evaluate every evaluate_cycles, copies and read-outs "
    "overlapped") {
    IpConfig cfg;
    cfg.xbar.query_copy_bytes_per_cycle = 2;     // a 2-cycle copy at d = 4
    cfg.comparators.readout_bits_per_cycle = 1;  // a 6-cycle read-out of 6 keys
    XbarBench b(cfg);
    std::vector<sc_time> answered, read_out;
    b.ctl.body = [&](TestInitiator& ctl) {
        const auto p =
            program(ctl, 0, kD, hand_params(), 0, kKeysN, kKeys.data(), sc_core::SC_ZERO_TIME);
        sc_core::wait(p.delay);
        const sc_time t0 = sc_core::sc_time_stamp();
        // The controller issues each query when the previous one's Evaluate returns, and does
        // not wait for its mask (the bank latches four).
        sc_time at = sc_core::SC_ZERO_TIME;
        for (uint32_t i = 0; i < 4; ++i) {
            EvalResult e = evaluate(ctl, 0, kD, kQuery, i, kKeysN, core::EmptyRowPolicy::Self, at);
            REQUIRE(e.status == tlm::TLM_OK_RESPONSE);
            at = e.delay;
            answered.push_back(at);
        }
        for (uint32_t i = 0; i < 4; ++i) {
            std::vector<uint8_t> m(kKeysN);
            proto::MaskCommand mc;
            mc.query = i;
            sc_time d = sc_core::SC_ZERO_TIME;
            REQUIRE(b.mask.transport(Request{tlm::TLM_READ_COMMAND, 0, m.data(), kKeysN}, d, &mc) ==
                    tlm::TLM_OK_RESPONSE);
            CHECK(m == std::vector<uint8_t>{1, 1, 0, 1, 1, 0});
            read_out.push_back(sc_core::sc_time_stamp() - t0 + d);
        }
    };
    sc_core::sc_start();
    // Query 0: copy [0, 2), evaluation [2, 9). Query i's copy runs during query i - 1's
    // evaluation, so evaluation i starts at 2 + 7 i (the response) and ends 7 cycles later.
    CHECK(answered == std::vector<sc_time>{ns(2), ns(9), ns(16), ns(23)});
    // Read-outs: 6 cycles each from the end of the evaluation, one at a time: at 9 + 6 = 15,
    // then 16 + 6 = 22, 29, 36 (each waits for its decisions, not for the port).
    CHECK(read_out == std::vector<sc_time>{ns(15), ns(22), ns(29), ns(36)});
    CHECK(b.xbar.stats().real("busy_ns") == Approx(10.0 + 4 * 7.0));
    CHECK(b.comparators.stats().real("busy_ns") == Approx(4 * 6.0));
    CHECK(b.comparators.stats().count("latched_max") == 4);
}

TEST_CASE("module xbar: an empty row keeps the key the core's empty-row policy picks") {
    IpConfig cfg;
    cfg.xbar.midpoint = false;  // the floor mapping keeps the hand arithmetic short
    XbarBench b(cfg);
    // DAC codes [0 0 1 0]: raw scores are the keys' third elements [1 0 2 -2 -1 -7], all below
    // the 4-unit threshold. Self keeps the query's own key; Max keeps key 2 (margin 2) after a
    // winner-take-all pass of wta_cycles = 8.
    const std::vector<int8_t> q = {5, 7, 31, 15};
    std::vector<EvalResult> e;
    b.ctl.body = [&](TestInitiator& ctl) {
        const auto p =
            program(ctl, 0, kD, hand_params(), 0, kKeysN, kKeys.data(), sc_core::SC_ZERO_TIME);
        sc_core::wait(p.delay);
        e.push_back(evaluate(ctl, 0, kD, q, 4, kKeysN, core::EmptyRowPolicy::Self,
                             sc_core::SC_ZERO_TIME, &b.mask));
        sc_core::wait(e.back().delay);
        e.push_back(evaluate(ctl, 0, kD, q, 4, kKeysN, core::EmptyRowPolicy::Max,
                             sc_core::SC_ZERO_TIME, &b.mask));
    };
    sc_core::sc_start();

    REQUIRE(e.size() == 2);
    const core::XbarNumerics x = cfg.numerics();
    CHECK(e[0].status == tlm::TLM_OK_RESPONSE);
    CHECK(e[0].mask == std::vector<uint8_t>{0, 0, 0, 0, 1, 0});
    CHECK(e[0].kept == 1);
    CHECK(e[0].forced == 4);
    CHECK(e[0].delay == ns(9));
    CHECK(e[0].mask ==
          core_eval(kKeys, kD, q, hand_params(), x, 0, 4, 6, core::EmptyRowPolicy::Self).mask);
    CHECK(e[1].status == tlm::TLM_OK_RESPONSE);
    CHECK(e[1].mask == std::vector<uint8_t>{0, 0, 1, 0, 0, 0});
    CHECK(e[1].kept == 1);
    CHECK(e[1].forced == 2);
    CHECK(e[1].delay == ns(9 + 8));
    const CoreEval c =
        core_eval(kKeys, kD, q, hand_params(), x, 0, 4, 6, core::EmptyRowPolicy::Max);
    CHECK(e[1].mask == c.mask);
    CHECK(e[1].forced == c.forced);
    CHECK(b.comparators.stats().count("empty_rows") == 2);
}

TEST_CASE("module xbar: the comparator receives the core's bitlines - shift and threshold") {
    IpConfig cfg;
    XbarStubBench b(cfg);
    b.cmp.respond = [&](tlm::tlm_generic_payload& gp, sc_time& delay) {
        auto* cc = gp.get_extension<proto::CompareCommand>();
        if (!cc) return;
        b.seen.push_back(*cc);
        cc->kept_out = 77;
        cc->forced_out = 5;
        delay += ns(5);
    };
    std::vector<EvalResult> e;
    b.ctl.body = [&](TestInitiator& ctl) {
        const auto p =
            program(ctl, 0, kD, hand_params(), 0, kKeysN, kKeys.data(), sc_core::SC_ZERO_TIME);
        sc_core::wait(p.delay);
        e.push_back(evaluate(ctl, 0, kD, kQuery, 9, kKeysN, core::EmptyRowPolicy::Max,
                             sc_core::SC_ZERO_TIME));
    };
    sc_core::sc_start();

    REQUIRE(e.size() == 1);
    REQUIRE(b.cmp.log.size() == 1);
    REQUIRE(b.seen.size() == 1);
    const auto& rec = b.cmp.log[0];
    CHECK(rec.cmd == tlm::TLM_WRITE_COMMAND);
    REQUIRE(rec.data.size() == kKeysN * sizeof(double));
    const std::vector<double> v = as_doubles(rec.data);
    CHECK(v == std::vector<double>{36, 39, 32, 38.5, 41, -0.5});
    const CoreEval c = core_eval(kKeys, kD, kQuery, hand_params(), cfg.numerics(), 0, 9, kKeysN,
                                 core::EmptyRowPolicy::Max);
    CHECK(v == c.bitlines);
    // The bitlines reach the comparators with the request; the decisions are taken when the
    // query copy (1 cycle) and the evaluation (7) are done.
    CHECK(rec.arrive_offset == sc_core::SC_ZERO_TIME);
    const proto::CompareCommand& cc = b.seen[0];
    CHECK(cc.head == 0);
    CHECK(cc.query == 9);
    CHECK(cc.key_end == kKeysN);
    CHECK(cc.shift == 30.0);
    CHECK(cc.shift == c.shift);
    CHECK(cc.threshold_raw == Approx(4.0));
    CHECK(cc.threshold_raw == c.t_raw);
    CHECK(cc.empty_row == core::EmptyRowPolicy::Max);
    CHECK(cc.decided_after == ns(8));
    // The comparator's answer comes back unchanged, and its 5 ns hold the response past the
    // evaluation's start (1 ns).
    CHECK(e[0].status == tlm::TLM_OK_RESPONSE);
    CHECK(e[0].kept == 77);
    CHECK(e[0].forced == 5);
    CHECK(e[0].delay == ns(5));
}

TEST_CASE("module xbar: non-ideal bitlines equal the core's CellArray for the same seed and head") {
    IpConfig cfg;
    cfg.seed = 42;
    cfg.xbar.read_noise_sigma = 1.5;
    cfg.xbar.cell_variation_sigma = 0.1;
    cfg.xbar.stuck_at_zero_rate = 0.02;
    cfg.xbar.stuck_at_max_rate = 0.02;
    XbarStubBench b(cfg);
    constexpr uint32_t d = 24, n = 40, head = 3, query = 17, key_end = 37;
    const auto keys = int8_rows(n, d, 5);
    const auto q = int8_rows(1, d, 6);
    core::HeadParams hp;
    hp.threshold = 0.5f;
    hp.s_q = hp.s_k = 0.02f;
    std::vector<EvalResult> e;
    b.ctl.body = [&](TestInitiator& ctl) {
        // Two program commands (keys [0, 25) then [25, 40)) must equal one core program.
        const auto p1 = program(ctl, head, d, hp, 0, 25, keys.data(), sc_core::SC_ZERO_TIME);
        const auto p2 = program(ctl, head, d, hp, 25, 15, keys.data() + 25 * d, p1.delay);
        sc_core::wait(p2.delay);
        e.push_back(evaluate(ctl, head, d, q, query, key_end, core::EmptyRowPolicy::Self,
                             sc_core::SC_ZERO_TIME));
    };
    sc_core::sc_start();

    REQUIRE(e.size() == 1);
    REQUIRE(b.cmp.log.size() == 1);
    const CoreEval c =
        core_eval(keys, d, q, hp, cfg.numerics(), head, query, key_end, core::EmptyRowPolicy::Self);
    const std::vector<double> v = as_doubles(b.cmp.log[0].data);
    REQUIRE(v.size() == key_end);
    CHECK(v == c.bitlines);
    // ceil(24 / 16) = 2 copy cycles, then the evaluation starts (the response) and ends 7 cycles
    // later (the decisions); the stub adds no time.
    CHECK(b.cmp.log[0].arrive_offset == sc_core::SC_ZERO_TIME);
    CHECK(b.seen.empty());
    CHECK(e[0].delay == ns(2));
    // The non-idealities are really on: the ideal bitlines differ.
    IpConfig ideal;
    const CoreEval c_ideal = core_eval(keys, d, q, hp, ideal.numerics(), head, query, key_end,
                                       core::EmptyRowPolicy::Self);
    CHECK(v != c_ideal.bitlines);
}

TEST_CASE("module xbar: non-ideal keep-mask through the real comparators equals the core's") {
    IpConfig cfg;
    cfg.seed = 9;
    cfg.xbar.read_noise_sigma = 2.0;
    cfg.xbar.cell_variation_sigma = 0.15;
    cfg.xbar.stuck_at_zero_rate = 0.03;
    cfg.comparators.offset_sigma = 3.0;
    cfg.xbar.midpoint = false;  // so that a zero query drives nothing (below)
    XbarBench b(cfg);
    constexpr uint32_t d = 24, n = 40, head = 2;
    const auto keys = int8_rows(n, d, 11);
    const auto q = int8_rows(1, d, 12);
    const std::vector<int8_t> q_zero(d, 0);
    core::HeadParams hp;
    hp.threshold = 0.5f;
    hp.s_q = hp.s_k = 0.02f;
    std::vector<EvalResult> e;
    b.ctl.body = [&](TestInitiator& ctl) {
        const auto p = program(ctl, head, d, hp, 0, n, keys.data(), sc_core::SC_ZERO_TIME);
        sc_core::wait(p.delay);
        e.push_back(evaluate(ctl, head, d, q, 30, n, core::EmptyRowPolicy::Self,
                             sc_core::SC_ZERO_TIME, &b.mask));
        sc_core::wait(e.back().delay);
        // A zero query: only noise and offsets remain, nothing reaches the threshold, so the
        // Max policy picks the largest margin.
        e.push_back(evaluate(ctl, head, d, q_zero, 31, n, core::EmptyRowPolicy::Max,
                             sc_core::SC_ZERO_TIME, &b.mask));
    };
    sc_core::sc_start();

    REQUIRE(e.size() == 2);
    const CoreEval c0 =
        core_eval(keys, d, q, hp, cfg.numerics(), head, 30, n, core::EmptyRowPolicy::Self);
    CHECK(e[0].status == tlm::TLM_OK_RESPONSE);
    CHECK(e[0].mask == c0.mask);
    CHECK(e[0].kept == c0.kept);
    CHECK(e[0].forced == c0.forced);
    CHECK(c0.kept > 0);
    CHECK(c0.kept < n);
    const CoreEval c1 =
        core_eval(keys, d, q_zero, hp, cfg.numerics(), head, 31, n, core::EmptyRowPolicy::Max);
    CHECK(e[1].status == tlm::TLM_OK_RESPONSE);
    CHECK(c1.forced >= 0);
    CHECK(e[1].mask == c1.mask);
    CHECK(e[1].forced == c1.forced);
    CHECK(e[1].kept == 1);
    // 2 copy + 7 evaluate + ceil(40 / 64) = 1 read-out cycle; the Max search adds 8.
    CHECK(e[0].delay == ns(10));
    CHECK(e[1].delay == ns(18));
}

TEST_CASE("module xbar: a missing extension or a READ command is a command error") {
    IpConfig cfg = small_xbar();
    XbarStubBench b(cfg);
    std::vector<tlm::tlm_response_status> st;
    std::vector<sc_time> delays;
    b.ctl.body = [&](TestInitiator& ctl) {
        std::vector<int8_t> data(16 * kD, 1);
        sc_time d = ns(3);
        st.push_back(ctl.transport(Request{tlm::TLM_WRITE_COMMAND, 0, data.data(), 16}, d));
        delays.push_back(d);
        st.push_back(ctl.transport(Request{tlm::TLM_IGNORE_COMMAND, 0, nullptr, 0}, d));
        delays.push_back(d);
        // A READ carrying a valid Program command.
        proto::XbarCommand c;
        c.op = proto::XbarOp::Program;
        c.d = kD;
        c.key_count = 4;
        st.push_back(ctl.transport(Request{tlm::TLM_READ_COMMAND, 0, data.data(), 16}, d, &c));
        delays.push_back(d);
        // A READ carrying a valid Evaluate command (after a real program).
        const auto p = program(ctl, 0, kD, hand_params(), 0, kKeysN, kKeys.data(), d);
        st.push_back(p.status);
        d = p.delay;
        st.push_back(evaluate(ctl, 0, kD, kQuery, 0, kKeysN, core::EmptyRowPolicy::Self, d, nullptr,
                              tlm::TLM_READ_COMMAND)
                         .status);
    };
    sc_core::sc_start();

    REQUIRE(st.size() == 5);
    CHECK(st[0] == tlm::TLM_COMMAND_ERROR_RESPONSE);
    CHECK(st[1] == tlm::TLM_COMMAND_ERROR_RESPONSE);
    CHECK(st[2] == tlm::TLM_COMMAND_ERROR_RESPONSE);
    CHECK(st[3] == tlm::TLM_OK_RESPONSE);
    CHECK(st[4] == tlm::TLM_COMMAND_ERROR_RESPONSE);
    for (const auto& d : delays) CHECK(d == ns(3));
    CHECK(b.xbar.stats().count("programs") == 1);
    CHECK(b.xbar.stats().count("cell_writes") == kKeysN * kD);
    CHECK(b.xbar.stats().count("evaluations") == 0);
    CHECK(b.cmp.log.empty());
}

TEST_CASE(
    "module xbar: evaluate before program - d mismatch - key_end beyond capacity are generic "
    "errors") {
    IpConfig cfg = small_xbar();
    XbarStubBench b(cfg);
    bool fail_next = false;
    b.cmp.respond = [&](tlm::tlm_generic_payload& gp, sc_time&) {
        if (auto* cc = gp.get_extension<proto::CompareCommand>()) cc->kept_out = 1;
        if (fail_next) gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    };
    const auto k16 = int8_rows(16, 16, 3);
    const std::vector<int8_t> q8(8, 16), q16(16, 16);
    std::vector<std::pair<std::string, tlm::tlm_response_status>> st;
    b.ctl.body = [&](TestInitiator& ctl) {
        const sc_time z = sc_core::SC_ZERO_TIME;
        const core::HeadParams hp = hand_params();
        const auto P = core::EmptyRowPolicy::Self;
        st.emplace_back("evaluate before program", evaluate(ctl, 0, kD, kQuery, 0, 4, P, z).status);
        st.emplace_back("program 16 keys d4", program(ctl, 0, kD, hp, 0, 16, k16.data(), z).status);
        st.emplace_back("program past capacity",
                        program(ctl, 0, kD, hp, 14, 3, k16.data(), z).status);
        st.emplace_back("program d40 does not fit",
                        program(ctl, 0, 40, hp, 0, 1, k16.data(), z).status);
        st.emplace_back("program length", program(ctl, 0, kD, hp, 0, 2, k16.data(), z, 7).status);
        st.emplace_back("evaluate d mismatch", evaluate(ctl, 0, 8, q8, 0, 4, P, z).status);
        st.emplace_back("evaluate key_end 17", evaluate(ctl, 0, kD, kQuery, 0, 17, P, z).status);
        st.emplace_back("evaluate other head", evaluate(ctl, 1, kD, kQuery, 0, 4, P, z).status);
        st.emplace_back("evaluate query length",
                        evaluate(ctl, 0, kD, std::vector<int8_t>(3, 1), 0, 4, P, z).status);
        st.emplace_back("evaluate key_end 16", evaluate(ctl, 0, kD, kQuery, 0, 16, P, z).status);
        fail_next = true;
        st.emplace_back("comparator error", evaluate(ctl, 0, kD, kQuery, 0, 16, P, z).status);
        fail_next = false;
        // At d = 16 two row groups halve the capacity to 8 keys.
        st.emplace_back("program 8 keys d16", program(ctl, 0, 16, hp, 0, 8, k16.data(), z).status);
        st.emplace_back("evaluate d16 key_end 9", evaluate(ctl, 0, 16, q16, 0, 9, P, z).status);
        st.emplace_back("evaluate d16 key_end 8", evaluate(ctl, 0, 16, q16, 0, 8, P, z).status);
    };
    sc_core::sc_start();

    using tlm::TLM_GENERIC_ERROR_RESPONSE;
    using tlm::TLM_OK_RESPONSE;
    const std::vector<tlm::tlm_response_status> want = {
        TLM_GENERIC_ERROR_RESPONSE, TLM_OK_RESPONSE,
        TLM_GENERIC_ERROR_RESPONSE, TLM_GENERIC_ERROR_RESPONSE,
        TLM_GENERIC_ERROR_RESPONSE, TLM_GENERIC_ERROR_RESPONSE,
        TLM_GENERIC_ERROR_RESPONSE, TLM_GENERIC_ERROR_RESPONSE,
        TLM_GENERIC_ERROR_RESPONSE, TLM_OK_RESPONSE,
        TLM_GENERIC_ERROR_RESPONSE, TLM_OK_RESPONSE,
        TLM_GENERIC_ERROR_RESPONSE, TLM_OK_RESPONSE};
    REQUIRE(st.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO(st[i].first);
        CHECK(st[i].second == want[i]);
    }
    CHECK(b.cfg.xbar_capacity(kD) == 16);
    CHECK(b.cfg.xbar_capacity(16) == 8);
    CHECK(b.xbar.stats().count("programs") == 2);
    CHECK(b.xbar.stats().count("cell_writes") == 16 * kD + 8 * 16);
    // The three evaluates that reached the comparators.
    CHECK(b.cmp.log.size() == 3);
    CHECK(b.xbar.stats().count("evaluations") == 3);
}

TEST_CASE("module xbar: read-back returns the programmed top bits, stuck cells as they read") {
    IpConfig cfg;
    cfg.xbar.readback_cycles = 2;
    cfg.xbar.stuck_at_max_rate = 0.05;
    cfg.seed = 5;
    XbarStubBench b(cfg);
    const uint32_t d = 64, n = 40;
    const auto keys = int8_rows(n, d, 9);
    std::vector<int8_t> got(std::size_t(10) * d, 99);
    tlm::tlm_response_status st = tlm::TLM_INCOMPLETE_RESPONSE, wrong_head = st, too_far = st;
    sc_time at;
    b.ctl.body = [&](TestInitiator& ctl) {
        program(ctl, 3, d, hand_params(), 0, n, keys.data(), sc_core::SC_ZERO_TIME);
    };
    b.fetch.body = [&](TestInitiator& f) {
        sc_core::wait(1, sc_core::SC_US);  // after the programming
        auto read_back = [&](uint32_t head, uint32_t first, uint32_t count) {
            proto::XbarCommand c;
            c.op = proto::XbarOp::ReadBack;
            c.head = head;
            c.d = d;
            c.first_key = first;
            c.key_count = count;
            sc_time delay = sc_core::SC_ZERO_TIME;
            const auto s =
                f.transport(Request{tlm::TLM_READ_COMMAND, 0, got.data(), count * d}, delay, &c);
            at = delay;
            return s;
        };
        wrong_head = read_back(4, 0, 10);
        too_far = read_back(3, cfg.xbar_capacity(d) - 5, 10);
        st = read_back(3, 20, 10);
    };
    sc_core::sc_start();
    CHECK(wrong_head == tlm::TLM_GENERIC_ERROR_RESPONSE);
    CHECK(too_far == tlm::TLM_GENERIC_ERROR_RESPONSE);
    REQUIRE(st == tlm::TLM_OK_RESPONSE);
    CHECK(at == ns(2 * 10));  // readback_cycles per key column
    // The core's cells give the same codes: the key's top bits, or the top code where stuck.
    const core::XbarNumerics x = cfg.numerics();
    core::CellArray cells;
    cells.reset(n, int(d));
    cells.program(keys.data(), 0, int(n), 3, x);
    int stuck = 0;
    for (uint32_t c = 0; c < 10; ++c)
        for (uint32_t e = 0; e < d; ++e) {
            const int8_t k = keys[std::size_t(20 + c) * d + e];
            const int code = got[std::size_t(c) * d + e];
            CHECK(code == cells.read_msb(int(20 + c), int(e), x));
            if (code != core::key_msb(k, x.key_bits)) {
                ++stuck;
                CHECK(code == (1 << (x.key_bits - 1)) - 1);  // stuck at the top level
            }
        }
    CHECK(stuck > 0);
    CHECK(b.xbar.stats().count("keys_read_back") == 10);
}

TEST_CASE(
    "module xbar: heads in regions of whole tiles stay readable until their tiles are "
    "reprogrammed, with their own columns' defects") {
    IpConfig cfg = small_xbar();  // 16 keys at d = 4: four regions of one 4-key tile
    cfg.xbar.stuck_at_max_rate = 0.3;
    cfg.seed = 7;
    XbarStubBench b(cfg);
    const core::XbarNumerics x = cfg.numerics();
    REQUIRE(x.head_regions(4, kD) == 4);
    REQUIRE(x.head_base(5, 4, kD) == 4);
    const auto keys = int8_rows(4, kD, 21);
    std::vector<std::pair<std::string, tlm::tlm_response_status>> st;
    std::vector<int8_t> got1(4 * kD, 99);
    b.ctl.body = [&](TestInitiator& ctl) {
        const sc_time z = sc_core::SC_ZERO_TIME;
        auto prog = [&](uint32_t head, uint32_t base, uint32_t count) {
            proto::XbarCommand c;
            c.op = proto::XbarOp::Program;
            c.head = head;
            c.d = kD;
            c.params = hand_params();
            c.key_count = count;
            c.keys_total = count;
            c.column_base = base;
            sc_time d = z;
            return ctl.transport(
                Request{tlm::TLM_WRITE_COMMAND, 0, const_cast<int8_t*>(keys.data()), count * kD}, d,
                &c);
        };
        auto back = [&](uint32_t head, int8_t* out) {
            proto::XbarCommand c;
            c.op = proto::XbarOp::ReadBack;
            c.head = head;
            c.d = kD;
            c.key_count = 4;
            sc_time d = z;
            return b.fetch.transport(Request{tlm::TLM_READ_COMMAND, 0, out, 4 * kD}, d, &c);
        };
        std::vector<int8_t> scratch(4 * kD);
        st.emplace_back("program head 0 at column 0", prog(0, 0, 4));
        st.emplace_back("program head 1 at column 4", prog(1, 4, 4));
        st.emplace_back("evaluate head 0", evaluate(ctl, 0, kD, kQuery, 0, 4, {}, z).status);
        st.emplace_back("evaluate head 1", evaluate(ctl, 1, kD, kQuery, 0, 4, {}, z).status);
        st.emplace_back("read back head 0", back(0, scratch.data()));
        st.emplace_back("program head 4 at column 0", prog(4, 0, 4));
        st.emplace_back("read back head 0 after its tiles took head 4", back(0, scratch.data()));
        st.emplace_back("read back head 1", back(1, got1.data()));
        st.emplace_back("program at column 2 (not a tile's first)", prog(5, 2, 2));
        st.emplace_back("program 4 keys at column 14 (past the array)", prog(5, 14, 4));
    };
    sc_core::sc_start();

    using tlm::TLM_GENERIC_ERROR_RESPONSE;
    using tlm::TLM_OK_RESPONSE;
    const std::vector<tlm::tlm_response_status> want = {TLM_OK_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE};
    REQUIRE(st.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO(st[i].first);
        CHECK(st[i].second == want[i]);
    }
    // Head 1's cells are columns 4..7: their stuck cells, not those of columns 0..3.
    core::CellArray at4, at0;
    at4.reset(4, int(kD));
    at4.program(keys.data(), 0, 4, 1, x.for_head(1, 4, kD));
    at0.reset(4, int(kD));
    at0.program(keys.data(), 0, 4, 1, x);
    std::vector<int8_t> want4(4 * kD), want0(4 * kD);
    const uint32_t all[] = {0, 1, 2, 3};
    at4.read_back(all, 4, x, want4.data());
    at0.read_back(all, 4, x, want0.data());
    CHECK(got1 == want4);
    CHECK(want4 != want0);  // the defects do differ by column
    // Heads 0 and 1 took different tiles; head 4 rewrote head 0's: two writes at most.
    CHECK(b.xbar.stats().count("max_cell_writes") == 2);
}

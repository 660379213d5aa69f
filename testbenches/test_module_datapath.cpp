// Datapath on its own: a test initiator plays the controller (Begin / QkChunk / Softmax / VChunk /
// Finish); rows sit in a real SramBuffer filled through its from_fetcher port, or in a stub SRAM
// that records the reads. Outputs must be the bytes of core::RowEngine driven directly with the
// same rows. Timing: QK (V) = max(SRAM streaming, ceil(rows * d / lanes) cycles), softmax =
// softmax_latency + 2 * ceil(n / softmax_per_cycle) cycles, Begin 1 cycle, Finish ceil(d /
// v_lanes).
#include <catch2/catch.hpp>

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "core/row_engine.h"
#include "module_fixtures.h"
#include "modules/datapath.h"
#include "modules/sram_buffer.h"

using namespace sprint;
using namespace sprint::modtest;
using core::OutputFormat;
using core::SoftmaxKind;
using proto::Buffer;
using proto::DatapathOp;
using sc_core::sc_time;
using Tokens = std::vector<uint32_t>;

namespace {

// The controller's side: every call chains the annotated delay `t`.
struct Driver {
    TestInitiator& ctl;
    sc_time t = sc_core::SC_ZERO_TIME;
    uint32_t d = 0;
    std::vector<uint32_t> kept;

    explicit Driver(TestInitiator& c) : ctl(c) {}

    tlm::tlm_response_status call(proto::DatapathCommand& c, tlm::tlm_command cmd, void* data,
                                  unsigned len) {
        return ctl.transport(Request{cmd, 0, data, len}, t, &c);
    }
    tlm::tlm_response_status begin(const std::vector<int8_t>& q, double logit_scale, float s_v,
                                   SoftmaxKind k, OutputFormat o,
                                   tlm::tlm_command cmd = tlm::TLM_WRITE_COMMAND,
                                   unsigned len = ~0u) {
        d = uint32_t(q.size());
        proto::DatapathCommand c;
        c.op = DatapathOp::Begin;
        c.d = d;
        c.logit_scale = logit_scale;
        c.s_v = s_v;
        c.softmax = k;
        c.output = o;
        return call(c, cmd, const_cast<int8_t*>(q.data()), len == ~0u ? d : len);
    }
    tlm::tlm_response_status chunk(DatapathOp op, const Tokens& tokens, const Tokens& slots,
                                   tlm::tlm_command cmd = tlm::TLM_IGNORE_COMMAND) {
        proto::DatapathCommand c;
        c.op = op;
        c.tokens = tokens.data();
        c.slots = slots.data();
        c.count = uint32_t(tokens.size());
        return call(c, cmd, nullptr, 0);
    }
    tlm::tlm_response_status softmax(bool prune = false, double threshold = 0.0,
                                     core::EmptyRowPolicy p = core::EmptyRowPolicy::Self,
                                     uint32_t query = 0,
                                     tlm::tlm_command cmd = tlm::TLM_IGNORE_COMMAND) {
        proto::DatapathCommand c;
        c.op = DatapathOp::Softmax;
        c.prune = prune;
        c.threshold = threshold;
        c.empty_row = p;
        c.query = query;
        kept.clear();
        c.kept_out = &kept;
        return call(c, cmd, nullptr, 0);
    }
    tlm::tlm_response_status finish(std::vector<uint8_t>& out,
                                    tlm::tlm_command cmd = tlm::TLM_READ_COMMAND) {
        proto::DatapathCommand c;
        c.op = DatapathOp::Finish;
        return call(c, cmd, out.data(), unsigned(out.size()));
    }
};

// Datapath + real SRAM + an initiator that fills the SRAM as the fetcher would.
struct Bench {
    TraceScheduler tracer{"tracer"};
    SramBuffer sram;
    Datapath dp;
    TestInitiator ctl{"ctl"};
    TestInitiator filler{"filler"};
    TestInitiator allocator{"allocator"};  // the controller's reservations: unused here
    explicit Bench(const IpConfig& c) : sram("sram", c, tracer), dp("datapath", c, tracer) {
        allocator.socket.bind(sram.from_controller.socket);
        ctl.socket.bind(dp.from_controller.socket);
        dp.to_sram.bind(sram.from_datapath.socket);
        filler.socket.bind(sram.from_fetcher.socket);
    }
    void fill(Buffer b, uint32_t slot, const int8_t* row, uint32_t d) {
        sc_time z = sc_core::SC_ZERO_TIME;
        filler.write(proto::sram_address(b, slot, d), row, d, z);
    }
};

// A small attention row: 12 keys of d = 16, six of them kept, stored in scattered SRAM slots.
struct Row {
    static constexpr uint32_t d = 16, n = 12;
    std::vector<int8_t> q = int8_rows(1, d, 31), k = int8_rows(n, d, 32), v = int8_rows(n, d, 33);
    Tokens tokens = {1, 2, 3, 5, 8, 9};
    Tokens k_slots = {7, 8, 9, 2, 3, 0};
    Tokens v_slots = {4, 5, 0, 1, 2, 10};
    double logit_scale = 1e-4;
    float s_v = 0.05f;

    const int8_t* k_row(uint32_t t) const { return k.data() + t * d; }
    const int8_t* v_row(uint32_t t) const { return v.data() + t * d; }
    uint32_t k_slot(uint32_t t) const { return k_slots[index(t)]; }
    uint32_t v_slot(uint32_t t) const { return v_slots[index(t)]; }
    std::size_t index(uint32_t t) const {
        return std::size_t(std::find(tokens.begin(), tokens.end(), t) - tokens.begin());
    }
    Tokens k_slots_of(const Tokens& ts) const {
        Tokens s;
        for (uint32_t t : ts) s.push_back(k_slot(t));
        return s;
    }
    Tokens v_slots_of(const Tokens& ts) const {
        Tokens s;
        for (uint32_t t : ts) s.push_back(v_slot(t));
        return s;
    }
    void fill(Bench& b) const {
        for (uint32_t t : tokens) {
            b.fill(Buffer::K, k_slot(t), k_row(t), d);
            b.fill(Buffer::V, v_slot(t), v_row(t), d);
        }
    }
    // core::RowEngine driven directly; optionally pruned on chip first.
    std::vector<uint8_t> reference(SoftmaxKind kind, OutputFormat out, Tokens* kept = nullptr,
                                   const double* threshold = nullptr,
                                   core::EmptyRowPolicy p = core::EmptyRowPolicy::Self,
                                   uint32_t query = 0) const {
        core::RowEngine e;
        e.begin(q.data(), int(d), logit_scale, s_v, kind, out);
        for (uint32_t t : tokens) REQUIRE(e.score(t, k_row(t)));
        if (threshold) e.prune(*threshold, p, query);
        const Tokens use = e.softmax();
        for (uint32_t t : use) REQUIRE(e.accumulate(t, v_row(t)));
        std::vector<uint8_t> r(d * core::output_element_bytes(out));
        REQUIRE(e.finish(r.data()));
        if (kept) *kept = use;
        return r;
    }
};

std::vector<uint8_t> out_buffer(uint32_t d, OutputFormat o) {
    return std::vector<uint8_t>(d * core::output_element_bytes(o), 0xEE);
}

// One row in a single chunk each way, then the same row in several chunks: both must be the
// RowEngine's bytes.
void check_row_equals_engine(SoftmaxKind kind, OutputFormat fmt) {
    IpConfig cfg;
    Bench b(cfg);
    const Row row;
    std::vector<tlm::tlm_response_status> st;
    std::vector<uint8_t> one = out_buffer(row.d, fmt), many = out_buffer(row.d, fmt);
    Tokens kept_one, kept_many;
    b.ctl.body = [&](TestInitiator& ctl) {
        row.fill(b);
        Driver dr{ctl};
        st.push_back(dr.begin(row.q, row.logit_scale, row.s_v, kind, fmt));
        st.push_back(dr.chunk(DatapathOp::QkChunk, row.tokens, row.k_slots));
        st.push_back(dr.softmax());
        kept_one = dr.kept;
        st.push_back(dr.chunk(DatapathOp::VChunk, row.tokens, row.v_slots));
        st.push_back(dr.finish(one));

        st.push_back(dr.begin(row.q, row.logit_scale, row.s_v, kind, fmt));
        for (const Tokens& c : {Tokens{1, 2}, Tokens{3, 5, 8}, Tokens{9}})
            st.push_back(dr.chunk(DatapathOp::QkChunk, c, row.k_slots_of(c)));
        st.push_back(dr.softmax());
        kept_many = dr.kept;
        for (const Tokens& c : {Tokens{1}, Tokens{2, 3, 5}, Tokens{8, 9}})
            st.push_back(dr.chunk(DatapathOp::VChunk, c, row.v_slots_of(c)));
        st.push_back(dr.finish(many));
    };
    sc_core::sc_start();

    REQUIRE(st.size() == 5 + 9);
    for (auto s : st) CHECK(s == tlm::TLM_OK_RESPONSE);
    const std::vector<uint8_t> ref = row.reference(kind, fmt);
    CHECK(ref != std::vector<uint8_t>(ref.size(), 0));  // a meaningful row
    CHECK(one == ref);
    CHECK(many == ref);
    CHECK(kept_one == row.tokens);
    CHECK(kept_many == row.tokens);
    CHECK(b.dp.stats().count("rows_scored") == 12);
    CHECK(b.dp.stats().count("rows_accumulated") == 12);
    CHECK(b.dp.stats().count("rows_output") == 2);
    CHECK(b.dp.stats().count("qk_macs") == 12 * 16);
    CHECK(b.dp.stats().count("v_macs") == 12 * 16);
    CHECK(b.dp.stats().count("exp_ops") == 12);
    // fixed: one division per output element (2 rows x 16); prob8 and float: one per key
    CHECK(b.dp.stats().count("div_ops") == (kind == SoftmaxKind::Fixed ? 2 * 16 : 12));
    CHECK(b.dp.stats().count("score_peak") == 6);
    // One SRAM gather read per chunk: QK 1 + 3, V 1 + 3.
    CHECK(b.sram.stats().count("reads") == 8);
    CHECK(b.sram.stats().count("read_bytes") == 4 * 6 * 16);
}

}  // namespace

TEST_CASE(
    "module datapath: fixed softmax and float32 output equal RowEngine in one chunk or several") {
    check_row_equals_engine(SoftmaxKind::Fixed, OutputFormat::Float32);
}

TEST_CASE(
    "module datapath: fixed softmax and int16 output equal RowEngine in one chunk or several") {
    check_row_equals_engine(SoftmaxKind::Fixed, OutputFormat::Int16);
}

TEST_CASE(
    "module datapath: prob8 softmax and int16 output equal RowEngine in one chunk or several") {
    check_row_equals_engine(SoftmaxKind::Prob8, OutputFormat::Int16);
}

TEST_CASE(
    "module datapath: float softmax and float32 output equal RowEngine in one chunk or several") {
    check_row_equals_engine(SoftmaxKind::Float, OutputFormat::Float32);
}

TEST_CASE(
    "module datapath: float softmax and int16 output equal RowEngine in one chunk or several") {
    check_row_equals_engine(SoftmaxKind::Float, OutputFormat::Int16);
}

TEST_CASE("module datapath: on-chip pruning keeps what RowEngine prune keeps") {
    IpConfig cfg;
    Bench b(cfg);
    const Row row;
    // The median exact logit as threshold: about half the keys survive.
    std::vector<double> logits;
    for (uint32_t t : row.tokens)
        logits.push_back(core::dot_i8(row.q.data(), row.k_row(t), int(row.d)) * row.logit_scale);
    std::sort(logits.begin(), logits.end());
    const double median = logits[3], huge = 1e9;
    const auto fmt = OutputFormat::Float32;
    std::vector<tlm::tlm_response_status> st;
    std::vector<Tokens> kept;
    std::vector<std::vector<uint8_t>> out;
    b.ctl.body = [&](TestInitiator& ctl) {
        row.fill(b);
        Driver dr{ctl};
        const std::pair<double, core::EmptyRowPolicy> cases[] = {
            {median, core::EmptyRowPolicy::Self},
            {huge, core::EmptyRowPolicy::Self},  // nothing passes: token 4 is not visible, keep 3
            {huge, core::EmptyRowPolicy::Max}};
        for (const auto& [thr, pol] : cases) {
            st.push_back(dr.begin(row.q, row.logit_scale, row.s_v, SoftmaxKind::Fixed, fmt));
            st.push_back(dr.chunk(DatapathOp::QkChunk, row.tokens, row.k_slots));
            st.push_back(dr.softmax(true, thr, pol, 4));
            kept.push_back(dr.kept);
            st.push_back(dr.chunk(DatapathOp::VChunk, dr.kept, row.v_slots_of(dr.kept)));
            out.push_back(out_buffer(row.d, fmt));
            st.push_back(dr.finish(out.back()));
        }
    };
    sc_core::sc_start();

    REQUIRE(st.size() == 15);
    for (auto s : st) CHECK(s == tlm::TLM_OK_RESPONSE);
    REQUIRE(kept.size() == 3);
    Tokens want;
    CHECK(out[0] == row.reference(SoftmaxKind::Fixed, fmt, &want, &median));
    CHECK(kept[0] == want);
    CHECK(want.size() >= 3);
    CHECK(want.size() < 6);
    CHECK(out[1] ==
          row.reference(SoftmaxKind::Fixed, fmt, &want, &huge, core::EmptyRowPolicy::Self, 4));
    CHECK(kept[1] == Tokens{3});
    CHECK(kept[1] == want);
    CHECK(out[2] ==
          row.reference(SoftmaxKind::Fixed, fmt, &want, &huge, core::EmptyRowPolicy::Max, 4));
    CHECK(kept[2] == want);
    REQUIRE(kept[2].size() == 1);
    int32_t best = INT32_MIN;
    uint32_t best_t = 0;
    for (uint32_t t : row.tokens) {
        const int32_t s = core::dot_i8(row.q.data(), row.k_row(t), int(row.d));
        if (s > best) {
            best = s;
            best_t = t;
        }
    }
    CHECK(kept[2][0] == best_t);
    // exp and divide only for the keys that survived.
    CHECK(b.dp.stats().count("exp_ops") == kept[0].size() + 2);
    CHECK(b.dp.stats().count("rows_accumulated") == kept[0].size() + 2);
}

TEST_CASE("module datapath: one SRAM gather read per chunk, its slots in the RowGather") {
    IpConfig cfg;
    TraceScheduler tracer("tracer");
    Datapath dp("datapath", cfg, tracer);
    StubTarget sram("sram");
    TestInitiator ctl("ctl");
    ctl.socket.bind(dp.from_controller.socket);
    dp.to_sram.bind(sram.socket);
    const Row row;
    // The stub serves the rows from its own K and V images.
    std::vector<uint8_t> kmem(8192, 0), vmem(8192, 0);
    for (uint32_t t : row.tokens) {
        std::memcpy(&kmem[row.k_slot(t) * row.d], row.k_row(t), row.d);
        std::memcpy(&vmem[row.v_slot(t) * row.d], row.v_row(t), row.d);
    }
    std::vector<Tokens> gathered;
    sram.respond = [&](tlm::tlm_generic_payload& gp, sc_time&) {
        const auto& mem = gp.get_address() == proto::kSramVBase ? vmem : kmem;
        const auto* g = gp.get_extension<proto::RowGather>();
        REQUIRE(g);
        REQUIRE(g->row_bytes == row.d);
        REQUIRE(gp.get_data_length() == g->count * g->row_bytes);
        gathered.emplace_back(g->slots, g->slots + g->count);
        for (uint32_t i = 0; i < g->count; ++i)
            std::memcpy(gp.get_data_ptr() + i * row.d, &mem[g->slots[i] * row.d], row.d);
    };
    std::vector<tlm::tlm_response_status> st;
    std::vector<uint8_t> out = out_buffer(row.d, OutputFormat::Float32);
    ctl.body = [&](TestInitiator& c) {
        Driver dr{c};
        st.push_back(
            dr.begin(row.q, row.logit_scale, row.s_v, SoftmaxKind::Fixed, OutputFormat::Float32));
        st.push_back(dr.chunk(DatapathOp::QkChunk, row.tokens, row.k_slots));
        st.push_back(dr.softmax());
        st.push_back(dr.chunk(DatapathOp::VChunk, row.tokens, row.v_slots));
        st.push_back(dr.finish(out));
    };
    sc_core::sc_start();

    for (auto s : st) CHECK(s == tlm::TLM_OK_RESPONSE);
    CHECK(out == row.reference(SoftmaxKind::Fixed, OutputFormat::Float32));
    // One read of the six K rows at the K buffer's base, one of the six V rows at the V base,
    // wherever their slots lie.
    const std::vector<std::pair<uint64_t, std::size_t>> want = {{proto::kSramKBase, 6 * 16},
                                                                {proto::kSramVBase, 6 * 16}};
    std::vector<std::pair<uint64_t, std::size_t>> got;
    for (const auto& r : sram.log) {
        CHECK(r.cmd == tlm::TLM_READ_COMMAND);
        got.emplace_back(r.addr, r.data.size());
    }
    CHECK(got == want);
    CHECK(gathered == std::vector<Tokens>{row.k_slots, row.v_slots});
}

TEST_CASE("module datapath: QK - softmax - V - finish times and the counters") {
    IpConfig cfg;
    cfg.datapath.qk_lanes = 16;
    cfg.datapath.v_lanes = 64;
    cfg.datapath.softmax_per_cycle = 3;
    cfg.datapath.softmax_latency = 5;
    cfg.sram.bytes_per_cycle = 32;
    cfg.sram.access_cycles = 2;
    Bench b(cfg);  // the SRAM holds zeros: only the timing matters here
    std::vector<std::pair<std::string, sc_time>> t;
    std::vector<tlm::tlm_response_status> st;
    b.ctl.body = [&](TestInitiator& ctl) {
        Driver dr{ctl};
        auto step = [&](const char* what, tlm::tlm_response_status s) {
            st.push_back(s);
            t.emplace_back(what, dr.t);
        };
        std::vector<uint8_t> out64 = out_buffer(64, OutputFormat::Float32);
        std::vector<uint8_t> out32 = out_buffer(32, OutputFormat::Float32);
        // d = 64.
        step("begin d64", dr.begin(std::vector<int8_t>(64, 1), 1e-3, 1.0f, SoftmaxKind::Fixed,
                                   OutputFormat::Float32));
        // 5 rows in slots 0..4: one 320 B read, 2 + 10 = 12 cycles; 320 MACs / 16 = 20 cycles.
        step("qk compute-bound", dr.chunk(DatapathOp::QkChunk, {0, 1, 2, 3, 4}, {0, 1, 2, 3, 4}));
        // 5 + 2 * ceil(5 / 3) = 9 cycles.
        step("softmax 5", dr.softmax());
        // 5 rows in slots 0 2 4 6 8: one 320 B gather, 2 + 10 = 12 cycles; 320 / 64 = 5 cycles.
        step("v sram-bound", dr.chunk(DatapathOp::VChunk, {0, 1, 2, 3, 4}, {0, 2, 4, 6, 8}));
        step("finish d64", dr.finish(out64));  // ceil(64 / 64) = 1
        // d = 32.
        step("begin d32", dr.begin(std::vector<int8_t>(32, 1), 1e-3, 1.0f, SoftmaxKind::Fixed,
                                   OutputFormat::Float32));
        // 3 rows in slots 20 22 24: one 96 B gather, 2 + 3 = 5 cycles; 96 / 16 = 6 cycles.
        step("qk compute-bound", dr.chunk(DatapathOp::QkChunk, {0, 1, 2}, {20, 22, 24}));
        step("softmax 3", dr.softmax());  // 5 + 2 * 1 = 7
        // One 96 B read: 2 + 3 = 5 cycles; 96 / 64 -> 2 cycles.
        step("v sram-bound", dr.chunk(DatapathOp::VChunk, {0, 1, 2}, {0, 1, 2}));
        step("finish d32", dr.finish(out32));  // ceil(32 / 64) = 1
    };
    sc_core::sc_start();

    const std::vector<double> want = {1, 21, 30, 42, 43, 44, 50, 57, 62, 63};
    REQUIRE(t.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO(t[i].first);
        CHECK(st[i] == tlm::TLM_OK_RESPONSE);
        CHECK(t[i].second == ns(want[i]));
    }
    CHECK(b.dp.stats().count("qk_macs") == 5 * 64 + 3 * 32);
    CHECK(b.dp.stats().count("v_macs") == 5 * 64 + 3 * 32);
    CHECK(b.dp.stats().count("exp_ops") == 8);
    CHECK(b.dp.stats().count("div_ops") == 64 + 32);  // fixed: one per output element
    CHECK(b.dp.stats().count("rows_scored") == 8);
    CHECK(b.dp.stats().count("rows_accumulated") == 8);
    CHECK(b.dp.stats().count("rows_output") == 2);
    CHECK(b.dp.stats().count("score_peak") == 5);
    CHECK(b.dp.stats().real("qk_busy_ns") == Approx(20 + 6));
    CHECK(b.dp.stats().real("softmax_busy_ns") == Approx(9 + 7));
    CHECK(b.dp.stats().real("v_busy_ns") == Approx(5 + 2));
    CHECK(b.sram.stats().count("reads") == 4);
    CHECK(b.sram.stats().count("read_bytes") == 320 + 320 + 96 + 96);
    CHECK(b.dp.stats().value("rows_output") == 2);
}

TEST_CASE("module datapath: out-of-order tokens are a generic error") {
    IpConfig cfg;
    Bench b(cfg);
    const Row row;
    std::vector<std::pair<std::string, tlm::tlm_response_status>> st;
    b.ctl.body = [&](TestInitiator& ctl) {
        row.fill(b);
        Driver dr{ctl};
        auto begin = [&] {
            return dr.begin(row.q, row.logit_scale, row.s_v, SoftmaxKind::Fixed,
                            OutputFormat::Float32);
        };
        auto qk = [&](const Tokens& ts) {
            return dr.chunk(DatapathOp::QkChunk, ts, row.k_slots_of(ts));
        };
        auto v = [&](const Tokens& ts) {
            return dr.chunk(DatapathOp::VChunk, ts, row.v_slots_of(ts));
        };
        st.emplace_back("begin", begin());
        st.emplace_back("qk 3 2", qk({3, 2}));
        st.emplace_back("begin", begin());
        st.emplace_back("qk 1 2", qk({1, 2}));
        st.emplace_back("qk 2 3 after 1 2", qk({2, 3}));
        st.emplace_back("begin", begin());
        st.emplace_back("qk 1 2 3", qk({1, 2, 3}));
        st.emplace_back("v before softmax", v({1}));
        st.emplace_back("softmax", dr.softmax());
        st.emplace_back("v 2 first", v({2}));
        st.emplace_back("begin", begin());
        st.emplace_back("qk 1 2 3", qk({1, 2, 3}));
        st.emplace_back("softmax", dr.softmax());
        st.emplace_back("v 1 3", v({1, 3}));
    };
    sc_core::sc_start();

    using tlm::TLM_GENERIC_ERROR_RESPONSE;
    using tlm::TLM_OK_RESPONSE;
    const std::vector<tlm::tlm_response_status> want = {TLM_OK_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE};
    REQUIRE(st.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO(i << ": " << st[i].first);
        CHECK(st[i].second == want[i]);
    }
}

TEST_CASE("module datapath: more scores than score_entries is a generic error") {
    IpConfig cfg;
    cfg.datapath.score_entries = 4;
    Bench b(cfg);
    const Row row;
    std::vector<std::pair<std::string, tlm::tlm_response_status>> st;
    b.ctl.body = [&](TestInitiator& ctl) {
        row.fill(b);
        Driver dr{ctl};
        auto begin = [&] {
            return dr.begin(row.q, row.logit_scale, row.s_v, SoftmaxKind::Fixed,
                            OutputFormat::Float32);
        };
        auto qk = [&](const Tokens& ts) {
            return dr.chunk(DatapathOp::QkChunk, ts, row.k_slots_of(ts));
        };
        st.emplace_back("begin", begin());
        st.emplace_back("3 scores", qk({1, 2, 3}));
        st.emplace_back("2 more", qk({5, 8}));
        st.emplace_back("begin", begin());
        st.emplace_back("4 scores", qk({1, 2, 3, 5}));
        st.emplace_back("softmax over 4", dr.softmax());
        st.emplace_back("begin", begin());
        st.emplace_back("5 scores at once", qk({1, 2, 3, 5, 8}));
    };
    sc_core::sc_start();

    using tlm::TLM_GENERIC_ERROR_RESPONSE;
    using tlm::TLM_OK_RESPONSE;
    const std::vector<tlm::tlm_response_status> want = {
        TLM_OK_RESPONSE, TLM_OK_RESPONSE,           TLM_GENERIC_ERROR_RESPONSE,
        TLM_OK_RESPONSE, TLM_OK_RESPONSE,           TLM_OK_RESPONSE,
        TLM_OK_RESPONSE, TLM_GENERIC_ERROR_RESPONSE};
    REQUIRE(st.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO(i << ": " << st[i].first);
        CHECK(st[i].second == want[i]);
    }
    CHECK(b.dp.stats().count("score_peak") == 4);
}

TEST_CASE("module datapath: finish before all V rows or with a wrong buffer is a generic error") {
    IpConfig cfg;
    Bench b(cfg);
    const Row row;
    std::vector<std::pair<std::string, tlm::tlm_response_status>> st;
    std::vector<uint8_t> out = out_buffer(row.d, OutputFormat::Int16);
    std::vector<uint8_t> out_f32 = out_buffer(row.d, OutputFormat::Float32);
    b.ctl.body = [&](TestInitiator& ctl) {
        row.fill(b);
        Driver dr{ctl};
        const Tokens ts = {1, 2, 3};
        st.emplace_back("begin", dr.begin(row.q, row.logit_scale, row.s_v, SoftmaxKind::Fixed,
                                          OutputFormat::Int16));
        st.emplace_back("qk", dr.chunk(DatapathOp::QkChunk, ts, row.k_slots_of(ts)));
        st.emplace_back("finish before softmax", dr.finish(out));
        st.emplace_back("softmax", dr.softmax());
        st.emplace_back("v 1 2", dr.chunk(DatapathOp::VChunk, {1, 2}, row.v_slots_of({1, 2})));
        st.emplace_back("finish without v 3", dr.finish(out));
        st.emplace_back("v 3", dr.chunk(DatapathOp::VChunk, {3}, row.v_slots_of({3})));
        st.emplace_back("finish float32 length for int16", dr.finish(out_f32));
        st.emplace_back("finish as a write", dr.finish(out, tlm::TLM_WRITE_COMMAND));
        st.emplace_back("finish", dr.finish(out));
    };
    sc_core::sc_start();

    using tlm::TLM_GENERIC_ERROR_RESPONSE;
    using tlm::TLM_OK_RESPONSE;
    const std::vector<tlm::tlm_response_status> want = {TLM_OK_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_OK_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_GENERIC_ERROR_RESPONSE,
                                                        TLM_OK_RESPONSE};
    REQUIRE(st.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO(i << ": " << st[i].first);
        CHECK(st[i].second == want[i]);
    }
    CHECK(b.dp.stats().count("rows_output") == 1);
    // Same rows through RowEngine.
    core::RowEngine e;
    e.begin(row.q.data(), int(row.d), row.logit_scale, row.s_v, SoftmaxKind::Fixed,
            OutputFormat::Int16);
    for (uint32_t t : {1u, 2u, 3u}) e.score(t, row.k_row(t));
    e.softmax();
    for (uint32_t t : {1u, 2u, 3u}) e.accumulate(t, row.v_row(t));
    std::vector<uint8_t> ref(row.d * 2);
    REQUIRE(e.finish(ref.data()));
    CHECK(out == ref);
}

TEST_CASE("module datapath: chunk commands carried by READ or WRITE are command errors") {
    IpConfig cfg;
    Bench b(cfg);
    const Row row;
    std::vector<std::pair<std::string, tlm::tlm_response_status>> st;
    std::vector<sc_time> delays;
    bool unchanged = false;
    b.ctl.body = [&](TestInitiator& ctl) {
        row.fill(b);
        Driver dr{ctl};
        const Tokens ts = {1, 2};
        const Tokens sl = row.k_slots_of(ts);
        auto rec = [&](const char* what, tlm::tlm_response_status s) {
            st.emplace_back(what, s);
            delays.push_back(dr.t);
        };
        rec("begin",
            dr.begin(row.q, row.logit_scale, row.s_v, SoftmaxKind::Fixed, OutputFormat::Float32));
        const sc_time after_begin = dr.t;
        rec("qk as read", dr.chunk(DatapathOp::QkChunk, ts, sl, tlm::TLM_READ_COMMAND));
        rec("qk as write", dr.chunk(DatapathOp::QkChunk, ts, sl, tlm::TLM_WRITE_COMMAND));
        rec("softmax as read",
            dr.softmax(false, 0, core::EmptyRowPolicy::Self, 0, tlm::TLM_READ_COMMAND));
        rec("v as write", dr.chunk(DatapathOp::VChunk, ts, sl, tlm::TLM_WRITE_COMMAND));
        std::vector<uint8_t> buf(16);
        sc_time d = dr.t;
        rec("no extension", ctl.transport(Request{tlm::TLM_WRITE_COMMAND, 0, buf.data(), 16}, d));
        rec("no extension ignore", ctl.transport(Request{}, d));
        rec("begin as read", dr.begin(row.q, row.logit_scale, row.s_v, SoftmaxKind::Fixed,
                                      OutputFormat::Float32, tlm::TLM_READ_COMMAND));
        rec("begin short", dr.begin(row.q, row.logit_scale, row.s_v, SoftmaxKind::Fixed,
                                    OutputFormat::Float32, tlm::TLM_WRITE_COMMAND, 15));
        rec("begin d 0",
            dr.begin({}, row.logit_scale, row.s_v, SoftmaxKind::Fixed, OutputFormat::Float32));
        // Nothing above consumed time or changed the row: a proper QK still works.
        unchanged = dr.t == after_begin;
        rec("qk", dr.chunk(DatapathOp::QkChunk, ts, sl));
    };
    sc_core::sc_start();

    using namespace tlm;
    const std::vector<tlm_response_status> want = {TLM_OK_RESPONSE,
                                                   TLM_COMMAND_ERROR_RESPONSE,
                                                   TLM_COMMAND_ERROR_RESPONSE,
                                                   TLM_COMMAND_ERROR_RESPONSE,
                                                   TLM_COMMAND_ERROR_RESPONSE,
                                                   TLM_COMMAND_ERROR_RESPONSE,
                                                   TLM_COMMAND_ERROR_RESPONSE,
                                                   TLM_GENERIC_ERROR_RESPONSE,
                                                   TLM_GENERIC_ERROR_RESPONSE,
                                                   TLM_GENERIC_ERROR_RESPONSE,
                                                   TLM_OK_RESPONSE};
    REQUIRE(st.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO(i << ": " << st[i].first);
        CHECK(st[i].second == want[i]);
    }
    CHECK(unchanged);
    for (std::size_t i = 1; i + 1 < delays.size(); ++i) CHECK(delays[i] == delays[0]);
    CHECK(b.dp.stats().count("rows_scored") == 2);
    CHECK(b.dp.stats().count("qk_macs") == 2 * 16);
}

TEST_CASE(
    "module datapath: a chunk with counts serves several contexts, each its own RowEngine, "
    "every row read once") {
    // Three queries of a block share the row's six keys; query c sees the first 6, 4 and 2 of
    // them (a causal block). One QK chunk and one V chunk carry them all.
    IpConfig cfg;
    Bench b(cfg);
    const Row row;
    const std::vector<std::vector<int8_t>> qs = {row.q, int8_rows(1, Row::d, 41),
                                                 int8_rows(1, Row::d, 42)};
    const Tokens counts = {6, 4, 2};
    std::vector<tlm::tlm_response_status> st;
    std::vector<std::vector<uint8_t>> outs(3, out_buffer(Row::d, OutputFormat::Float32));
    std::vector<Tokens> kept(3);
    uint64_t sram_reads_before = 0, sram_reads_after = 0;
    b.ctl.body = [&](TestInitiator& ctl) {
        row.fill(b);
        Driver dr{ctl};
        auto with = [&](proto::DatapathCommand c, uint32_t ctx) {
            c.context = ctx;
            return c;
        };
        for (uint32_t c = 0; c < 3; ++c) {
            proto::DatapathCommand cmd;
            cmd.op = DatapathOp::Begin;
            cmd.d = Row::d;
            cmd.logit_scale = row.logit_scale;
            cmd.s_v = row.s_v;
            cmd = with(cmd, c);
            st.push_back(
                dr.call(cmd, tlm::TLM_WRITE_COMMAND, const_cast<int8_t*>(qs[c].data()), Row::d));
        }
        proto::DatapathCommand chunk;
        chunk.tokens = row.tokens.data();
        chunk.count = 6;
        chunk.counts = counts.data();
        chunk.contexts = 3;
        chunk.op = DatapathOp::QkChunk;
        chunk.slots = row.k_slots.data();
        sram_reads_before = b.sram.stats().count("read_bytes");
        st.push_back(dr.call(chunk, tlm::TLM_IGNORE_COMMAND, nullptr, 0));
        sram_reads_after = b.sram.stats().count("read_bytes");
        for (uint32_t c = 0; c < 3; ++c) {
            proto::DatapathCommand sm;
            sm.op = DatapathOp::Softmax;
            sm.context = c;
            sm.kept_out = &kept[c];
            st.push_back(dr.call(sm, tlm::TLM_IGNORE_COMMAND, nullptr, 0));
        }
        chunk.op = DatapathOp::VChunk;
        chunk.slots = row.v_slots.data();
        st.push_back(dr.call(chunk, tlm::TLM_IGNORE_COMMAND, nullptr, 0));
        for (uint32_t c = 0; c < 3; ++c) {
            proto::DatapathCommand f;
            f.op = DatapathOp::Finish;
            f.context = c;
            st.push_back(
                dr.call(f, tlm::TLM_READ_COMMAND, outs[c].data(), unsigned(outs[c].size())));
        }
        // a context the datapath does not have is refused
        proto::DatapathCommand bad;
        bad.op = DatapathOp::Finish;
        bad.context = cfg.datapath.contexts;
        st.push_back(dr.call(bad, tlm::TLM_READ_COMMAND, outs[0].data(), unsigned(outs[0].size())));
    };
    sc_core::sc_start();

    REQUIRE(st.size() == 3 + 1 + 3 + 1 + 3 + 1);
    for (std::size_t i = 0; i + 1 < st.size(); ++i) CHECK(st[i] == tlm::TLM_OK_RESPONSE);
    CHECK(st.back() == tlm::TLM_GENERIC_ERROR_RESPONSE);
    for (uint32_t c = 0; c < 3; ++c) {
        core::RowEngine e;
        e.begin(qs[c].data(), int(Row::d), row.logit_scale, row.s_v, SoftmaxKind::Fixed,
                OutputFormat::Float32);
        for (uint32_t i = 0; i < counts[c]; ++i)
            REQUIRE(e.score(row.tokens[i], row.k_row(row.tokens[i])));
        const Tokens use = e.softmax();
        for (uint32_t t : use) REQUIRE(e.accumulate(t, row.v_row(t)));
        std::vector<uint8_t> r(Row::d * 4);
        REQUIRE(e.finish(r.data()));
        INFO("context " << c);
        CHECK(outs[c] == r);
        CHECK(kept[c] == Tokens(row.tokens.begin(), row.tokens.begin() + counts[c]));
    }
    // the six K rows were read once for the three contexts, and the MACs are 6 + 4 + 2 rows
    CHECK(sram_reads_after - sram_reads_before == 6 * Row::d);
    CHECK(b.dp.stats().count("qk_macs") == (6 + 4 + 2) * Row::d);
    CHECK(b.dp.stats().count("rows_scored") == 12);
}

TEST_CASE(
    "module datapath: an online block's exchanges move every context's state at once - malformed "
    "ones are generic errors") {
    // Two contexts of a block on one key-interleaved unit (online tiles of 16: one tile), seeing
    // the first 6 and 4 of the row's keys: their maxima out, the tile entered with them, the V
    // rows weighed, the tile partials read out (then zeroed) and merged back in.
    IpConfig cfg;
    Bench b(cfg);
    const Row row;
    const Tokens counts = {6, 4}, active = {1, 1};
    std::vector<tlm::tlm_response_status> st, bad;
    std::vector<int32_t> mx(2);
    std::vector<uint8_t> any(2);
    std::vector<core::RowEngine::Partial> parts(2), again(2);
    std::vector<uint8_t> wire(2 * (Row::d + 1) * 8);
    b.ctl.body = [&](TestInitiator& ctl) {
        row.fill(b);
        Driver dr{ctl};
        for (uint32_t c = 0; c < 2; ++c) {
            proto::DatapathCommand cmd;
            cmd.op = DatapathOp::Begin;
            cmd.d = Row::d;
            cmd.logit_scale = row.logit_scale;
            cmd.s_v = row.s_v;
            cmd.softmax_tile = 16;
            cmd.context = c;
            st.push_back(
                dr.call(cmd, tlm::TLM_WRITE_COMMAND, const_cast<int8_t*>(row.q.data()), Row::d));
        }
        proto::DatapathCommand c;
        c.tokens = row.tokens.data();
        c.count = 6;
        c.counts = counts.data();
        c.contexts = 2;
        c.op = DatapathOp::QkChunk;
        c.slots = row.k_slots.data();
        st.push_back(dr.call(c, tlm::TLM_IGNORE_COMMAND, nullptr, 0));
        proto::DatapathCommand x;
        x.contexts = 2;
        x.counts = active.data();
        x.op = DatapathOp::EnterTile;  // no maxima given
        bad.push_back(dr.call(x, tlm::TLM_IGNORE_COMMAND, nullptr, 0));
        x.op = DatapathOp::LocalMax;
        x.maxes_out = mx.data();
        x.anys_out = any.data();
        st.push_back(dr.call(x, tlm::TLM_IGNORE_COMMAND, nullptr, 0));
        x.op = DatapathOp::EnterTile;
        x.run_maxes = mx.data();
        st.push_back(dr.call(x, tlm::TLM_IGNORE_COMMAND, nullptr, 0));
        c.op = DatapathOp::VChunk;
        c.slots = row.v_slots.data();
        st.push_back(dr.call(c, tlm::TLM_IGNORE_COMMAND, nullptr, 0));
        x.op = DatapathOp::Partial;
        x.partials_out = parts.data();
        bad.push_back(dr.call(x, tlm::TLM_READ_COMMAND, wire.data(), unsigned(wire.size() - 8)));
        st.push_back(dr.call(x, tlm::TLM_READ_COMMAND, wire.data(), unsigned(wire.size())));
        x.partials_out = again.data();  // zeroed by the first read-out
        st.push_back(dr.call(x, tlm::TLM_READ_COMMAND, wire.data(), unsigned(wire.size())));
        x.op = DatapathOp::Merge;
        x.partials_in = parts.data();
        bad.push_back(dr.call(x, tlm::TLM_READ_COMMAND, wire.data(), unsigned(wire.size())));
        st.push_back(dr.call(x, tlm::TLM_WRITE_COMMAND, wire.data(), unsigned(wire.size())));
        x.counts = nullptr;  // a block command names its contexts
        bad.push_back(dr.call(x, tlm::TLM_WRITE_COMMAND, wire.data(), unsigned(wire.size())));
    };
    sc_core::sc_start();

    for (auto s : st) CHECK(s == tlm::TLM_OK_RESPONSE);
    REQUIRE(bad.size() == 4);
    for (auto s : bad) CHECK(s == tlm::TLM_GENERIC_ERROR_RESPONSE);
    for (uint32_t k = 0; k < 2; ++k) {
        INFO("context " << k);
        core::RowEngine e;  // the same context driven directly
        e.begin(row.q.data(), int(Row::d), row.logit_scale, row.s_v, SoftmaxKind::Fixed,
                OutputFormat::Float32);
        e.set_online(16);
        for (uint32_t i = 0; i < counts[k]; ++i)
            REQUIRE(e.score(row.tokens[i], row.k_row(row.tokens[i])));
        int32_t m = 0;
        REQUIRE(e.local_max(m));
        CHECK(any[k] == 1);
        CHECK(mx[k] == m);
        REQUIRE(e.enter_tile_shared(0, m, false));
        for (uint32_t i = 0; i < counts[k]; ++i)
            REQUIRE(e.accumulate(row.tokens[i], row.v_row(row.tokens[i])));
        const core::RowEngine::Partial p = e.take_partial();
        CHECK(parts[k].acc == p.acc);
        CHECK(parts[k].sum == p.sum);
        CHECK(p.sum > 0);
        CHECK(again[k].sum == 0);
    }
    CHECK(b.dp.stats().count("merge_adds") == 2 * (Row::d + 1));
}

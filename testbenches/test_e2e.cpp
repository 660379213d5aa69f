// End to end on the standalone platform: the host places a workload in memory, programs the IP,
// waits for the interrupt and reads the output back. The bytes the IP wrote must equal the core's
// bit-exact reference (c) for every shape and option; with nothing pruned the output must agree
// with dense float attention to int8-quantisation accuracy. One SystemC elaboration per test case.
#include <catch2/catch.hpp>

#include <cstring>
#include <deque>
#include <set>

#include "core/metrics.h"
#include "harness.h"
#include "modules/compute_unit.h"

using namespace sprint;

namespace {

struct Run {
    platform::JobResult result;
    std::vector<uint8_t> out;
    core::KeepMasks masks;
    std::vector<Fetcher::LoadRecord> loads;
    std::vector<std::string> violations;
    uint64_t checked = 0;
    uint64_t fetcher_read_bytes = 0, fetcher_write_bytes = 0, dram_read_bytes = 0,
             dram_write_bytes = 0, dmi_accesses = 0, k_rows = 0, v_rows = 0;
    // Per compute unit: output rows produced, K rows scored, bytes written into its buffers.
    std::vector<uint64_t> unit_rows_output, unit_rows_scored, unit_sram_writes;
    uint64_t xbar_evaluations = 0, xbar_cell_writes = 0, xbar_read_back = 0;
};

Run run_one(const core::QuantizedWorkload& w, const core::JobOptions& opt,
            platform::PlatformConfig cfg) {
    Run r;
    r.masks.reset(w.q.heads, w.q.n);
    platform::StandalonePlatform p(cfg, [&](platform::Host& host) {
        const platform::JobDesc j = host.place(w, opt, cfg.dram_base);
        r.result = host.run_job(j, sc_core::sc_time(10, sc_core::SC_SEC));
        r.out = host.read_output(j);
    });
    p.sprint.fetcher.record_loads(true);
    p.sprint.controller.set_kept_observer(
        [&](uint32_t h, uint32_t i, const std::vector<uint32_t>& kept) {
            for (uint32_t t : kept) r.masks.row(int(h), int(i))[t] = 1;
        });
    sc_core::sc_start();
    r.loads = p.sprint.fetcher.load_log();
    r.violations = p.protocol_violations();
    r.checked = p.protocol_transactions();
    r.fetcher_read_bytes = p.sprint.stats().count("fetcher.mem_read_bytes");
    r.fetcher_write_bytes = p.sprint.stats().count("fetcher.mem_write_bytes");
    r.dram_read_bytes = p.dram.counters().read_bytes;
    r.dram_write_bytes = p.dram.counters().write_bytes;
    r.dmi_accesses = p.sprint.stats().count("fetcher.dmi_accesses");
    r.k_rows = p.sprint.stats().count("fetcher.rows_fetched_k");
    r.v_rows = p.sprint.stats().count("fetcher.rows_fetched_v");
    r.xbar_evaluations = p.sprint.stats().count("xbar.evaluations");
    r.xbar_cell_writes = p.sprint.stats().count("xbar.cell_writes");
    r.xbar_read_back = p.sprint.stats().count("xbar.keys_read_back");
    for (uint32_t u = 0; u < cfg.ip.units; ++u) {
        const std::string n = unit_name(u);
        r.unit_rows_output.push_back(p.sprint.stats().count(n + ".datapath.rows_output"));
        r.unit_rows_scored.push_back(p.sprint.stats().count(n + ".datapath.rows_scored"));
        r.unit_sram_writes.push_back(p.sprint.stats().count(n + ".sram.write_bytes"));
    }
    return r;
}

core::JobOptions options(core::Mode m = core::Mode::Sprint, bool causal = false) {
    core::JobOptions o;
    o.mode = m;
    o.causal = causal;
    return o;
}

// Run and require the IP's bytes to equal the core's, and its kept sets to equal the core's masks.
Run check_bit_exact(const core::QuantizedWorkload& w, const core::JobOptions& opt,
                    platform::PlatformConfig cfg) {
    const Run r = run_one(w, opt, cfg);
    CHECK(r.checked > 0);
    CHECK(r.violations == std::vector<std::string>{});
    REQUIRE(r.result.completed);
    REQUIRE(r.result.error == regs::ErrorCode::None);
    core::KeepMasks ref_masks;
    const auto ref =
        core::reference_output(w, cfg.ip.job_options(opt, uint32_t(w.q.n), uint32_t(w.q.d)),
                               cfg.ip.numerics(), &ref_masks);
    REQUIRE(r.out.size() == ref.size());
    CHECK(r.out == ref);
    CHECK(r.masks.bits == ref_masks.bits);
    uint64_t kept = 0;
    for (uint8_t b : ref_masks.bits) kept += b;
    CHECK(r.result.kept_keys == kept);
    return r;
}

}  // namespace

TIMED_TEST_CASE(
    "e2e sprint: bit-exact - 2 heads - N=200 (not a multiple of the 128-key tile) - d=64") {
    check_bit_exact(test::make_workload(2, 200, 64, 0.15, false), options(),
                    test::small_platform(mode));
}

TIMED_TEST_CASE("e2e sprint: bit-exact - d=128 - N=300") {
    check_bit_exact(test::make_workload(1, 300, 128, 0.1, false), options(),
                    test::small_platform(mode));
}

TIMED_TEST_CASE("e2e sprint: bit-exact - causal - 3 heads - N=257") {
    check_bit_exact(test::make_workload(3, 257, 64, 0.2, true), options(core::Mode::Sprint, true),
                    test::small_platform(mode));
}

TIMED_TEST_CASE(
    "e2e sprint: padding - queries and keys past valid_len are skipped - rows stay zero") {
    const auto w = test::make_workload(2, 160, 64, 0.2, false, 97);
    const Run r = check_bit_exact(w, options(), test::small_platform(mode));
    for (int h = 0; h < 2; ++h)
        for (int i = 97; i < 160; ++i) {
            for (int j = 0; j < 160; ++j) REQUIRE(r.masks.row(h, i)[j] == 0);
            const uint8_t* row = &r.out[(std::size_t(h) * 160 + i) * 64 * 4];
            for (int b = 0; b < 64 * 4; ++b) REQUIRE(row[b] == 0);
        }
    for (int h = 0; h < 2; ++h)
        for (int i = 0; i < 97; ++i)
            for (int j = 97; j < 160; ++j) REQUIRE(r.masks.row(h, i)[j] == 0);
    // No row past the valid length was ever fetched.
    CHECK(r.result.k_rows_fetched <= 2 * 97);
}

TIMED_TEST_CASE(
    "e2e sprint: the query-max rule - bit-exact, its masks the core's, unlike the head rule's") {
    auto cfg = test::small_platform(mode);
    cfg.ip.comparators.rule = "query-max";
    const auto w = test::make_workload(2, 150, 64, 0.15, true, 0, 3, cfg.ip.numerics());
    const Run r = check_bit_exact(w, options(core::Mode::Sprint, true), cfg);
    REQUIRE(r.masks.n == 150);
    const core::KeepMasks same =
        core::reference_masks(w, options(core::Mode::Sprint, true), cfg.ip.numerics());
    core::XbarNumerics head = cfg.ip.numerics();
    head.query_max = false;
    const core::KeepMasks other = core::reference_masks(w, options(core::Mode::Sprint, true), head);
    uint64_t differ = 0, kept = 0;
    for (int h = 0; h < 2; ++h)
        for (int i = 0; i < 150; ++i)
            for (int j = 0; j <= i; ++j) {
                CHECK(r.masks.row(h, i)[j] == same.row(h, i)[j]);
                differ += r.masks.row(h, i)[j] != other.row(h, i)[j];
                kept += r.masks.row(h, i)[j];
            }
    CHECK(differ > 0);
    CHECK(kept > 0);
}

TIMED_TEST_CASE("e2e sprint: causal with padding - several heads") {
    check_bit_exact(test::make_workload(4, 130, 64, 0.3, true, 111),
                    options(core::Mode::Sprint, true), test::small_platform(mode));
}

TIMED_TEST_CASE(
    "e2e sprint: kept rows that overflow the buffers are processed in chunks - still bit-exact") {
    auto cfg = test::small_platform(mode);
    cfg.ip.sram.k_bytes = 1024;  // 16 rows of d=64
    cfg.ip.sram.v_bytes = 640;   // 10 rows
    const auto w = test::make_workload(2, 300, 64, 0.3, false);
    const Run r = check_bit_exact(w, options(), cfg);
    // Every query kept more rows than a buffer holds, so it went in half-buffer chunks (8 K rows,
    // 5 V rows) that the fetch stage double-buffers.
    std::size_t max_k = 0, max_v = 0;
    for (const auto& l : r.loads)
        (l.buffer == proto::Buffer::K ? max_k : max_v) =
            std::max<std::size_t>(l.buffer == proto::Buffer::K ? max_k : max_v, l.requested);
    CHECK(max_k == 8);
    CHECK(max_v == 5);
}

TIMED_TEST_CASE("e2e sprint: float softmax - int16 output - empty-row policy max") {
    auto w = test::make_workload(2, 180, 64, 0.05, false);
    w.heads[1].threshold = 1e6f;  // nothing passes: every query keeps its highest-scoring key
    core::JobOptions o = options();
    o.softmax = core::SoftmaxKind::Float;
    o.output = core::OutputFormat::Int16;
    o.empty_row = core::EmptyRowPolicy::Max;
    const Run r = check_bit_exact(w, o, test::small_platform(mode));
    for (int i = 0; i < 180; ++i) {
        int kept = 0;
        for (int j = 0; j < 180; ++j) kept += r.masks.row(1, i)[j];
        REQUIRE(kept == 1);
    }
}

TIMED_TEST_CASE(
    "e2e sprint: crossbar and comparator non-idealities - bit-exact with the same seed") {
    auto cfg = test::small_platform(mode);
    cfg.ip.xbar.read_noise_sigma = 3.0;
    cfg.ip.xbar.cell_variation_sigma = 0.1;
    cfg.ip.xbar.stuck_at_zero_rate = 0.01;
    cfg.ip.xbar.stuck_at_max_rate = 0.01;
    cfg.ip.comparators.offset_sigma = 2.0;
    cfg.ip.seed = 99;
    const auto w = test::make_workload(2, 150, 64, 0.1, false);
    const Run noisy = check_bit_exact(w, options(), cfg);
    const auto ideal = core::reference_masks(w, options(), core::XbarNumerics{});
    CHECK(noisy.masks.bits != ideal.bits);  // the non-idealities changed some decisions
}

TIMED_TEST_CASE("e2e dense: bit-exact and - with nothing pruned - close to dense float attention") {
    const auto w = test::make_workload(2, 200, 64, 0.1, false);
    const Run r = check_bit_exact(w, options(core::Mode::Dense), test::small_platform(mode));
    std::vector<uint32_t> valid(2, 200);
    core::SyntheticSpec s;
    s.heads = 2;
    s.n = 200;
    s.d = 64;
    s.seed = 7;
    const auto f = core::generate_synthetic(s);
    const auto dense = core::dense_float_attention(f.q, f.k, f.v, valid, false);
    double cos = 0, rel = 0;
    core::output_error(core::decode_output(r.out, core::OutputFormat::Float32, 2, 200, 64, w.heads),
                       dense, cos, rel);
    // Fixed point: int8 inputs and 8-bit probabilities (1/255 steps) bound the agreement.
    CHECK(cos > 0.995);
    CHECK(rel < 0.10);
    // Blocks of 8 queries (the datapath's contexts; the score buffer would hold 20 rows of 200)
    // stream their 200 keys through the 128-row K buffer in half-buffer chunks of 64, two under
    // way at once: each chunk evicts the oldest rows, so no row survives until the next block
    // needs it and every row is fetched once per block: 25 blocks per head.
    CHECK(r.result.k_rows_fetched == 2ull * 25 * 200);
    CHECK(r.result.v_rows_fetched == 2ull * 25 * 200);
}

TIMED_TEST_CASE("e2e dense-stream: bit-exact and every query streams all its rows") {
    // The same arithmetic per query as dense (both equal the core's one dense reference); only
    // the dataflow differs. Each query streams its 200 keys through the 128-row buffer: nothing
    // survives to the next, 8 times the rows dense fetches with its blocks of 8 (test above).
    const auto w = test::make_workload(2, 200, 64, 0.1, false);
    const Run r = check_bit_exact(w, options(core::Mode::DenseStream), test::small_platform(mode));
    CHECK(r.result.k_rows_fetched == 2ull * 200 * 200);
    CHECK(r.result.v_rows_fetched == 2ull * 200 * 200);
}

TIMED_TEST_CASE("e2e dense with float softmax: agrees with dense float to int8 accuracy") {
    const auto w = test::make_workload(1, 128, 64, 0.1, true);
    core::JobOptions o = options(core::Mode::Dense, true);
    o.softmax = core::SoftmaxKind::Float;
    const Run r = check_bit_exact(w, o, test::small_platform(mode));
    core::SyntheticSpec s;
    s.heads = 1;
    s.n = 128;
    s.d = 64;
    s.seed = 7;
    const auto f = core::generate_synthetic(s);
    const auto dense = core::dense_float_attention(f.q, f.k, f.v, {128}, true);
    double cos = 0, rel = 0;
    core::output_error(core::decode_output(r.out, core::OutputFormat::Float32, 1, 128, 64, w.heads),
                       dense, cos, rel);
    // Only int8 quantisation of Q, K, V is left (~0.4% per element, a few % on the logits).
    CHECK(cos > 0.999);
    CHECK(rel < 0.05);
}

TIMED_TEST_CASE(
    "e2e onchip-prune: kept sets equal exact-score pruning - all K fetched - only kept V") {
    const auto w = test::make_workload(2, 200, 64, 0.1, false);
    const Run r = check_bit_exact(w, options(core::Mode::OnchipPrune), test::small_platform(mode));
    core::JobOptions ex = options(core::Mode::OnchipPrune);
    const auto exact = core::reference_masks(w, ex, core::XbarNumerics{});
    CHECK(r.masks.bits == exact.bits);
    CHECK(r.result.k_rows_fetched == 2ull * 200 * 200);  // as dense: see above
    CHECK(r.result.v_rows_fetched < r.result.k_rows_fetched / 2);
}

TIMED_TEST_CASE(
    "e2e: rows fetched per query equal an independent count of kept-and-not-resident rows") {
    // Independent model of the K buffer: LRU over whole queries' kept sets.
    auto cfg = test::small_platform(mode);
    cfg.ip.sram.k_bytes = 64 * 96;  // 96 rows: one query's kept rows fit, the sequence does not
    const auto w = test::make_workload(1, 400, 64, 0.08, false);
    const Run r = check_bit_exact(w, options(), cfg);
    std::deque<uint32_t> lru;  // front = least recently used
    std::vector<uint32_t> expected;
    for (int i = 0; i < 400; ++i) {
        std::vector<uint32_t> kept;
        for (int j = 0; j < 400; ++j)
            if (r.masks.row(0, i)[j]) kept.push_back(uint32_t(j));
        REQUIRE(kept.size() <= 96);
        uint32_t misses = 0;
        std::set<uint32_t> want(kept.begin(), kept.end());
        for (uint32_t t : kept) {
            auto it = std::find(lru.begin(), lru.end(), t);
            if (it != lru.end()) {
                lru.erase(it);
                lru.push_back(t);
            }
        }
        for (uint32_t t : kept) {
            if (std::find(lru.begin(), lru.end(), t) != lru.end()) continue;
            ++misses;
            if (lru.size() == 96) {
                auto victim = std::find_if(lru.begin(), lru.end(),
                                           [&](uint32_t x) { return !want.count(x); });
                lru.erase(victim);
            }
            lru.push_back(t);
        }
        expected.push_back(misses);
    }
    // The log is in completion order (loads overlap in AT): index it by query.
    std::vector<uint32_t> got(400, ~0u);
    for (const auto& l : r.loads)
        if (l.buffer == proto::Buffer::K) got[l.query] = l.fetched;
    CHECK(got == expected);
    uint64_t total = 0;
    for (uint32_t m : expected) total += m;
    CHECK(total > 400);  // rows were evicted and fetched again: the buffer really was too small
}

TIMED_TEST_CASE("e2e: memory traffic is counted from the transactions that happened") {
    const auto w = test::make_workload(2, 200, 64, 0.1, false);
    const Run r = check_bit_exact(w, options(), test::small_platform(mode));
    // The memory model saw exactly what the fetcher issued; the registers report the same.
    CHECK(r.dram_read_bytes == r.fetcher_read_bytes);
    CHECK(r.dram_write_bytes == r.fetcher_write_bytes);
    CHECK(r.result.mem_read_bytes == r.fetcher_read_bytes);
    CHECK(r.result.mem_write_bytes == r.fetcher_write_bytes);
    CHECK(r.result.k_rows_fetched == r.k_rows);
    CHECK(r.result.v_rows_fetched == r.v_rows);
    // Reads: K programming + Q rows + head table + fetched rows; writes: the outputs.
    const uint64_t expect_rd = 2ull * 200 * 64 /*K for the crossbar*/ + 2ull * 200 * 64 /*Q*/ +
                               2 * regs::kHeadEntryBytes + (r.k_rows + r.v_rows) * 64;
    CHECK(r.result.mem_read_bytes == expect_rd);
    CHECK(r.result.mem_write_bytes == 2ull * 200 * 64 * 4);
}

TIMED_TEST_CASE("e2e: DMI on the mem port gives the same output and the same byte counts") {
    auto cfg = test::small_platform(mode);
    cfg.ip.fetcher.use_dmi = true;
    const auto w = test::make_workload(2, 200, 64, 0.1, false);
    const Run r = check_bit_exact(w, options(), cfg);
    CHECK(r.dmi_accesses > 0);
    CHECK(r.dram_read_bytes < r.fetcher_read_bytes);  // most reads bypassed the memory's transport
}

// ---- compute units ------------------------------------------------------------------------------

namespace {

// Every mode on `units` compute units dealt whole queries: bit-exact (the same bytes as one unit:
// the core's reference), every unit busy with its share: in sprint mode (unit_org queries) query
// i of a head on unit i mod units, in dense mode query block b (of `contexts` queries) on unit b
// mod units.
void check_units(core::Mode m, uint32_t units, TimingMode mode, uint32_t run = 1) {
    auto cfg = test::small_platform(mode);
    cfg.ip.units = units;
    cfg.ip.controller.unit_run = run;
    cfg.ip.controller.unit_org = UnitOrg::Queries;
    const int heads = 2, n = 90;
    const auto w = test::make_workload(heads, n, 64, 0.15, true, 0, 11);
    const Run r = check_bit_exact(w, options(m, true), cfg);
    REQUIRE(r.unit_rows_output.size() == units);
    std::vector<uint64_t> expect(units, 0);
    // Runs of `run` queries (dense: whole blocks of `contexts`, at least one) per unit's turn.
    const uint32_t block = m == core::Mode::Dense ? cfg.ip.datapath.contexts : 1;
    const uint32_t per_turn = std::max(1u, run / block);
    for (int h = 0; h < heads; ++h)
        for (int i = 0; i < n; ++i) ++expect[(uint32_t(i) / block / per_turn) % units];
    uint64_t scored = 0;
    for (uint32_t u = 0; u < units; ++u) {
        INFO("unit " << u);
        CHECK(r.unit_rows_output[u] == expect[u]);
        CHECK(r.unit_rows_scored[u] > 0);
        CHECK(r.unit_sram_writes[u] > 0);
        scored += r.unit_rows_scored[u];
    }
    // Each unit scores the keys its own queries use: in sprint mode the kept pairs, no more.
    if (m == core::Mode::Sprint) CHECK(scored == r.result.kept_keys);
}

// Sprint (dense-stream, online dense) mode on `units` key-interleaved units (the default): the
// bytes of one unit (the core's reference computes the split the same way), every row written by
// unit 0, each unit scoring and fetching only its keys (j mod units), so no K row is fetched twice
// for one query.
void check_key_units(uint32_t units, TimingMode mode, core::SoftmaxKind kind,
                     core::Mode m = core::Mode::Sprint) {
    auto cfg = test::small_platform(mode);
    cfg.ip.units = units;
    const int heads = 2, n = 90;
    const auto w = test::make_workload(heads, n, 64, 0.15, true, 0, 11);
    auto opt = options(m, true);
    opt.softmax = kind;
    const Run r = check_bit_exact(w, opt, cfg);
    REQUIRE(r.unit_rows_output.size() == units);
    CHECK(r.unit_rows_output[0] == uint64_t(heads) * n);
    uint64_t scored = 0;
    for (uint32_t u = 0; u < units; ++u) {
        INFO("unit " << u);
        if (u) CHECK(r.unit_rows_output[u] == 0);
        CHECK(r.unit_rows_scored[u] > 0);
        scored += r.unit_rows_scored[u];
    }
    CHECK(scored == r.result.kept_keys);  // every kept pair scored once, by its key's unit
    // and the same bytes as one unit (integer kinds: a sum of integers in any order)
    if (kind != core::SoftmaxKind::Float)
        CHECK(r.out == core::reference_output(w, opt, cfg.ip.numerics()));  // opt: one unit
}

}  // namespace

TIMED_TEST_CASE("e2e units: sprint on 2 key-interleaved units - bit-exact, each unit its keys") {
    check_key_units(2, mode, core::SoftmaxKind::Fixed);
}
TIMED_TEST_CASE("e2e units: sprint on 3 key-interleaved units - bit-exact, each unit its keys") {
    check_key_units(3, mode, core::SoftmaxKind::Fixed);
}
TIMED_TEST_CASE("e2e units: sprint on 4 key-interleaved units, prob8 - bit-exact") {
    check_key_units(4, mode, core::SoftmaxKind::Prob8);
}
TIMED_TEST_CASE("e2e units: sprint on 4 key-interleaved units, float - bit-exact with the split") {
    check_key_units(4, mode, core::SoftmaxKind::Float);
}
TIMED_TEST_CASE(
    "e2e units: dense-stream on 3 key-interleaved units - bit-exact, each unit its keys") {
    check_key_units(3, mode, core::SoftmaxKind::Fixed, core::Mode::DenseStream);
}
TIMED_TEST_CASE(
    "e2e units: dense (online softmax) on 3 key-interleaved units - bit-exact, the one-unit "
    "bytes") {
    check_key_units(3, mode, core::SoftmaxKind::Fixed, core::Mode::Dense);
}
TIMED_TEST_CASE("e2e units: dense on 4 key-interleaved units, float - bit-exact with the split") {
    check_key_units(4, mode, core::SoftmaxKind::Float, core::Mode::Dense);
}
TIMED_TEST_CASE("e2e units: sprint on 2 units - bit-exact - queries dealt out in turn") {
    check_units(core::Mode::Sprint, 2, mode);
}
TIMED_TEST_CASE("e2e units: sprint on 3 units - bit-exact - queries dealt out in turn") {
    check_units(core::Mode::Sprint, 3, mode);
}
TIMED_TEST_CASE("e2e units: sprint on 4 units - bit-exact - queries dealt out in turn") {
    check_units(core::Mode::Sprint, 4, mode);
}
TIMED_TEST_CASE("e2e units: dense on 3 units - bit-exact - query blocks dealt out in turn") {
    check_units(core::Mode::Dense, 3, mode);
}
TIMED_TEST_CASE("e2e units: sprint on 3 units in runs of 5 queries - bit-exact") {
    check_units(core::Mode::Sprint, 3, mode, 5);
}
TIMED_TEST_CASE("e2e units: dense on 2 units in runs of 16 queries (2 blocks) - bit-exact") {
    check_units(core::Mode::Dense, 2, mode, 16);
}
TIMED_TEST_CASE("e2e units: dense-stream on 2 units - bit-exact") {
    check_units(core::Mode::DenseStream, 2, mode);
}
TIMED_TEST_CASE("e2e units: onchip-prune on 2 units - bit-exact - V fetched by each unit") {
    check_units(core::Mode::OnchipPrune, 2, mode);
}

// ---- K-MSB read-back ----------------------------------------------------------------------------

TIMED_TEST_CASE("e2e read-back: K top bits from the crossbar - 3 heads - 2 units - bit-exact") {
    auto cfg = test::small_platform(mode);
    cfg.ip.units = 2;
    core::JobOptions o = options(core::Mode::Sprint, true);
    o.k_readback = true;
    const auto w = test::make_workload(3, 200, 64, 0.15, true);
    const Run r = check_bit_exact(w, o, cfg);
    // Every fetched K row got its top bits from the crossbar: one read-back each.
    CHECK(r.k_rows > 0);
    CHECK(r.k_rows == r.result.k_rows_fetched);
}

TIMED_TEST_CASE("e2e read-back: stuck cells reach the datapath through the read-back") {
    auto cfg = test::small_platform(mode);
    cfg.ip.xbar.stuck_at_zero_rate = 0.02;
    cfg.ip.seed = 3;
    core::JobOptions o = options();
    o.k_readback = true;
    const auto w = test::make_workload(1, 150, 64, 0.15, false);
    // Bit-exact against the reference that reads the same cells back ...
    const Run r = check_bit_exact(w, o, cfg);
    // ... which differs from whole K rows fetched from memory: the stuck cells' codes are wrong.
    core::JobOptions whole = o;
    whole.k_readback = false;
    CHECK(r.out != core::reference_output(w, whole, cfg.ip.numerics()));
}

// ---- crossbar passes ----------------------------------------------------------------------------

namespace {

// A head of 300 keys on an array of 2 tiles x 64 columns (128 keys a pass: 3 passes), with
// comparator offsets, stuck cells and read noise, which depend on the column a key sits in.
Run check_passes(TimingMode mode, bool causal, core::EmptyRowPolicy policy) {
    auto cfg = test::small_platform(mode);
    cfg.ip.xbar.tile_cols = 64;
    cfg.ip.xbar.tiles = 2;
    cfg.ip.xbar.stuck_at_zero_rate = 0.01;
    cfg.ip.xbar.read_noise_sigma = 2.0;
    cfg.ip.comparators.offset_sigma = 4.0;
    cfg.ip.seed = 21;
    core::JobOptions o = options(core::Mode::Sprint, causal);
    o.empty_row = policy;
    o.k_readback = true;  // not used by a head in passes: whole K rows
    const auto w = test::make_workload(2, 300, 64, 0.05, causal, 0, 5, cfg.ip.numerics());
    const Run r = check_bit_exact(w, o, cfg);
    CHECK(r.k_rows == r.result.k_rows_fetched);
    return r;
}

}  // namespace

TIMED_TEST_CASE("e2e passes: a head longer than the crossbar is scored in passes - bit-exact") {
    const Run r = check_passes(mode, false, core::EmptyRowPolicy::Max);
    // Every query sees all 300 keys: 3 evaluations each, 3 Q row reads per query.
    CHECK(r.xbar_evaluations == 2u * 300 * 3);
    CHECK(r.xbar_cell_writes == 2u * 300 * 64);  // each key programmed once, in its pass
    CHECK(r.xbar_read_back == 0u);
}

TIMED_TEST_CASE("e2e passes: causal - queries skip the passes they cannot see - bit-exact") {
    const Run r = check_passes(mode, true, core::EmptyRowPolicy::Self);
    // Query i sees keys 0..i: passes 0 (all), 1 (i >= 128), 2 (i >= 256).
    CHECK(r.xbar_evaluations == 2u * (300 + 172 + 44));
}

// ---- ADC read-out -------------------------------------------------------------------------------

TIMED_TEST_CASE("e2e adc: 5-bit ADC read-out against the threshold - bit-exact") {
    auto cfg = test::small_platform(mode);
    cfg.ip.comparators.adc_bits = 5;
    cfg.ip.comparators.adc_full_scale = 6.0;
    cfg.ip.comparators.offset_sigma = 3.0;
    const auto w = test::make_workload(2, 160, 64, 0.1, false);
    const Run r = check_bit_exact(w, options(core::Mode::Sprint, false), cfg);
    // The coarse codes move keys across the threshold: not the comparators' masks.
    auto comparators = cfg.ip;
    comparators.comparators.adc_bits = 0;
    CHECK(r.masks.bits != core::reference_masks(w, options(), comparators.numerics()).bits);
}

TIMED_TEST_CASE("e2e adc: top-k read-out keeps k keys a query - across crossbar passes") {
    auto cfg = test::small_platform(mode);
    cfg.ip.comparators.adc_bits = 6;
    cfg.ip.comparators.adc_topk = 12;
    cfg.ip.xbar.tile_cols = 32;
    cfg.ip.xbar.tiles = 2;  // 64 keys a pass: 200 keys in 4 passes
    const auto w = test::make_workload(1, 200, 64, 0.1, true);
    const Run r = check_bit_exact(w, options(core::Mode::Sprint, true), cfg);
    uint64_t want = 0;  // causal: query i sees i + 1 keys, keeps min(12, i + 1)
    for (uint64_t i = 0; i < 200; ++i) want += std::min<uint64_t>(12, i + 1);
    CHECK(r.result.kept_keys == want);
}

// The score buffer holds the scores of the contexts between Begin and Finish, nothing older. A
// 1024-entry buffer with 8 contexts: a head of 100 keys runs in blocks of 8 (800 scores), one of
// 400 keys in blocks of 2 (800). Before a finished context gave its room back, the 400-key head
// after a 100-key one (in one job, or in the next job) found 6 x 100 stale scores and its QK
// chunk was refused (ERR_CODE 10, Internal); so was a sprint query keeping 420 keys after a dense
// job left 7 contexts full.
TIMED_TEST_CASE("e2e dense: heads and jobs of different valid lengths share the score buffer") {
    auto cfg = test::small_platform(mode);
    cfg.ip.datapath.score_entries = 1024;
    cfg.ip.datapath.contexts = 8;
    auto mixed = test::make_workload(3, 400, 32, 0.5, false);
    mixed.heads[0].valid_len = 100;  // head 0: blocks of 8, head 1: blocks of 2, head 2: of 3
    mixed.heads[2].valid_len = 300;
    const auto short_heads = test::make_workload(2, 400, 32, 0.5, false, 100);
    const auto long_heads = test::make_workload(2, 400, 32, 0.5, false, 400);
    const auto sprint_heads = test::make_workload(1, 600, 32, 0.7, false);  // ~420 kept
    struct Job {
        const core::QuantizedWorkload* w;
        core::Mode m;
    };
    const std::vector<Job> jobs = {{&mixed, core::Mode::Dense},
                                   {&short_heads, core::Mode::Dense},
                                   {&long_heads, core::Mode::Dense},
                                   {&short_heads, core::Mode::Dense},
                                   {&sprint_heads, core::Mode::Sprint}};
    std::vector<std::string> wrong;
    platform::StandalonePlatform p(cfg, [&](platform::Host& h) {
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            const core::JobOptions opt = options(jobs[i].m);
            const platform::JobDesc j = h.place(*jobs[i].w, opt, cfg.dram_base);
            const auto r = h.run_job(j, sc_core::sc_time(10, sc_core::SC_SEC));
            if (!r.ok())
                wrong.push_back("job " + std::to_string(i) + ": " + regs::to_string(r.error));
            else if (h.read_output(j) != core::reference_output(*jobs[i].w, opt, cfg.ip.numerics()))
                wrong.push_back("job " + std::to_string(i) + ": output differs");
        }
    });
    sc_core::sc_start();
    CHECK(wrong == std::vector<std::string>{});
    CHECK(p.protocol_violations() == std::vector<std::string>{});
}

// Every documented key width (sprint.xbar.key_bits 1 to 8) runs bit-exact with and without K-MSB
// read-back, one job each on one platform. With 8 bits the crossbar holds the whole key: the
// read-back is the key and no low bits are fetched (before, 8 crashed in core::pack_key_lsbs and in
// the fetcher's burst plan).
namespace {
void key_bits_case(TimingMode mode, int bits) {
    auto cfg = test::small_platform(mode);
    cfg.ip.xbar.key_bits = bits;
    const auto w = test::make_workload(2, 96, 32, 0.2, false, 0, 7, cfg.ip.numerics());
    std::vector<std::string> wrong;
    uint64_t readback_bytes = 0, plain_bytes = 0;
    platform::StandalonePlatform p(cfg, [&](platform::Host& host) {
        for (bool readback : {false, true}) {
            core::JobOptions o = options(core::Mode::Sprint);
            o.k_readback = readback;
            const platform::JobDesc j = host.place(w, o, cfg.dram_base);
            const auto r = host.run_job(j, sc_core::sc_time(10, sc_core::SC_SEC));
            const std::string what = std::string(readback ? "read-back" : "whole rows") + ": ";
            if (!r.ok())
                wrong.push_back(what + regs::to_string(r.error));
            else if (host.read_output(j) != core::reference_output(w, o, cfg.ip.numerics()))
                wrong.push_back(what + "output differs from the core's");
            else if (r.k_rows_fetched == 0)
                wrong.push_back(what + "no K row fetched");
            (readback ? readback_bytes : plain_bytes) = r.mem_read_bytes;
        }
    });
    sc_core::sc_start();
    CHECK(wrong == std::vector<std::string>{});
    // Read-back fetches only the low bits of a K row: fewer bytes than whole rows, and with 8-bit
    // keys none at all (the K rows of the crossbar's programming are read either way).
    CHECK(readback_bytes < plain_bytes);
    CHECK(p.protocol_violations() == std::vector<std::string>{});
}
}  // namespace

TIMED_TEST_CASE("e2e key bits: 1-bit keys, with and without read-back - bit-exact") {
    key_bits_case(mode, 1);
}
TIMED_TEST_CASE("e2e key bits: 2-bit keys, with and without read-back - bit-exact") {
    key_bits_case(mode, 2);
}
TIMED_TEST_CASE("e2e key bits: 3-bit keys, with and without read-back - bit-exact") {
    key_bits_case(mode, 3);
}
TIMED_TEST_CASE("e2e key bits: 4-bit keys, with and without read-back - bit-exact") {
    key_bits_case(mode, 4);
}
TIMED_TEST_CASE("e2e key bits: 5-bit keys, with and without read-back - bit-exact") {
    key_bits_case(mode, 5);
}
TIMED_TEST_CASE("e2e key bits: 6-bit keys, with and without read-back - bit-exact") {
    key_bits_case(mode, 6);
}
TIMED_TEST_CASE("e2e key bits: 7-bit keys, with and without read-back - bit-exact") {
    key_bits_case(mode, 7);
}
TIMED_TEST_CASE("e2e key bits: 8-bit keys, with and without read-back - bit-exact") {
    key_bits_case(mode, 8);
}

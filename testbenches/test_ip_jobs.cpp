// Bad jobs: each fails with its error code in STATUS and the ERROR interrupt, before touching
// memory where the check allows it, and the IP then runs the next good job normally (bit-exact).
#include <catch2/catch.hpp>

#include <cstring>

#include "harness.h"

using namespace sprint;

namespace {

struct Outcome {
    platform::JobResult bad, good;
    bool good_exact = false;
    std::vector<std::string> violations;
};

// Place a good workload, run `mutate(job)` as a bad job, then the unmodified good job.
Outcome bad_then_good(const std::function<void(platform::Host&, platform::JobDesc&)>& mutate,
                      platform::PlatformConfig cfg, int n = 96, int d = 64) {
    const auto w = test::make_workload(2, n, d, 0.2, false);
    Outcome o;
    platform::StandalonePlatform p(cfg, [&](platform::Host& h) {
        const platform::JobDesc good = h.place(w, core::JobOptions{}, cfg.dram_base);
        platform::JobDesc bad = good;
        mutate(h, bad);
        o.bad = h.run_job(bad, sc_core::sc_time(1, sc_core::SC_SEC));
        // Restore anything the mutation wrote into memory, then run the good job.
        h.place(w, core::JobOptions{}, cfg.dram_base);
        o.good = h.run_job(good, sc_core::sc_time(1, sc_core::SC_SEC));
        o.good_exact = h.read_output(good) == core::reference_output(w, core::JobOptions{}, cfg.ip.numerics());
    });
    sc_core::sc_start();
    o.violations = p.protocol_violations();
    return o;
}

void check(const Outcome& o, regs::ErrorCode code) {
    REQUIRE(o.bad.completed);  // the interrupt came: no hang
    CHECK(o.bad.error == code);
    CHECK((o.bad.status & regs::STATUS_ERROR) != 0);
    CHECK((o.bad.status & (regs::STATUS_BUSY | regs::STATUS_DONE)) == 0);
    CHECK(o.bad.irq_status == regs::IRQ_ERROR);
    CHECK(o.good.ok());
    CHECK(o.good.irq_status == regs::IRQ_DONE);
    CHECK(o.good_exact);
    CHECK(o.violations == std::vector<std::string>{});  // an error response is not a protocol error
}

}  // namespace

TIMED_TEST_CASE("bad job: zero heads fails with BadShape and the IP recovers") {
    const auto o = bad_then_good([](platform::Host&, platform::JobDesc& j) { j.heads = 0; }, test::small_platform(mode));
    check(o, regs::ErrorCode::BadShape);
    CHECK(o.bad.mem_read_bytes == 0u);  // rejected before any memory access
}

TIMED_TEST_CASE("bad job: zero sequence length fails with BadShape") {
    check(bad_then_good([](platform::Host&, platform::JobDesc& j) { j.n = 0; }, test::small_platform(mode)), regs::ErrorCode::BadShape);
}

TIMED_TEST_CASE("bad job: mode 3 fails with BadMode") {
    const auto o = bad_then_good([](platform::Host&, platform::JobDesc& j) { j.raw_mode = 3; }, test::small_platform(mode));
    check(o, regs::ErrorCode::BadMode);
    CHECK(o.bad.mem_read_bytes == 0u);
}

TIMED_TEST_CASE("bad job: a sequence longer than the crossbar fails with SeqTooLong") {
    auto cfg = test::small_platform(mode);
    cfg.ip.xbar.tiles = 1;  // 128 keys
    check(bad_then_good([](platform::Host&, platform::JobDesc& j) { j.n = 129; }, cfg),
          regs::ErrorCode::SeqTooLong);
}

TIMED_TEST_CASE("bad job: a head dimension larger than the crossbar fails with DimTooLarge") {
    auto cfg = test::small_platform(mode);
    cfg.ip.xbar.tiles = 1;  // 128 rows: d = 129 needs two row groups
    check(bad_then_good([](platform::Host&, platform::JobDesc& j) { j.d = 129; }, cfg),
          regs::ErrorCode::DimTooLarge);
}

TIMED_TEST_CASE("bad job: a misaligned base fails with Misaligned") {
    check(bad_then_good([](platform::Host&, platform::JobDesc& j) { j.v += 8; }, test::small_platform(mode)), regs::ErrorCode::Misaligned);
}

TIMED_TEST_CASE("bad job: an output buffer past the end of memory fails with OutOfRange") {
    const auto cfg = test::small_platform(mode);
    check(bad_then_good([&](platform::Host&, platform::JobDesc& j) { j.out = cfg.dram_base + cfg.dram_bytes() - 4096; }, cfg),
          regs::ErrorCode::OutOfRange);
}

TIMED_TEST_CASE("bad job: an output overlapping the keys fails with Overlap") {
    check(bad_then_good([](platform::Host&, platform::JobDesc& j) { j.out = j.k + 64; }, test::small_platform(mode)), regs::ErrorCode::Overlap);
}

TIMED_TEST_CASE("bad job: a head table entry with valid_len above SEQ_LEN fails with BadHeadTable") {
    const auto o = bad_then_good([](platform::Host& h, platform::JobDesc& j) {
        const uint32_t bad = j.n + 1;
        h.mem_write(j.table + regs::kHeadEntryBytes + 16, &bad, 4);  // head 1
    }, test::small_platform(mode));
    check(o, regs::ErrorCode::BadHeadTable);
    // The front end reads head 1's entry while head 0's queries are still in the pipeline: the
    // job stops there, so at most head 0's rows were written.
    CHECK(o.bad.mem_write_bytes <= 96u * 64 * 4);
}

TIMED_TEST_CASE("bad job: a non-finite scale in the head table fails with BadHeadTable") {
    check(bad_then_good([](platform::Host& h, platform::JobDesc& j) {
              const float nan = std::nanf("");
              h.mem_write(j.table + 8, &nan, 4);
          }, test::small_platform(mode)),
          regs::ErrorCode::BadHeadTable);
}

TIMED_TEST_CASE("bad job: a memory error response mid-job fails with BusError") {
    auto cfg = test::small_platform(mode);
    cfg.ip.fetcher.window_base = 0;  // let the IP reach addresses the router does not map
    cfg.ip.fetcher.window_size = ~uint64_t(0);
    const auto o = bad_then_good([](platform::Host&, platform::JobDesc& j) { j.out = 0x4000'0000; }, cfg);
    check(o, regs::ErrorCode::BusError);
    CHECK(o.bad.mem_read_bytes > 0u);  // it failed while running, at the first output write
}

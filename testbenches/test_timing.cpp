// Timing that can be checked against first principles, in the approximately-timed mode:
//   memory-bound: dense attention with a datapath far faster than memory takes
//     bytes / bandwidth + latency; we require AT within 5% above that bound;
//   compute-bound: narrow datapath lanes with HBM2 take the datapath's own cycle count
//     (QK and V lanes, softmax throughput, summed per query); we require AT within 5% above it.
// Plus: random memory delays and back-pressure leave the output bit-exact; the stages overlap;
// the limit on outstanding memory requests holds.
#include <catch2/catch.hpp>

#include "harness.h"

using namespace sprint;

namespace {

struct Timed {
    platform::JobResult r;
    bool exact = false;
    uint64_t max_in_flight = 0, dram_max_queued = 0, dram_backpressure_ps = 0;
    double xbar_busy = 0, dp_busy = 0, fetch_busy = 0;
    std::vector<std::string> violations;
};

Timed run(const core::QuantizedWorkload& w, const core::JobOptions& opt,
          const platform::PlatformConfig& cfg) {
    Timed t;
    platform::StandalonePlatform p(cfg, [&](platform::Host& h) {
        const platform::JobDesc j = h.place(w, opt, cfg.dram_base);
        t.r = h.run_job(j, sc_core::sc_time(10, sc_core::SC_SEC));
        t.exact = h.read_output(j) == core::reference_output(w, opt, cfg.ip.numerics());
    });
    sc_core::sc_start();
    t.max_in_flight = p.sprint.stats().count("fetcher.max_in_flight");
    t.dram_max_queued = p.dram.counters().max_queued;
    t.dram_backpressure_ps = p.dram.counters().backpressure_ps;
    t.xbar_busy = p.sprint.stats().real("xbar.busy_ns");
    t.dp_busy = p.sprint.stats().real("unit_0.datapath.qk_busy_ns") +
                p.sprint.stats().real("unit_0.datapath.softmax_busy_ns") +
                p.sprint.stats().real("unit_0.datapath.v_busy_ns");
    t.fetch_busy = p.sprint.stats().real("fetcher.busy_ns");
    t.violations = p.protocol_violations();
    return t;
}

core::JobOptions dense(core::Mode m = core::Mode::Dense) {
    core::JobOptions o;
    o.mode = m;
    return o;
}

}  // namespace

TEST_CASE("timing AT: a memory-bound job takes bytes / bandwidth + latency within 5%") {
    auto cfg = test::small_platform(TimingMode::AT);
    cfg.ip.datapath.qk_lanes = cfg.ip.datapath.v_lanes = 1024;  // compute ~16x faster than memory
    cfg.ip.sram.bytes_per_cycle = 1024;
    const auto w = test::make_workload(1, 512, 64, 0.1, false);
    // dense-stream: every query streams all 512 K and V rows, so memory sets the pace
    const Timed t = run(w, dense(core::Mode::DenseStream), cfg);
    REQUIRE(t.r.ok());
    CHECK(t.exact);
    CHECK(t.violations == std::vector<std::string>{});
    const double bytes = double(t.r.mem_read_bytes + t.r.mem_write_bytes);
    const double bound_ns = bytes / cfg.dram.bandwidth_gbps + cfg.dram.latency_ns;  // GB/s = B/ns
    const double cycles_ns = double(t.r.cycles) * cfg.ip.clock_ns;
    INFO("bound " << bound_ns << " ns, AT " << cycles_ns << " ns");
    CHECK(cycles_ns >= bound_ns);
    CHECK(cycles_ns <= 1.05 * bound_ns);
}

TEST_CASE("timing AT: a compute-bound job takes the datapath's cycle count within 5%") {
    auto cfg = test::small_platform(TimingMode::AT);
    platform::MemoryConfig::apply_preset("hbm2", cfg.dram);
    const uint32_t lanes = 8, n = 256, d = 64;
    cfg.ip.datapath.qk_lanes = cfg.ip.datapath.v_lanes = lanes;
    const auto w = test::make_workload(1, n, d, 0.1, false);
    const Timed t = run(w, dense(), cfg);
    REQUIRE(t.r.ok());
    CHECK(t.exact);
    // Every query scores and accumulates all n rows: QK and V at `lanes` MACs a cycle, and the
    // softmax pipeline (latency + two passes at softmax_per_cycle).
    const auto& dp = cfg.ip.datapath;
    const double per_query =
        2.0 * (n * d / lanes) + dp.softmax_latency + 2.0 * (n / dp.softmax_per_cycle);
    const double bound = per_query * n;
    INFO("datapath bound " << bound << " cycles, AT " << t.r.cycles);
    CHECK(double(t.r.cycles) >= bound);
    CHECK(double(t.r.cycles) <= 1.05 * bound);
}

TEST_CASE("timing AT: random memory delays and back-pressure leave the output bit-exact") {
    auto cfg = test::small_platform(TimingMode::AT);
    cfg.dram.jitter_ns = 120.0;
    cfg.dram.queue_depth = 2;
    cfg.dram.seed = 20261128;
    const auto w = test::make_workload(2, 192, 64, 0.15, false);
    const Timed t = run(w, core::JobOptions{}, cfg);
    REQUIRE(t.r.ok());
    CHECK(t.exact);
    CHECK(t.violations == std::vector<std::string>{});
    CHECK(t.dram_max_queued == 2);      // the memory never held more than its queue
    CHECK(t.dram_backpressure_ps > 0);  // and END_REQ was withheld at times
}

TEST_CASE("timing AT: the stages overlap - the job is shorter than its engines' busy times added") {
    auto cfg = test::small_platform(TimingMode::AT);
    const auto w = test::make_workload(2, 256, 64, 0.1, false);
    const Timed t = run(w, core::JobOptions{}, cfg);
    REQUIRE(t.r.ok());
    CHECK(t.exact);
    const double job_ns = double(t.r.cycles) * cfg.ip.clock_ns;
    INFO("job " << job_ns << " ns; crossbar " << t.xbar_busy << ", datapath " << t.dp_busy
                << ", fetcher " << t.fetch_busy);
    CHECK(job_ns < t.xbar_busy + t.dp_busy + t.fetch_busy);
}

TEST_CASE("timing AT: outstanding memory requests reach but never pass max_outstanding") {
    auto cfg = test::small_platform(TimingMode::AT);
    cfg.ip.fetcher.max_outstanding = 4;
    const auto w = test::make_workload(1, 256, 64, 0.1, false);
    const Timed t = run(w, dense(), cfg);
    REQUIRE(t.r.ok());
    CHECK(t.exact);
    CHECK(t.max_in_flight == 4);
}

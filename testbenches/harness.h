// Shared helpers of the integration tests: small workloads, a platform run, reference results.
#pragma once

#include <cstdint>
#include <vector>

#include "core/calibration.h"
#include "core/quant.h"
#include "core/reference.h"
#include "core/workload.h"
#include "platforms/components/standalone_platform.h"

namespace sprint::test {

// A synthetic workload quantised, with thresholds calibrated to `keep` (ideal approximate scores).
inline core::QuantizedWorkload make_workload(int heads, int n, int d, double keep, bool causal,
                                             uint32_t valid_len = 0, uint64_t seed = 7,
                                             const core::XbarNumerics& x = {}) {
    core::SyntheticSpec s;
    s.heads = heads;
    s.n = n;
    s.d = d;
    s.seed = seed;
    const core::Workload w = core::generate_synthetic(s);
    core::QuantizedWorkload q{core::quantize_per_head(w.q),
                              core::quantize_per_head(w.k),
                              core::quantize_per_head(w.v),
                              {}};
    for (int h = 0; h < heads; ++h) {
        core::HeadParams hp;
        hp.s_q = q.q.scale[std::size_t(h)];
        hp.s_k = q.k.scale[std::size_t(h)];
        hp.s_v = q.v.scale[std::size_t(h)];
        hp.valid_len = valid_len ? valid_len : uint32_t(n);
        q.heads.push_back(hp);
        q.heads.back().threshold =
            core::calibrate_threshold(q, h, x, core::CalibrationSpec::fraction(keep, causal));
    }
    return q;
}

// A platform config with the IP's defaults, a small DRAM and the given timing mode.
inline platform::PlatformConfig small_platform(TimingMode mode = TimingMode::LT) {
    platform::PlatformConfig c;
    c.dram.size_mb = 64;
    c.ip.timing = mode;
    c.ip.check_protocol = true;  // every link checked in every platform test
    return c;
}

}  // namespace sprint::test

// A test case run twice, loosely timed and approximately timed (two ctest entries, one process
// each); the body sees `mode`.
#define SPRINT_CAT2(a, b) a##b
#define SPRINT_CAT(a, b) SPRINT_CAT2(a, b)
#define TIMED_TEST_CASE(name) TIMED_TEST_CASE_IMPL(name, SPRINT_CAT(timed_test_body_, __LINE__))
#define TIMED_TEST_CASE_IMPL(name, fn)       \
    static void fn(sprint::TimingMode mode); \
    TEST_CASE(name " - lt") {                \
        fn(sprint::TimingMode::LT);          \
    }                                        \
    TEST_CASE(name " - at") {                \
        fn(sprint::TimingMode::AT);          \
    }                                        \
    static void fn(sprint::TimingMode mode)

namespace sprint::test {}  // namespace sprint::test

// Threshold calibration (core/calibration.h) and the crossbar's mid-point mapping: the share kept
// is the target on the scores the keep rule really compares, and the in-memory scores are
// unbiased.
#include <algorithm>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "core/calibration.h"
#include "core/crossbar.h"
#include "core/keep_rule.h"
#include "core/quant.h"
#include "core/reference.h"
#include "core/row_engine.h"
#include "core/workload.h"

using namespace sprint::core;

namespace {

struct Fixture {
    Workload f;
    QuantizedWorkload w;
};

Fixture make(int heads, int n, int d, uint64_t seed) {
    SyntheticSpec s;
    s.heads = heads;
    s.n = n;
    s.d = d;
    s.seed = seed;
    Fixture x;
    x.f = generate_synthetic(s);
    x.w = {quantize_per_head(x.f.q), quantize_per_head(x.f.k), quantize_per_head(x.f.v), {}};
    for (int h = 0; h < heads; ++h) {
        HeadParams hp;
        hp.s_q = x.w.q.scale[std::size_t(h)];
        hp.s_k = x.w.k.scale[std::size_t(h)];
        hp.s_v = x.w.v.scale[std::size_t(h)];
        hp.valid_len = uint32_t(n);
        x.w.heads.push_back(hp);
    }
    return x;
}

JobOptions options(Mode m, bool causal) {
    JobOptions o;
    o.mode = m;
    o.causal = causal;
    return o;
}

// The ideal comparator margin of (h, i, j), written out here: with mid-point reconstruction
// sum_e (q_dac + 1/2)(k_msb + 1/2), else sum_e q_dac * k_msb (kb/qb-bit codes, arithmetic shifts).
double margin(const QuantizedWorkload& w, int h, int i, int j, bool midpoint, int kb = 4,
              int qb = 4) {
    double s = 0.0;
    const double half = midpoint ? 0.5 : 0.0;
    for (int e = 0; e < w.q.d; ++e)
        s += (double(int(w.q.row(h, i)[e]) >> (8 - qb)) + half) *
             (double(int(w.k.row(h, j)[e]) >> (8 - kb)) + half);
    return s;
}

// Pairs of head h (queries [0, nq)) whose ideal margin is at or above `threshold` (logits).
struct Count {
    long kept = 0, visible = 0;
    double fraction() const { return double(kept) / double(visible); }
};
Count count_margins(const QuantizedWorkload& w, int h, float threshold, bool causal,
                    const XbarNumerics& x, int nq = -1) {
    const HeadParams& hp = w.heads[std::size_t(h)];
    const double t_raw = threshold_raw({threshold, hp.s_q, hp.s_k, hp.s_v, hp.valid_len}, w.q.d, x);
    Count c;
    for (int i = 0; i < (nq < 0 ? w.q.n : nq); ++i)
        for (int j = 0; j < key_end(i, hp.valid_len, causal); ++j) {
            ++c.visible;
            c.kept += margin(w, h, i, j, x.midpoint, x.key_bits, x.query_bits) >= t_raw;
        }
    return c;
}

}  // namespace

TEST_CASE("core/calibration: keep-fraction thresholds hit the target on the comparator margins",
          "[core][calibration]") {
    // Ideal margins are multiples of 1/4; the threshold sits halfway between two distinct ones, so
    // the share kept is the target rounded up to a whole group of equal margins (< 1% of the
    // pairs at n = 128, d = 64).
    Fixture fx = make(2, 128, 64, 81);
    const XbarNumerics x;
    for (bool causal : {false, true})
        for (int h = 0; h < 2; ++h) {
            float prev_t = INFINITY;
            double prev_f = 0.0;
            for (double target : {0.02, 0.05, 0.1, 0.2, 0.5, 0.9, 1.0}) {
                const float t =
                    calibrate_threshold(fx.w, h, x, CalibrationSpec::fraction(target, causal));
                const Count c = count_margins(fx.w, h, t, causal, x);
                INFO("causal " << causal << " head " << h << " target " << target << " -> " << t
                               << ", kept " << c.fraction());
                CHECK(c.fraction() >= target - 0.5 / double(c.visible));
                CHECK(c.fraction() <= target + 0.01);
                // not on a margin: a small change of the threshold keeps the same pairs
                CHECK(count_margins(fx.w, h, t * (1 + 1e-5f), causal, x).kept == c.kept);
                CHECK(count_margins(fx.w, h, t * (1 - 1e-5f), causal, x).kept == c.kept);
                CHECK(t <= prev_t);
                CHECK(c.fraction() >= prev_f);
                prev_t = t;
                prev_f = c.fraction();
                // and the IP's masks (the reference) keep that share, plus empty rows filled
                fx.w.heads[std::size_t(h)].threshold = t;
                const KeepMasks m = reference_masks(fx.w, options(Mode::Sprint, causal), x);
                long mk = 0;
                for (int i = 0; i < 128; ++i)
                    for (int j = 0; j < 128; ++j) mk += m.row(h, i)[j];
                CHECK(mk >= c.kept);
                CHECK(mk <= c.kept + 128);
            }
            CHECK(prev_f == 1.0);
        }
}

TEST_CASE("core/calibration: the configured bit widths and mapping are used",
          "[core][calibration]") {
    Fixture fx = make(1, 64, 32, 91);
    for (bool midpoint : {true, false}) {
        XbarNumerics x;
        x.key_bits = 3;
        x.query_bits = 5;
        x.midpoint = midpoint;
        const float t = calibrate_threshold(fx.w, 0, x, CalibrationSpec::fraction(0.25));
        const Count c = count_margins(fx.w, 0, t, false, x);
        INFO("midpoint " << midpoint << " kept " << c.fraction());
        CHECK(c.fraction() >= 0.25);
        CHECK(c.fraction() <= 0.27);
    }
}

TEST_CASE("core/calibration: onchip-prune is calibrated on the exact scores it prunes on",
          "[core][calibration]") {
    Fixture fx = make(2, 128, 64, 5);
    for (double target : {0.03, 0.1, 0.3}) {
        for (int h = 0; h < 2; ++h)
            fx.w.heads[std::size_t(h)].threshold = calibrate_threshold(
                fx.w, h, {}, CalibrationSpec::fraction(target, true, Mode::OnchipPrune));
        long kept = 0, visible = 0;
        for (int h = 0; h < 2; ++h) {
            const HeadParams& hp = fx.w.heads[std::size_t(h)];
            const double scale = exact_logit_scale(hp, 64);
            for (int i = 0; i < 128; ++i)
                for (int j = 0; j <= i; ++j) {
                    ++visible;
                    kept += exact_keep(dot_i8(fx.w.q.row(h, i), fx.w.k.row(h, j), 64), scale,
                                       hp.threshold);
                }
        }
        const double f = double(kept) / double(visible);
        INFO("target " << target << " exact keep " << f);
        CHECK(f >= target);
        CHECK(f <= target + 0.005);
        // the same threshold through the comparator's margins would keep another share
        const float ta = calibrate_threshold(fx.w, 0, {}, CalibrationSpec::fraction(target, true));
        CHECK(ta != fx.w.heads[0].threshold);
    }
}

TEST_CASE("core/calibration: hardware calibration sees the non-idealities, ideal does not",
          "[core][calibration]") {
    Fixture fx = make(1, 128, 64, 17);
    XbarNumerics hw;
    hw.read_noise_sigma = 40.0;
    hw.comparator_offset_sigma = 20.0;
    hw.stuck_at_max_rate = 0.05;
    const double target = 0.1;
    auto sprint_keep = [&](float t) {
        fx.w.heads[0].threshold = t;
        const KeepMasks m = reference_masks(fx.w, options(Mode::Sprint, false), hw);
        long k = 0;
        for (uint8_t b : m.bits) k += b;
        return double(k) / (128.0 * 128.0);
    };
    CalibrationSpec c = CalibrationSpec::fraction(target);
    const double ideal = sprint_keep(calibrate_threshold(fx.w, 0, hw, c));
    c.on = CalibrateOn::Hardware;
    const double hard = sprint_keep(calibrate_threshold(fx.w, 0, hw, c));
    INFO("keep with the ideal threshold " << ideal << ", with the hardware one " << hard);
    CHECK(std::fabs(hard - target) <= 0.5 / 128.0 + 1e-9);  // the draws are the IP's own
    CHECK(std::fabs(ideal - target) > 0.02);
}

TEST_CASE("core/calibration: a mass target keeps that share of the dense softmax mass",
          "[core][calibration]") {
    Fixture fx = make(2, 128, 64, 23);
    for (Mode mode : {Mode::Sprint, Mode::OnchipPrune})
        for (double share : {0.5, 0.8, 0.95}) {
            JobOptions o = options(mode, false);
            for (int h = 0; h < 2; ++h)
                fx.w.heads[std::size_t(h)].threshold = calibrate_threshold(
                    fx.w, h, {}, CalibrationSpec::mass(share, false, mode), {&fx.f.q, &fx.f.k});
            const KeepMasks m = reference_masks(fx.w, o, {});
            double mass = 0.0;
            std::vector<double> p(128);
            for (int h = 0; h < 2; ++h)
                for (int i = 0; i < 128; ++i) {
                    const double sum = dense_softmax_row(fx.f.q, fx.f.k, h, i, 128, p.data());
                    for (int j = 0; j < 128; ++j)
                        mass += m.row(h, i)[j] ? p[std::size_t(j)] / sum : 0.0;
                }
            mass /= 256.0;
            INFO(to_string(mode) << " share " << share << " retained " << mass);
            CHECK(mass >= share - 1e-9);
            CHECK(mass <= share + 0.05);
        }
}

TEST_CASE("core/calibration: the calibration set is the first K queries", "[core][calibration]") {
    Fixture fx = make(1, 128, 64, 29);
    const XbarNumerics x;
    CalibrationSpec c = CalibrationSpec::fraction(0.1);
    c.queries = 16;
    const float t16 = calibrate_threshold(fx.w, 0, x, c);
    const Count first = count_margins(fx.w, 0, t16, false, x, 16);
    CHECK(first.fraction() >= 0.1);
    CHECK(first.fraction() <= 0.11);
    c.queries = 0;
    CHECK(calibrate_threshold(fx.w, 0, x, c) != t16);
    c.queries = 1000;  // more than there are: all of them
    CHECK(calibrate_threshold(fx.w, 0, x, c) == calibrate_threshold(fx.w, 0, x, {}));
}

TEST_CASE("core/crossbar: the floor mapping biases the in-memory scores, mid-point does not",
          "[core][crossbar][calibration]") {
    // The mean of (approximate logit - exact logit) over every pair of the default synthetic
    // workload's shape, and the share kept by each at one threshold.
    Fixture fx = make(2, 256, 64, 1);
    for (bool midpoint : {false, true}) {
        XbarNumerics x;
        x.midpoint = midpoint;
        double bias = 0.0;
        long pairs = 0, kept_approx = 0, kept_exact = 0;
        const float threshold = 2.0f;
        for (int h = 0; h < 2; ++h) {
            const HeadParams& hp = fx.w.heads[std::size_t(h)];
            const double ra = raw_to_logit(hp, 64, x), re = exact_logit_scale(hp, 64);
            for (int i = 0; i < 256; ++i)
                for (int j = 0; j < 256; ++j) {
                    const double a = margin(fx.w, h, i, j, midpoint) * ra;
                    const double e = dot_i8(fx.w.q.row(h, i), fx.w.k.row(h, j), 64) * re;
                    bias += a - e;
                    ++pairs;
                    kept_approx += a >= threshold;
                    kept_exact += e >= threshold;
                }
        }
        bias /= double(pairs);
        const double fa = double(kept_approx) / pairs, fe = double(kept_exact) / pairs;
        INFO("midpoint " << midpoint << ": mean bias " << bias << " logits; kept " << fa
                         << " approximate vs " << fe << " exact at threshold 2");
        if (midpoint) {
            CHECK(std::fabs(bias) < 0.05);
            CHECK(std::fabs(fa - fe) < 0.25 * fe);
        } else {
            CHECK(bias > 0.5);
            CHECK(fa > 1.5 * fe);
        }
    }
}

namespace {

// The threshold a full sort of every score gives (what the streaming calibration must equal):
// all (score, weight) pairs sorted from the highest, walked in whole groups of equal scores
// until the running weight reaches the goal, then halfway to the next lower distinct score.
double sorted_threshold(std::vector<std::pair<double, double>> sw, double goal) {
    std::sort(sw.begin(), sw.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    double cum = 0.0;
    std::size_t k = 0;
    double stop = sw.back().first;
    while (k < sw.size()) {
        const double v = sw[k].first;
        while (k < sw.size() && sw[k].first == v) cum += sw[k++].second;
        if (cum >= goal * (1.0 - 1e-12)) {
            stop = v;
            break;
        }
    }
    double lower = -INFINITY;
    for (const auto& p : sw)
        if (p.first < stop) lower = std::max(lower, p.first);
    return std::isinf(lower) ? stop - 1.0 : (stop + lower) / 2.0;
}

}  // namespace

TEST_CASE("core/calibration: the streaming thresholds equal those of a full sort of the scores",
          "[core][calibration]") {
    Fixture fx = make(2, 160, 64, 17);
    const XbarNumerics x;
    for (Mode mode : {Mode::Sprint, Mode::OnchipPrune})
        for (bool causal : {false, true})
            for (bool by_mass : {false, true})
                for (double target : {0.03, 0.1, 0.5, 0.9, 1.0})
                    for (int h = 0; h < 2; ++h) {
                        const HeadParams& hp = fx.w.heads[std::size_t(h)];
                        const int n = fx.w.q.n, d = fx.w.q.d;
                        std::vector<std::pair<double, double>> sw;
                        double queries = 0;
                        for (int i = 0; i < n; ++i) {
                            const int end = key_end(i, hp.valid_len, causal);
                            queries += end > 0;
                            // the int8 logits' softmax (no float inputs given), as the weights
                            std::vector<double> p(static_cast<std::size_t>(end));
                            double mx = -INFINITY, sum = 0.0;
                            for (int j = 0; j < end; ++j) {
                                p[std::size_t(j)] =
                                    double(dot_i8(fx.w.q.row(h, i), fx.w.k.row(h, j), d)) *
                                    exact_logit_scale(hp, d);
                                mx = std::max(mx, p[std::size_t(j)]);
                            }
                            for (double& v : p) sum += (v = std::exp(v - mx));
                            for (int j = 0; j < end; ++j) {
                                const double s =
                                    mode == Mode::Sprint
                                        ? margin(fx.w, h, i, j, x.midpoint, x.key_bits,
                                                 x.query_bits)
                                        : double(dot_i8(fx.w.q.row(h, i), fx.w.k.row(h, j), d));
                                sw.push_back({s, by_mass ? p[std::size_t(j)] / sum : 1.0});
                            }
                        }
                        const double goal = by_mass
                                                ? target * queries
                                                : double(std::max<long long>(
                                                      1, std::llround(target * double(sw.size()))));
                        const double to_logit = mode == Mode::Sprint ? raw_to_logit(hp, d, x)
                                                                     : exact_logit_scale(hp, d);
                        CalibrationSpec c = by_mass
                                                ? CalibrationSpec::mass(target, causal, mode)
                                                : CalibrationSpec::fraction(target, causal, mode);
                        INFO("mode " << to_string(mode) << " causal " << causal << " mass "
                                     << by_mass << " target " << target << " head " << h);
                        CHECK(calibrate_threshold(fx.w, h, x, c) ==
                              float(sorted_threshold(sw, goal) * to_logit));
                    }
}

TEST_CASE("core/calibration: every head on several threads gives each head's own threshold",
          "[core][calibration]") {
    Fixture fx = make(5, 96, 64, 31);
    const XbarNumerics x;
    const CalibrationSpec c = CalibrationSpec::mass(0.9);
    const MassWeights mass{&fx.f.q, &fx.f.k};
    std::vector<float> one;
    for (int h = 0; h < 5; ++h) one.push_back(calibrate_threshold(fx.w, h, x, c, mass));
    CHECK(one[0] != one[1]);  // the heads differ: a mix-up would show
    for (unsigned threads : {1u, 2u, 3u, 8u}) {
        INFO(threads << " threads");
        CHECK(calibrate_thresholds(fx.w, x, c, mass, threads) == one);
    }
}

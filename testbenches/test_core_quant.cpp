// Unit tests of the host-side int8 quantisation (core/quant.h): symmetric per-head scales,
// round-half-away-from-zero, clamping, dequantisation.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>
#include <catch2/catch.hpp>

#include "core/quant.h"
#include "core/rng.h"

using namespace sprint::core;

TEST_CASE("core/quant: symmetric scale is max|x|/127, 1 when all values are zero",
          "[core][quant]") {
    const std::vector<float> x{1.0f, -2.54f, 0.5f, 2.0f};
    CHECK(symmetric_scale(x.data(), x.size()) == 2.54f / 127.0f);

    const std::vector<float> pos{127.0f, 3.0f};
    CHECK(symmetric_scale(pos.data(), pos.size()) == 1.0f);
    const std::vector<float> neg{-254.0f, 3.0f};  // the sign does not matter
    CHECK(symmetric_scale(neg.data(), neg.size()) == 2.0f);

    const std::vector<float> zeros(7, 0.0f);
    CHECK(symmetric_scale(zeros.data(), zeros.size()) == 1.0f);
    const std::vector<float> neg_zero{-0.0f, 0.0f};
    CHECK(symmetric_scale(neg_zero.data(), neg_zero.size()) == 1.0f);
    CHECK(symmetric_scale(nullptr, 0) == 1.0f);
}

TEST_CASE("core/quant: scale stays positive and usable for tiny non-zero inputs", "[core][quant]") {
    // max|x| / 127 underflows to 0 for the smallest subnormals; a zero scale would turn every
    // quantised value into inf or NaN (and NaN -> int8 is undefined behaviour).
    const float tiny = std::numeric_limits<float>::denorm_min();
    const std::vector<float> x{tiny, -tiny, 0.0f};
    const float s = symmetric_scale(x.data(), x.size());
    REQUIRE(s > 0.0f);
    REQUIRE(std::isfinite(s));
    CHECK(quantize(0.0f, s) == 0);
    CHECK(quantize(tiny, s) > 0);
    CHECK(quantize(-tiny, s) < 0);
}

TEST_CASE("core/quant: rounding is half away from zero", "[core][quant]") {
    // scale 1: x / scale is exact, so these are true ties.
    CHECK(quantize(0.5f, 1.0f) == 1);
    CHECK(quantize(-0.5f, 1.0f) == -1);
    CHECK(quantize(1.5f, 1.0f) == 2);
    CHECK(quantize(2.5f, 1.0f) == 3);  // not banker's rounding (would give 2)
    CHECK(quantize(-2.5f, 1.0f) == -3);
    CHECK(quantize(-3.5f, 1.0f) == -4);
    CHECK(quantize(0.49f, 1.0f) == 0);
    CHECK(quantize(-0.49f, 1.0f) == 0);
    CHECK(quantize(0.51f, 1.0f) == 1);
    CHECK(quantize(126.5f, 1.0f) == 127);
    CHECK(quantize(-126.5f, 1.0f) == -127);
    // scale 0.5 and 2 (exact binary divisions)
    CHECK(quantize(0.75f, 0.5f) == 2);    // 1.5
    CHECK(quantize(-0.25f, 0.5f) == -1);  // -0.5
    CHECK(quantize(5.0f, 2.0f) == 3);     // 2.5
    CHECK(quantize(-1.0f, 2.0f) == -1);   // -0.5
    CHECK(quantize(0.9f, 2.0f) == 0);     // 0.45
}

TEST_CASE("core/quant: values are clamped to [-127, 127] (never -128)", "[core][quant]") {
    CHECK(quantize(127.0f, 1.0f) == 127);
    CHECK(quantize(127.4f, 1.0f) == 127);
    CHECK(quantize(127.5f, 1.0f) == 127);
    CHECK(quantize(200.0f, 1.0f) == 127);
    CHECK(quantize(1e30f, 1.0f) == 127);
    CHECK(quantize(-127.5f, 1.0f) == -127);
    CHECK(quantize(-128.0f, 1.0f) == -127);
    CHECK(quantize(-1e30f, 1.0f) == -127);
    CHECK(quantize(1.0f, 1e-6f) == 127);
    CHECK(quantize(-1.0f, 1e-6f) == -127);
}

TEST_CASE("core/quant: quantize_per_head uses one scale per head", "[core][quant]") {
    Tensor3 t(3, 2, 3);
    // head 0: max |x| = 127 -> scale 1
    const float h0[] = {127.0f, -63.5f, 0.4f, 10.0f, -127.0f, 2.5f};
    // head 1: max |x| = 254 -> scale 2
    const float h1[] = {254.0f, -3.0f, 5.0f, 1.0f, -1.0f, 0.0f};
    // head 2: all zero -> scale 1
    for (int k = 0; k < 6; ++k) {
        t.data[std::size_t(k)] = h0[k];
        t.data[std::size_t(6 + k)] = h1[k];
    }
    const QTensor q = quantize_per_head(t);
    REQUIRE(q.heads == 3);
    REQUIRE(q.n == 2);
    REQUIRE(q.d == 3);
    REQUIRE(q.data.size() == 18);
    REQUIRE(q.scale.size() == 3);
    CHECK(q.scale[0] == 1.0f);
    CHECK(q.scale[1] == 2.0f);
    CHECK(q.scale[2] == 1.0f);

    const std::vector<int8_t> e0{127, -64, 0, 10, -127, 3};
    const std::vector<int8_t> e1{127, -2, 3, 1, -1, 0};  // -1.5 -> -2, 2.5 -> 3, +-0.5 -> +-1
    for (int k = 0; k < 6; ++k) {
        INFO("element " << k);
        CHECK(int(q.data[std::size_t(k)]) == int(e0[std::size_t(k)]));
        CHECK(int(q.data[std::size_t(6 + k)]) == int(e1[std::size_t(k)]));
        CHECK(int(q.data[std::size_t(12 + k)]) == 0);
    }
    // row accessors address [h, i, :]
    CHECK(q.row(1, 1)[0] == 1);
    CHECK(q.head(1) == q.data.data() + 6);
}

TEST_CASE("core/quant: the largest magnitude of every head maps to +-127", "[core][quant]") {
    Tensor3 t(4, 16, 8);
    for (std::size_t k = 0; k < t.data.size(); ++k)
        t.data[k] = float((double(k % 97) - 48.0) * (1.0 + double(k / 128)) * 0.37);
    const QTensor q = quantize_per_head(t);
    for (int h = 0; h < 4; ++h) {
        int mx = 0;
        for (int i = 0; i < 16; ++i)
            for (int e = 0; e < 8; ++e) mx = std::max(mx, std::abs(int(q.row(h, i)[e])));
        CHECK(mx == 127);
        CHECK(q.scale[std::size_t(h)] == symmetric_scale(t.head(h), 16 * 8));
    }
    // heads have different ranges, so different scales
    CHECK(q.scale[0] != q.scale[3]);
}

TEST_CASE("core/quant: dequantize is value*scale and the round trip error is <= scale/2",
          "[core][quant]") {
    Tensor3 t(2, 10, 6);
    for (std::size_t k = 0; k < t.data.size(); ++k)
        t.data[k] = float(rng_normal(rng_key(99, 7, k)) * (k < 60 ? 1.0 : 40.0));
    const QTensor q = quantize_per_head(t);
    const Tensor3 r = dequantize(q);
    REQUIRE(r.heads == 2);
    REQUIRE(r.n == 10);
    REQUIRE(r.d == 6);
    for (int h = 0; h < 2; ++h) {
        const float s = q.scale[std::size_t(h)];
        for (int i = 0; i < 10; ++i)
            for (int e = 0; e < 6; ++e) {
                CHECK(r.row(h, i)[e] == float(q.row(h, i)[e]) * s);
                // half a step, plus float rounding of the scale and product
                CHECK(std::fabs(double(r.row(h, i)[e]) - double(t.row(h, i)[e])) <=
                      0.5 * double(s) * (1.0 + 1e-5));
            }
    }
}

// Unit tests of the exact-recompute datapath arithmetic (core/row_engine.h): the two-LUT exp, the
// 12-bit softmax input, 8-bit probabilities, float and int16 outputs, ordering errors, on-chip
// pruning and determinism. Expected values are computed here from the formulas documented in
// row_engine.h, independently of the engine's helpers.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>
#include <catch2/catch.hpp>

#include "core/row_engine.h"

using namespace sprint::core;

namespace {

// Documented LUTs: LUT_hi[a] = round(2^16 exp(-a/4)), LUT_lo[b] = round(2^16 exp(-b/256)).
uint64_t lut_hi(uint32_t a) {
    return uint64_t(std::llround(65536.0 * std::exp(-double(a) / 4.0)));
}
uint64_t lut_lo(uint32_t b) {
    return uint64_t(std::llround(65536.0 * std::exp(-double(b) / 256.0)));
}
uint32_t model_exp(uint32_t u) {
    return uint32_t((lut_hi(u >> 6) * lut_lo(u & 63) + 32768) >> 16);
}

float read_f32(const uint8_t* p) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
}
int16_t read_i16(const uint8_t* p) {
    // little-endian by definition, independent of the host
    return int16_t(uint16_t(p[0]) | uint16_t(uint16_t(p[1]) << 8));
}

// Run one full row: score all keys (ascending tokens 0..), softmax, accumulate, finish.
std::vector<uint8_t> run_row(const std::vector<int8_t>& q,
                             const std::vector<std::vector<int8_t>>& k,
                             const std::vector<std::vector<int8_t>>& v, double ls, float s_v,
                             SoftmaxKind kind, OutputFormat fmt, RowEngine* engine = nullptr,
                             uint32_t tile = 0) {
    RowEngine local;
    RowEngine& e = engine ? *engine : local;
    const int d = int(q.size());
    e.begin(q.data(), d, ls, s_v, kind, fmt);
    e.set_online(tile);
    for (std::size_t j = 0; j < k.size(); ++j) REQUIRE(e.score(uint32_t(j), k[j].data()));
    for (uint32_t t : e.softmax()) REQUIRE(e.accumulate(t, v[t].data()));
    std::vector<uint8_t> out(std::size_t(d) * output_element_bytes(fmt), 0xEE);
    REQUIRE(e.finish(out.data()));
    return out;
}

// The row both hand-worked tests use. q = {1, 0, 0}: the score of key j is k_j[0];
// u = round((40 - s) * 0.05 * 256) = {0, 256, 473.6 -> 474, 168 * 12.8 = 2150.4 -> 2150}.
struct HandRow {
    std::vector<int8_t> q{1, 0, 0};
    std::vector<std::vector<int8_t>> k{{40, 9, 9}, {20, -3, 1}, {3, 0, 0}, {-128, 5, 5}};
    std::vector<std::vector<int8_t>> v{
        {10, -20, 0}, {100, 127, -128}, {-128, 5, 1}, {127, 127, 127}};
    double ls = 0.05;
    float s_v = 0.5f;
    uint32_t u[4] = {0, 256, 474, 2150};
};

}  // namespace

TEST_CASE("core/softmax: exp_fixed(0) is 2^16 and the LUT halves multiply", "[core][softmax]") {
    CHECK(exp_fixed(0) == 65536u);
    CHECK(exp_fixed(256) == 24109u);  // round(2^16 / e) = LUT_hi[4]
    CHECK(exp_fixed(474) == 10288u);  // LUT_hi[7] * LUT_lo[26] = 11388 * 59207 / 2^16
    CHECK(exp_fixed(3072) == 0u);     // LUT_hi[48] rounds to 0
    for (uint32_t u = 0; u <= kSoftmaxInputMax; ++u) REQUIRE(exp_fixed(u) == model_exp(u));
    // below 64 only LUT_lo is used (LUT_hi[0] = 2^16), at multiples of 64 only LUT_hi
    for (uint32_t u = 0; u < 64; ++u) REQUIRE(exp_fixed(u) == lut_lo(u));
    for (uint32_t a = 0; a < 64; ++a) REQUIRE(exp_fixed(a * 64) == lut_hi(a));
}

TEST_CASE("core/softmax: exp_fixed is monotone and within 1.5 of 2^16 exp(-u/256)",
          "[core][softmax]") {
    // Error bound: hi = H + d1, lo = L + d2 with |d1|, |d2| <= 0.5 (LUT rounding) and H, L <= 2^16,
    // so |hi*lo/2^16 - H*L/2^16| <= 0.5*L/2^16 + 0.5*H/2^16 + 0.25/2^16 <= 1 + 4e-6; the final
    // rounding adds 0.5. (The measured maximum is about 1.3.)
    double worst = 0.0;
    for (uint32_t u = 0; u <= kSoftmaxInputMax; ++u) {
        const double err = std::fabs(double(exp_fixed(u)) - 65536.0 * std::exp(-double(u) / 256.0));
        worst = std::max(worst, err);
        REQUIRE(err <= 1.5 + 1e-5);
        if (u > 0) REQUIRE(exp_fixed(u) <= exp_fixed(u - 1));
        // 17 bits at most
        REQUIRE(exp_fixed(u) <= 65536u);
    }
    CHECK(worst > 0.5);  // the two-LUT product is really an approximation
    // strictly decreasing while the values are large
    for (uint32_t u = 1; u < 1024; ++u) REQUIRE(exp_fixed(u) < exp_fixed(u - 1));
}

TEST_CASE("core/softmax: exp_fixed clamps inputs above 4095", "[core][softmax]") {
    CHECK(kSoftmaxInputMax == 4095u);
    CHECK(exp_fixed(4096) == exp_fixed(4095));
    CHECK(exp_fixed(5000) == exp_fixed(4095));
    CHECK(exp_fixed(1u << 20) == exp_fixed(4095));
    CHECK(exp_fixed(std::numeric_limits<uint32_t>::max()) == exp_fixed(4095));
    CHECK(exp_fixed(4095) == 0u);
}

TEST_CASE("core/softmax: softmax_input rounds (max - s) * scale * 256 and saturates at 4095",
          "[core][softmax]") {
    const double ls = 1.0 / 16.0;  // 16 score units per logit -> 16 input units per score unit
    CHECK(softmax_input(100, 100, ls) == 0u);
    CHECK(softmax_input(100, 99, ls) == 16u);
    CHECK(softmax_input(100, 90, ls) == 160u);
    CHECK(softmax_input(100, 100 - 255, ls) == 4080u);
    CHECK(softmax_input(100, 100 - 256, ls) == 4095u);  // 4096 saturates
    CHECK(softmax_input(100, -1000, ls) == 4095u);
    CHECK(softmax_input(-5, -5, ls) == 0u);
    // rounding to nearest, halves away from zero
    CHECK(softmax_input(2, 0, 0.001) == 1u);      // 0.512
    CHECK(softmax_input(1, 0, 0.001) == 0u);      // 0.256
    CHECK(softmax_input(1, 0, 1.0 / 512) == 1u);  // 0.5
    CHECK(softmax_input(3, 0, 1.0 / 512) == 2u);  // 1.5
    CHECK(softmax_input(5, 0, 1.0 / 512) == 3u);  // 2.5
    // the top of the range
    CHECK(softmax_input(4094, 0, 1.0 / 256) == 4094u);
    CHECK(softmax_input(4095, 0, 1.0 / 256) == 4095u);
    CHECK(softmax_input(8189, 0, 1.0 / 512) == 4095u);  // 4094.5 rounds up to 4095
    // no overflow for the full int32 range
    CHECK(softmax_input(std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(),
                        1e-6) == 4095u);  // 2^32 * 1e-6 * 256 = 1.1e6
    CHECK(softmax_input(std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(),
                        1e-9) == 1100u);  // (2^32 - 1) * 1e-9 * 256 = 1099.51
    CHECK(softmax_input(std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(),
                        1e-12) == 1u);  // 2^32 * 1e-12 * 256 = 1.0995
}

TEST_CASE("core/softmax: dot_i8 is the exact int8 dot product", "[core][softmax]") {
    const int8_t a[4] = {1, -2, 3, -128};
    const int8_t b[4] = {5, 7, -9, -128};
    CHECK(dot_i8(a, b, 4) == 5 - 14 - 27 + 16384);
    CHECK(dot_i8(a, b, 0) == 0);
    std::vector<int8_t> m(512, -128);
    CHECK(dot_i8(m.data(), m.data(), 512) == 512 * 16384);
    std::vector<int8_t> p(512, 127);
    CHECK(dot_i8(m.data(), p.data(), 512) == -512 * 16256);
}

TEST_CASE("core/softmax: fixed row (unnormalised exponentials), computed by hand",
          "[core][softmax]") {
    // The row of the prob8 test below: the same exponentials, no probabilities. The V unit
    // weighs V with e_j; each output element is divided by the sum once.
    const HandRow r;
    const auto& q = r.q;
    const auto &k = r.k, &v = r.v;
    const double ls = r.ls;
    const float s_v = r.s_v;
    const uint32_t* u = r.u;
    int64_t e[4], sum = 0;
    for (int j = 0; j < 4; ++j) {
        e[j] = model_exp(u[j]);
        sum += e[j];
    }
    int64_t acc[3];
    for (int c = 0; c < 3; ++c) {
        acc[c] = 0;
        for (int j = 0; j < 4; ++j) acc[c] += e[j] * v[std::size_t(j)][std::size_t(c)];
    }
    RowEngine eng;
    eng.begin(q.data(), 3, ls, s_v, SoftmaxKind::Fixed, OutputFormat::Float32);
    for (uint32_t j = 0; j < 4; ++j) REQUIRE(eng.score(j, k[j].data()));
    const auto tokens = eng.softmax();
    CHECK(eng.exp_ops() == 4);
    CHECK(eng.div_ops() == 0);  // none yet: the divisions come with the output
    for (uint32_t t : tokens) REQUIRE(eng.accumulate(t, v[t].data()));
    uint8_t out[12];
    REQUIRE(eng.finish(out));
    CHECK(eng.div_ops() == 3);  // one per output element
    for (int c = 0; c < 3; ++c) {
        INFO("element " << c);
        CHECK(read_f32(out + 4 * c) == float(double(acc[c]) * double(s_v) / double(sum)));
    }
    const auto o16 = run_row(q, k, v, ls, s_v, SoftmaxKind::Fixed, OutputFormat::Int16);
    // Worked by hand: e = {65536, 24109, 10288, 15}, sum = 99948,
    // acc = {1751301, 1804468, -3073759}; acc * 128 / sum = {2242.83, 2310.92, -3936.46}.
    CHECK(e[3] == 15);
    CHECK(sum == 99948);
    CHECK(acc[0] == 1751301);
    CHECK(acc[1] == 1804468);
    CHECK(acc[2] == -3073759);
    CHECK(read_i16(o16.data() + 0) == 2243);
    CHECK(read_i16(o16.data() + 2) == 2311);
    CHECK(read_i16(o16.data() + 4) == -3936);
    CHECK(read_f32(out + 0) == Approx(8.761060751590827));
    CHECK(read_f32(out + 8) == Approx(-15.376790931284267));
}

TEST_CASE("core/softmax: fixed: equal scores weigh their V rows equally", "[core][softmax]") {
    const std::vector<int8_t> q{2};
    const std::vector<std::vector<int8_t>> k{{7}, {7}};
    const std::vector<std::vector<int8_t>> v{{-100}, {51}};
    // e = {65536, 65536}: out = (-100 + 51) / 2 = -24.5 V steps; int16 = round(-24.5 * 128)
    const auto o = run_row(q, k, v, 0.3, 1.0f, SoftmaxKind::Fixed, OutputFormat::Int16);
    CHECK(read_i16(o.data()) == -3136);
    const auto of = run_row(q, k, v, 0.3, 0.25f, SoftmaxKind::Fixed, OutputFormat::Float32);
    CHECK(read_f32(of.data()) == -6.125f);
}

TEST_CASE("core/softmax: prob8 row (8-bit probabilities), computed by hand", "[core][softmax]") {
    const HandRow r;
    const auto& q = r.q;
    const auto &k = r.k, &v = r.v;
    const double ls = r.ls;
    const float s_v = r.s_v;
    const uint32_t* u = r.u;
    uint64_t e[4], sum = 0;
    for (int j = 0; j < 4; ++j) {
        e[j] = model_exp(u[j]);
        sum += e[j];
    }
    CHECK(e[0] == 65536);
    CHECK(e[1] == 24109);
    CHECK(e[2] == 10288);
    int p[4], psum = 0;
    for (int j = 0; j < 4; ++j) {
        p[j] = int((255 * e[j] + sum / 2) / sum);
        psum += p[j];
    }
    int acc[3];
    for (int c = 0; c < 3; ++c) {
        acc[c] = 0;
        for (int j = 0; j < 4; ++j) acc[c] += p[j] * v[std::size_t(j)][std::size_t(c)];
    }

    RowEngine eng;
    eng.begin(q.data(), 3, ls, s_v, SoftmaxKind::Prob8, OutputFormat::Float32);
    for (uint32_t j = 0; j < 4; ++j) REQUIRE(eng.score(j, k[j].data()));
    CHECK(eng.scores() == std::vector<int32_t>{40, 20, 3, -128});
    for (int j = 0; j < 4; ++j) CHECK(softmax_input(40, eng.scores()[std::size_t(j)], ls) == u[j]);
    const auto tokens = eng.softmax();
    CHECK(tokens == std::vector<uint32_t>{0, 1, 2, 3});
    CHECK(eng.exp_ops() == 4);
    CHECK(eng.div_ops() == 4);
    for (uint32_t t : tokens) REQUIRE(eng.accumulate(t, v[t].data()));
    uint8_t out[12];
    REQUIRE(eng.finish(out));
    for (int c = 0; c < 3; ++c) {
        INFO("element " << c);
        CHECK(read_f32(out + 4 * c) == float(double(acc[c]) * double(s_v) / 255.0));
    }

    // the same row with int16 output: round(acc * 128 / 255), little-endian
    const auto o16 = run_row(q, k, v, ls, s_v, SoftmaxKind::Prob8, OutputFormat::Int16);
    REQUIRE(o16.size() == 6);
    for (int c = 0; c < 3; ++c) {
        INFO("element " << c);
        CHECK(read_i16(o16.data() + 2 * c) == int16_t(std::lround(double(acc[c]) * 128.0 / 255.0)));
    }

    // The same numbers written out (worked by hand from the formulas above):
    // e = {65536, 24109, 10288, 65536*exp(-8.4) ~ 14.7}, sum = 99948,
    // p = {167, 62, 26, 0}, acc = {4542, 4664, -7910}.
    CHECK(sum == 65536 + 24109 + 10288 + e[3]);
    CHECK(p[0] == 167);
    CHECK(p[1] == 62);
    CHECK(p[2] == 26);
    CHECK(p[3] == 0);
    CHECK(psum == 255);
    CHECK(acc[0] == 4542);
    CHECK(acc[1] == 4664);
    CHECK(acc[2] == -7910);
    CHECK(read_i16(o16.data() + 0) == 2280);   // 2279.906
    CHECK(read_i16(o16.data() + 2) == 2341);   // 2341.145
    CHECK(read_i16(o16.data() + 4) == -3971);  // -3970.510
    CHECK(read_f32(out + 0) == Approx(8.905882352941177));
    CHECK(read_f32(out + 8) == Approx(-15.509803921568627));
}

TEST_CASE("core/softmax: prob8: a two-key row with equal scores splits 128/127 (rounded division)",
          "[core][softmax]") {
    const std::vector<int8_t> q{2};
    const std::vector<std::vector<int8_t>> k{{7}, {7}};
    const std::vector<std::vector<int8_t>> v{{-100}, {50}};
    // e = {65536, 65536}, sum = 131072: p = (255*65536 + 65536) / 131072 = 128 each
    const auto o = run_row(q, k, v, 0.3, 1.0f, SoftmaxKind::Prob8, OutputFormat::Int16);
    // acc = 128 * -100 + 128 * 50 = -6400; round(-6400 * 128 / 255) = round(-3212.55) = -3213
    CHECK(read_i16(o.data()) == -3213);
    const auto of = run_row(q, k, v, 0.3, 0.25f, SoftmaxKind::Prob8, OutputFormat::Float32);
    CHECK(read_f32(of.data()) == float(-6400.0 * 0.25 / 255.0));
}

TEST_CASE("core/softmax: a single kept key (prob8: probability 255): output = its V row",
          "[core][softmax]") {
    const std::vector<int8_t> q{3, -4};
    const std::vector<std::vector<int8_t>> k{{1, 2}};
    const std::vector<std::vector<int8_t>> v{{-128, 127}};
    for (auto kind : {SoftmaxKind::Fixed, SoftmaxKind::Prob8}) {
        const auto o = run_row(q, k, v, 1.0, 1.0f, kind, OutputFormat::Int16);
        CHECK(read_i16(o.data()) == -128 * 128);
        CHECK(read_i16(o.data() + 2) == 127 * 128);
    }
    const auto f = run_row(q, k, v, 1.0, 0.125f, SoftmaxKind::Float, OutputFormat::Float32);
    CHECK(read_f32(f.data()) == -16.0f);
    CHECK(read_f32(f.data() + 4) == 15.875f);
}

TEST_CASE("core/softmax: float path matches a direct double computation", "[core][softmax]") {
    const int d = 5, n = 9;
    std::vector<int8_t> q(d);
    std::vector<std::vector<int8_t>> k(n, std::vector<int8_t>(d)), v(n, std::vector<int8_t>(d));
    for (int e = 0; e < d; ++e) q[std::size_t(e)] = int8_t((e * 53) % 255 - 127);
    for (int j = 0; j < n; ++j)
        for (int e = 0; e < d; ++e) {
            k[std::size_t(j)][std::size_t(e)] = int8_t((j * 31 + e * 17) % 255 - 127);
            v[std::size_t(j)][std::size_t(e)] = int8_t((j * 71 + e * 13 + 5) % 255 - 127);
        }
    const double ls = 0.0021;
    const float s_v = 0.037f;
    std::vector<double> s(n);
    double mx = -1e300;
    for (int j = 0; j < n; ++j) {
        double acc = 0;
        for (int e = 0; e < d; ++e)
            acc += double(q[std::size_t(e)]) * double(k[std::size_t(j)][std::size_t(e)]);
        s[std::size_t(j)] = acc * ls;
        mx = std::max(mx, s[std::size_t(j)]);
    }
    double z = 0;
    for (int j = 0; j < n; ++j) z += std::exp(s[std::size_t(j)] - mx);
    std::vector<double> ref(d, 0.0);
    for (int j = 0; j < n; ++j)
        for (int e = 0; e < d; ++e)
            ref[std::size_t(e)] +=
                std::exp(s[std::size_t(j)] - mx) / z * double(v[std::size_t(j)][std::size_t(e)]);

    const auto f = run_row(q, k, v, ls, s_v, SoftmaxKind::Float, OutputFormat::Float32);
    const auto i16 = run_row(q, k, v, ls, s_v, SoftmaxKind::Float, OutputFormat::Int16);
    for (int e = 0; e < d; ++e) {
        INFO("element " << e);
        // float32 output: only the final float rounding differs (relative 2^-24)
        CHECK(read_f32(f.data() + 4 * e) == Approx(ref[std::size_t(e)] * s_v).epsilon(1e-6));
        CHECK(read_i16(i16.data() + 2 * e) == int16_t(std::lround(ref[std::size_t(e)] * 128.0)));
    }
    // and the fixed path is close to it (8-bit probabilities: about 1/255 of max |v| per key)
    const auto fx = run_row(q, k, v, ls, s_v, SoftmaxKind::Fixed, OutputFormat::Float32);
    for (int e = 0; e < d; ++e)
        CHECK(std::fabs(read_f32(fx.data() + 4 * e) - ref[std::size_t(e)] * s_v) <=
              n * 0.5 / 255.0 * 128.0 * s_v);
}

TEST_CASE("core/softmax: int16 output is in units of s_v/128, little-endian", "[core][softmax]") {
    // single key with p = 255: acc = 255 v -> int16 = 128 v exactly
    for (int vv : {-128, -1, 0, 1, 77, 127}) {
        const std::vector<int8_t> q{1};
        const std::vector<std::vector<int8_t>> k{{1}};
        const std::vector<std::vector<int8_t>> v{{int8_t(vv)}};
        const auto o = run_row(q, k, v, 1.0, 3.0f, SoftmaxKind::Fixed, OutputFormat::Int16);
        REQUIRE(o.size() == 2);
        const int16_t x = int16_t(vv * 128);
        CHECK(int(o[0]) == int(uint16_t(x) & 0xFF));
        CHECK(int(o[1]) == int(uint16_t(x) >> 8));
    }
}

TEST_CASE("core/softmax: ordering errors are reported", "[core][softmax]") {
    const int8_t q[2] = {1, 1}, row[2] = {1, 2};
    RowEngine e;
    e.begin(q, 2, 0.1, 1.0f, SoftmaxKind::Fixed, OutputFormat::Float32);
    CHECK(e.score(3, row));
    CHECK_FALSE(e.score(3, row));  // repeated token
    CHECK_FALSE(e.score(1, row));  // descending token
    CHECK(e.score(7, row));
    CHECK(e.scores_held() == 2);
    CHECK(e.tokens() == std::vector<uint32_t>{3, 7});

    uint8_t out[8];
    CHECK_FALSE(e.finish(out));  // no softmax, no V yet
    const auto& toks = e.softmax();
    REQUIRE(toks == std::vector<uint32_t>{3, 7});
    CHECK_FALSE(e.accumulate(7, row));  // out of order: 3 first
    CHECK_FALSE(e.accumulate(4, row));  // not a kept token
    CHECK_FALSE(e.finish(out));         // before all V rows
    CHECK(e.accumulate(3, row));
    CHECK_FALSE(e.accumulate(3, row));  // twice
    CHECK_FALSE(e.finish(out));
    CHECK(e.accumulate(7, row));
    CHECK_FALSE(e.accumulate(8, row));  // beyond the list
    CHECK(e.finish(out));
}

TEST_CASE("core/softmax: V rows before softmax() are refused", "[core][softmax]") {
    const int8_t q[2] = {1, 1}, row[2] = {1, 2};
    for (auto kind : {SoftmaxKind::Fixed, SoftmaxKind::Float, SoftmaxKind::Prob8}) {
        RowEngine e;
        e.begin(q, 2, 0.1, 1.0f, kind, OutputFormat::Float32);
        REQUIRE(e.score(0, row));
        CHECK_FALSE(e.accumulate(0, row));  // no probabilities exist yet
        // a score added after softmax() invalidates the probabilities
        e.softmax();
        REQUIRE(e.score(1, row));
        CHECK_FALSE(e.accumulate(0, row));
        // a new softmax() over the complete set makes the row valid again
        e.softmax();
        CHECK(e.accumulate(0, row));
        CHECK(e.accumulate(1, row));
        uint8_t out[8];
        CHECK(e.finish(out));
    }
}

TEST_CASE("core/softmax: an empty row produces zero output", "[core][softmax]") {
    const int8_t q[3] = {1, 2, 3};
    RowEngine e;
    e.begin(q, 3, 0.1, 1.0f, SoftmaxKind::Fixed, OutputFormat::Int16);
    CHECK(e.softmax().empty());
    uint8_t out[6] = {1, 1, 1, 1, 1, 1};
    CHECK(e.finish(out));
    for (uint8_t b : out) CHECK(int(b) == 0);
    CHECK(e.exp_ops() == 0);
}

TEST_CASE("core/softmax: prune keeps logit >= threshold, then the empty-row policy",
          "[core][softmax]") {
    const int8_t q[1] = {1};
    // ls = 1/16: logits = score / 16
    const int8_t k[5][1] = {{16}, {0}, {-16}, {32}, {32}};
    auto load = [&](RowEngine& e, std::vector<uint32_t> toks) {
        e.begin(q, 1, 1.0 / 16.0, 1.0f, SoftmaxKind::Fixed, OutputFormat::Float32);
        for (std::size_t i = 0; i < toks.size(); ++i) REQUIRE(e.score(toks[i], k[i]));
    };
    RowEngine e;
    load(e, {0, 1, 2, 3, 4});
    CHECK(e.prune(0.0, EmptyRowPolicy::Self, 2) == 4);  // logit 0 is kept (>=)
    CHECK(e.tokens() == std::vector<uint32_t>{0, 1, 3, 4});
    CHECK(e.scores() == std::vector<int32_t>{16, 0, 32, 32});

    load(e, {0, 1, 2, 3, 4});
    CHECK(e.prune(1.5, EmptyRowPolicy::Self, 0) == 2);
    CHECK(e.tokens() == std::vector<uint32_t>{3, 4});

    load(e, {0, 1, 2, 3, 4});
    CHECK(e.prune(-INFINITY, EmptyRowPolicy::Self, 0) == 5);

    // nothing passes: Self keeps the own token
    load(e, {0, 1, 2, 3, 4});
    CHECK(e.prune(100.0, EmptyRowPolicy::Self, 2) == 1);
    CHECK(e.tokens() == std::vector<uint32_t>{2});
    CHECK(e.scores() == std::vector<int32_t>{-16});
    // ... or the nearest lower token when the own one was not scored
    load(e, {0, 2, 5, 7, 9});
    CHECK(e.prune(100.0, EmptyRowPolicy::Self, 6) == 1);
    CHECK(e.tokens() == std::vector<uint32_t>{5});
    // Max keeps the first highest score
    load(e, {0, 1, 2, 3, 4});
    CHECK(e.prune(100.0, EmptyRowPolicy::Max, 0) == 1);
    CHECK(e.tokens() == std::vector<uint32_t>{3});
    CHECK(e.scores() == std::vector<int32_t>{32});

    // a pruned row is an ordinary row afterwards
    load(e, {0, 1, 2, 3, 4});
    e.prune(0.5, EmptyRowPolicy::Self, 0);
    const int8_t vr[5][1] = {{10}, {20}, {30}, {40}, {50}};
    const auto& t = e.softmax();
    REQUIRE(t == std::vector<uint32_t>{0, 3, 4});
    for (uint32_t tok : t) REQUIRE(e.accumulate(tok, vr[tok]));
    uint8_t a[4];
    REQUIRE(e.finish(a));
    // same as an engine fed only the kept rows
    RowEngine f;
    f.begin(q, 1, 1.0 / 16.0, 1.0f, SoftmaxKind::Fixed, OutputFormat::Float32);
    REQUIRE(f.score(0, k[0]));
    REQUIRE(f.score(3, k[3]));
    REQUIRE(f.score(4, k[4]));
    for (uint32_t tok : f.softmax()) REQUIRE(f.accumulate(tok, vr[tok]));
    uint8_t b[4];
    REQUIRE(f.finish(b));
    CHECK(std::memcmp(a, b, 4) == 0);

    // an engine with no scores stays empty
    RowEngine g;
    g.begin(q, 1, 1.0, 1.0f, SoftmaxKind::Fixed, OutputFormat::Float32);
    CHECK(g.prune(0.0, EmptyRowPolicy::Self, 0) == 0);
}

TEST_CASE("core/softmax: two engines fed the same rows write identical bytes, begin() resets",
          "[core][softmax]") {
    const int d = 16, n = 40;
    std::vector<int8_t> q(d);
    std::vector<std::vector<int8_t>> k(n, std::vector<int8_t>(d)), v(n, std::vector<int8_t>(d));
    for (int e = 0; e < d; ++e) q[std::size_t(e)] = int8_t((e * 37 + 11) % 255 - 127);
    for (int j = 0; j < n; ++j)
        for (int e = 0; e < d; ++e) {
            k[std::size_t(j)][std::size_t(e)] = int8_t((j * 101 + e * 29) % 255 - 127);
            v[std::size_t(j)][std::size_t(e)] = int8_t((j * 13 + e * 89 + 3) % 255 - 127);
        }
    for (auto kind : {SoftmaxKind::Fixed, SoftmaxKind::Float, SoftmaxKind::Prob8})
        for (auto fmt : {OutputFormat::Float32, OutputFormat::Int16}) {
            const auto a = run_row(q, k, v, 0.004, 0.02f, kind, fmt);
            const auto b = run_row(q, k, v, 0.004, 0.02f, kind, fmt);
            CHECK(a == b);
            // a reused engine (previous row with other data) gives the same bytes
            RowEngine reused;
            std::vector<int8_t> q2(q.rbegin(), q.rend());
            run_row(q2, k, v, 0.01, 1.0f, SoftmaxKind::Fixed, OutputFormat::Int16, &reused);
            const auto c = run_row(q, k, v, 0.004, 0.02f, kind, fmt, &reused);
            CHECK(a == c);
        }
}

// ---- online softmax (dense mode's tiles) --------------------------------------------------------

namespace {

// A random row of n keys, d = 16.
struct RandomRow {
    std::vector<int8_t> q;
    std::vector<std::vector<int8_t>> k, v;
    RandomRow(int n, uint64_t seed) {
        uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
        auto next = [&] {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            return int8_t(int(x % 255) - 127);
        };
        q.resize(16);
        for (auto& e : q) e = next();
        k.assign(std::size_t(n), std::vector<int8_t>(16));
        v.assign(std::size_t(n), std::vector<int8_t>(16));
        for (auto& r : k)
            for (auto& e : r) e = next();
        for (auto& r : v)
            for (auto& e : r) e = next();
    }
};

}  // namespace

TEST_CASE("core/softmax: online with one tile over the whole row is the two-pass row, bit for bit",
          "[core][softmax]") {
    const RandomRow r(200, 3);
    for (auto fmt : {OutputFormat::Float32, OutputFormat::Int16}) {
        RowEngine e;
        const auto online = run_row(r.q, r.k, r.v, 0.004, 0.5f, SoftmaxKind::Fixed, fmt, &e, 256);
        CHECK(e.tiles() == 1);
        CHECK(e.rescales() == 0);
        CHECK(online == run_row(r.q, r.k, r.v, 0.004, 0.5f, SoftmaxKind::Fixed, fmt));
    }
}

TEST_CASE("core/softmax: online rescale when the running maximum rises, computed by hand",
          "[core][softmax]") {
    // Tiles of one key: scores 0 then 40 (logits 0 and 2 at scale 0.05). Tile 0: M = 0, e = 2^16.
    // Tile 1: M rises to 40, u = round(40 x 0.05 x 256) = 512: sum and accumulators times
    // exp_fixed(512) / 2^16, rounded; then e = 2^16 for key 1.
    const std::vector<int8_t> q{1, 0};
    const std::vector<std::vector<int8_t>> k{{0, 0}, {40, 0}}, v{{100, 0}, {-50, 10}};
    RowEngine e;
    const auto o = run_row(q, k, v, 0.05, 1.0f, SoftmaxKind::Fixed, OutputFormat::Int16, &e, 1);
    CHECK(e.tiles() == 2);
    CHECK(e.rescales() == 1);
    CHECK(e.exp_ops() == 2);
    const int64_t r = model_exp(512);
    auto rnd = [](int64_t a, int64_t b) { return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b); };
    const int64_t sum = rnd(65536 * r, 65536) + 65536;
    const int64_t acc0 = rnd(65536 * 100 * r, 65536) + 65536 * -50;
    const int64_t acc1 = 65536 * 10;
    CHECK(read_i16(o.data()) == rnd(acc0 * 128, sum));
    CHECK(read_i16(o.data() + 2) == rnd(acc1 * 128, sum));
    // exp(-2) = 0.1353: out = (100 x 0.1353 - 50) / 1.1353 = -32.12 V steps
    CHECK(double(read_i16(o.data())) / 128.0 == Approx(-32.12).margin(0.05));
}

TEST_CASE(
    "core/softmax: online rows are the same bits however the rows are chunked, and close "
    "to two passes",
    "[core][softmax]") {
    const RandomRow r(300, 7);
    const double ls = 0.01;
    for (auto kind : {SoftmaxKind::Fixed, SoftmaxKind::Float}) {
        INFO(to_string(kind));
        // all scores first, then all V
        const auto whole =
            run_row(r.q, r.k, r.v, ls, 1.0f, kind, OutputFormat::Float32, nullptr, 64);
        // tile by tile in uneven pieces: each tile's scores, then its V rows
        RowEngine e;
        e.begin(r.q.data(), 16, ls, 1.0f, kind, OutputFormat::Float32);
        e.set_online(64);
        uint32_t scored = 0, weighed = 0;
        for (uint32_t t = 0; t < 300; t += 64) {
            const uint32_t end = std::min(300u, t + 64);
            for (; scored < end; ++scored) REQUIRE(e.score(scored, r.k[scored].data()));
            for (; weighed < end; ++weighed) REQUIRE(e.accumulate(weighed, r.v[weighed].data()));
            CHECK(e.scores_held() == 0);  // a tile's scores leave once weighed
        }
        std::vector<uint8_t> out(64);
        CHECK_FALSE(e.finish(out.data()));  // not before the row is closed
        e.softmax();
        REQUIRE(e.finish(out.data()));
        CHECK(out == whole);
        // two passes: the same softmax up to the rescales' rounding
        const auto two = run_row(r.q, r.k, r.v, ls, 1.0f, kind, OutputFormat::Float32);
        for (int c = 0; c < 16; ++c) {
            float a, b;
            std::memcpy(&a, out.data() + 4 * c, 4);
            std::memcpy(&b, two.data() + 4 * c, 4);
            CHECK(a == Approx(b).epsilon(0.005).margin(0.05));
        }
    }
}

TEST_CASE("core/softmax: online refuses a score into a tile V has reached, and a closed row",
          "[core][softmax]") {
    const RandomRow r(10, 1);
    RowEngine e;
    e.begin(r.q.data(), 16, 0.01, 1.0f, SoftmaxKind::Fixed, OutputFormat::Int16);
    e.set_online(4);
    for (uint32_t j = 0; j < 3; ++j) REQUIRE(e.score(j, r.k[j].data()));
    REQUIRE(e.accumulate(0, r.v[0].data()));  // tile 0 entered with 3 of its 4 keys
    CHECK_FALSE(e.score(3, r.k[3].data()));   // the tile's maximum is already taken
    RowEngine f;
    f.begin(r.q.data(), 16, 0.01, 1.0f, SoftmaxKind::Fixed, OutputFormat::Int16);
    f.set_online(4);
    REQUIRE(f.score(0, r.k[0].data()));
    f.softmax();
    CHECK_FALSE(f.score(1, r.k[1].data()));
}

TEST_CASE(
    "core/softmax: online rows split over key-interleaved units are the single engine's bits "
    "(fixed) and close to them (float)",
    "[core][softmax]") {
    // The protocol of row_engine.h, written out here: per tile each unit scores its keys (j mod
    // units), the units' largest scores so far give the running maximum, every unit enters the
    // tile with it (unit 0 rescales), weighs its V rows, and units > 0 hand their tile partials to
    // unit 0. Tiles of 64 and of 7 (not a multiple of any unit count).
    const RandomRow r(300, 5);
    const double ls = 0.01;
    for (auto kind : {SoftmaxKind::Fixed, SoftmaxKind::Float}) {
        for (uint32_t tile : {64u, 7u}) {
            RowEngine one;
            const auto whole =
                run_row(r.q, r.k, r.v, ls, 1.0f, kind, OutputFormat::Int16, &one, tile);
            REQUIRE(one.rescales() > 0);  // the case this test is about
            for (uint32_t units : {2u, 3u, 5u}) {
                INFO(to_string(kind) << ", tile " << tile << ", " << units << " units");
                std::vector<RowEngine> u(units);
                for (auto& e : u) {
                    e.begin(r.q.data(), 16, ls, 1.0f, kind, OutputFormat::Int16);
                    e.set_online(tile);
                }
                int32_t run_max = std::numeric_limits<int32_t>::min();
                for (uint32_t a = 0; a < 300; a += tile) {
                    const uint32_t b = std::min(300u, a + tile);
                    for (uint32_t j = a; j < b; ++j) REQUIRE(u[j % units].score(j, r.k[j].data()));
                    for (const auto& e : u) {
                        int32_t m = 0;
                        if (e.local_max(m)) run_max = std::max(run_max, m);
                    }
                    for (uint32_t k = 0; k < units; ++k)
                        REQUIRE(u[k].enter_tile_shared(a / tile, run_max, k == 0));
                    for (uint32_t j = a; j < b; ++j)
                        REQUIRE(u[j % units].accumulate(j, r.v[j].data()));
                    for (uint32_t k = 1; k < units; ++k) REQUIRE(u[0].merge(u[k].take_partial()));
                }
                CHECK(u[0].rescales() == one.rescales());
                for (uint32_t k = 1; k < units; ++k) CHECK(u[k].rescales() == 0);
                u[0].softmax();
                std::vector<uint8_t> out(32);
                REQUIRE(u[0].finish(out.data()));
                if (kind == SoftmaxKind::Fixed) {
                    CHECK(out == whole);
                } else {
                    for (int c = 0; c < 16; ++c)
                        CHECK(std::abs(read_i16(out.data() + 2 * c) -
                                       read_i16(whole.data() + 2 * c)) <= 1);
                }
            }
        }
    }
}

TEST_CASE("core/softmax: a unit that enters a tile out of turn or takes V unentered is refused",
          "[core][softmax]") {
    const RandomRow r(10, 2);
    RowEngine e;
    e.begin(r.q.data(), 16, 0.01, 1.0f, SoftmaxKind::Fixed, OutputFormat::Int16);
    e.set_online(4);
    for (uint32_t j = 0; j < 4; ++j) REQUIRE(e.score(j, r.k[j].data()));
    REQUIRE(e.enter_tile_shared(0, 100, true));
    CHECK_FALSE(e.enter_tile_shared(0, 100, true));  // tile 0 again
    CHECK_FALSE(e.enter_tile_shared(1, 100, true));  // tile 0's V rows not yet weighed
    for (uint32_t j = 0; j < 4; ++j) REQUIRE(e.accumulate(j, r.v[j].data()));
    REQUIRE(e.score(4, r.k[4].data()));
    CHECK_FALSE(e.accumulate(4, r.v[4].data()));    // tile 1 not entered: the units enter it
    CHECK_FALSE(e.enter_tile_shared(1, 99, true));  // a running maximum never falls
    REQUIRE(e.enter_tile_shared(1, 120, true));
    CHECK(e.rescales() == 1);
    CHECK(e.accumulate(4, r.v[4].data()));
}

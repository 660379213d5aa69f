// Unit tests of the crossbar and comparator numerics (core/crossbar.h) and the keep rule
// (core/keep_rule.h): MSB extraction, offset encoding, bitline arithmetic, threshold units,
// comparator decisions, non-idealities and their determinism, causal/padding visibility and the
// empty-row policy.
#include <cmath>
#include <cstdint>
#include <vector>
#include <catch2/catch.hpp>

#include "core/crossbar.h"
#include "core/keep_rule.h"
#include "core/rng.h"

using namespace sprint::core;

namespace {

std::vector<int8_t> random_i8(std::size_t count, uint64_t seed) {
    std::vector<int8_t> v(count);
    for (std::size_t k = 0; k < count; ++k) v[k] = int8_t(int(rng_key(seed, 77, k) % 255) - 127);
    return v;
}

// The hand-made 3 keys x 4 elements example used by several tests.
//   k0 = {127, -128, 16, -1}  -> k_msb {7, -8, 1, -1}
//   k1 = {-9,   32,  0, 100}  -> k_msb {-1, 2, 0, 6}
//   k2 = {-17, -50, 64, 15}   -> k_msb {-2, -4, 4, 0}
//   q  = {33, -20, 127, -128} -> q_dac {2, -2, 7, -8}
// sum q_dac*k_msb: k0 = 14+16+7+8 = 45, k1 = -2-4+0-48 = -54, k2 = -4+8+28+0 = 32
// query shift = 8 * (2-2+7-8) = -8; bitlines = dot + shift = {37, -62, 24}.
const int8_t kKeys[3 * 4] = {127, -128, 16, -1, -9, 32, 0, 100, -17, -50, 64, 15};
const int8_t kQuery[4] = {33, -20, 127, -128};

}  // namespace

TEST_CASE("core/crossbar: key_msb and query_dac are arithmetic shifts", "[core][crossbar]") {
    CHECK(key_msb(-1, 4) == -1);
    CHECK(key_msb(-128, 4) == -8);
    CHECK(key_msb(127, 4) == 7);
    CHECK(key_msb(-9, 4) == -1);
    CHECK(key_msb(-16, 4) == -1);
    CHECK(key_msb(-17, 4) == -2);
    CHECK(key_msb(15, 4) == 0);
    CHECK(key_msb(16, 4) == 1);
    CHECK(key_msb(0, 4) == 0);
    CHECK(key_msb(-50, 4) == -4);  // floor(-3.125)
    // other widths
    CHECK(key_msb(127, 2) == 1);
    CHECK(key_msb(-128, 2) == -2);
    CHECK(key_msb(-1, 2) == -1);
    CHECK(key_msb(63, 2) == 0);
    CHECK(key_msb(-65, 2) == -2);
    CHECK(key_msb(-37, 8) == -37);
    CHECK(key_msb(127, 1) == 0);
    CHECK(key_msb(-1, 1) == -1);

    CHECK(query_dac(-1, 4) == -1);
    CHECK(query_dac(-128, 4) == -8);
    CHECK(query_dac(127, 4) == 7);
    CHECK(query_dac(-9, 4) == -1);
    CHECK(query_dac(-20, 4) == -2);
    CHECK(query_dac(33, 4) == 2);
    CHECK(query_dac(100, 3) == 3);
    CHECK(query_dac(-100, 3) == -4);

    // For every int8 and width: floor(x / 2^(8-b)), range [-2^(b-1), 2^(b-1)-1]
    for (int b = 1; b <= 8; ++b)
        for (int x = -128; x <= 127; ++x) {
            const int step = 1 << (8 - b);
            const int expect = int(std::floor(double(x) / step));
            REQUIRE(key_msb(int8_t(x), b) == expect);
            REQUIRE(query_dac(int8_t(x), b) == expect);
            REQUIRE(expect >= -(1 << (b - 1)));
            REQUIRE(expect <= (1 << (b - 1)) - 1);
        }

    int8_t dac[4];
    XbarNumerics x;
    query_to_dac(kQuery, 4, x, dac);
    CHECK(int(dac[0]) == 2);
    CHECK(int(dac[1]) == -2);
    CHECK(int(dac[2]) == 7);
    CHECK(int(dac[3]) == -8);
}

TEST_CASE("core/crossbar: offset-encoded cell levels cover [0, 2^b - 1]", "[core][crossbar]") {
    CHECK(cell_level(-128, 4) == 0);
    CHECK(cell_level(127, 4) == 15);
    CHECK(cell_level(0, 4) == 8);
    CHECK(cell_level(-1, 4) == 7);
    CHECK(cell_level(16, 4) == 9);
    CHECK(cell_level(-128, 2) == 0);
    CHECK(cell_level(127, 2) == 3);
    for (int b = 1; b <= 8; ++b) {
        int lo = 1 << 30, hi = -1, prev = -1;
        for (int v = -128; v <= 127; ++v) {
            const int l = cell_level(int8_t(v), b);
            REQUIRE(l == key_msb(int8_t(v), b) + (1 << (b - 1)));
            REQUIRE(l >= prev);  // monotone
            prev = l;
            lo = std::min(lo, l);
            hi = std::max(hi, l);
        }
        CHECK(lo == 0);
        CHECK(hi == (1 << b) - 1);
    }
}

TEST_CASE("core/crossbar: ideal bitlines minus the query shift are the small dot products",
          "[core][crossbar]") {
    XbarNumerics x;  // ideal, 4/4 bits
    REQUIRE(x.ideal());
    x.midpoint = false;  // the floor mapping first; mid-point at the end
    CellArray cells;
    cells.reset(3, 4);
    CHECK(cells.keys() == 3);
    CHECK(cells.dim() == 4);
    CHECK(cells.program(kKeys, 0, 3, 0, x) == 12);

    // conductances are the cell levels
    const int levels[3][4] = {{15, 0, 9, 7}, {7, 10, 8, 14}, {6, 4, 12, 8}};
    for (int j = 0; j < 3; ++j)
        for (int e = 0; e < 4; ++e) CHECK(cells.conductance(j, e) == double(levels[j][e]));

    int8_t dac[4];
    query_to_dac(kQuery, 4, x, dac);
    CHECK(query_shift(dac, 4, x) == -8.0);
    double v[3];
    cells.bitlines(dac, 3, 0, 0, x, v);
    CHECK(v[0] == 37.0);
    CHECK(v[1] == -62.0);
    CHECK(v[2] == 24.0);
    CHECK(v[0] - query_shift(dac, 4, x) == 45.0);
    CHECK(v[1] - query_shift(dac, 4, x) == -54.0);
    CHECK(v[2] - query_shift(dac, 4, x) == 32.0);

    // key_end limits the columns evaluated
    double w[3] = {-1.0, -1.0, -1.0};
    cells.bitlines(dac, 2, 0, 0, x, w);
    CHECK(w[0] == 37.0);
    CHECK(w[1] == -62.0);
    CHECK(w[2] == -1.0);

    // programming in chunks gives the same array
    CellArray chunked;
    chunked.reset(3, 4);
    CHECK(chunked.program(kKeys, 0, 2, 0, x) == 8);
    CHECK(chunked.program(kKeys + 8, 2, 1, 0, x) == 4);
    for (int j = 0; j < 3; ++j)
        for (int e = 0; e < 4; ++e) CHECK(chunked.conductance(j, e) == cells.conductance(j, e));

    // mid-point reconstruction: the same cells, the DAC drives q_dac + 1/2 and the shift is
    // 7.5 * sum(q_dac + 1/2), so v - shift = sum (q_dac + 1/2)(k_msb + 1/2)
    XbarNumerics m;
    REQUIRE(m.midpoint);
    CHECK(query_shift(dac, 4, m) == 7.5 * (-1.0 + 4 * 0.5));
    cells.bitlines(dac, 3, 0, 0, m, v);
    for (int j = 0; j < 3; ++j) {
        double expect = 0.0;
        for (int e = 0; e < 4; ++e)
            expect += (double(dac[e]) + 0.5) * (double(levels[j][e] - 8) + 0.5);
        CHECK(v[j] - query_shift(dac, 4, m) == expect);
    }
}

// d = 64 and 128 take the AVX2 kernel where the CPU has it (d a multiple of 32 and the products'
// pair sums within 16 bits); 8-bit keys with 7- or 8-bit queries exceed that range and take the
// plain loop: both must give these exact sums.
TEST_CASE("core/crossbar: bitline minus shift equals sum q_dac*k_msb on random data",
          "[core][crossbar]") {
    const std::vector<std::pair<int, int>> widths = {{2, 5}, {3, 4}, {4, 3}, {5, 2}, {4, 4},
                                                     {6, 6}, {8, 4}, {7, 8}, {8, 7}, {8, 8}};
    for (const auto& [bits, qbits] : widths)
        for (int d : {24, 64, 128})
            for (bool midpoint : {false, true}) {
                CAPTURE(bits, qbits, d, midpoint);
                XbarNumerics x;
                x.midpoint = midpoint;
                x.key_bits = bits;
                x.query_bits = qbits;
                const int n = 20;
                const auto k = random_i8(std::size_t(n) * d, 5 + bits);
                const auto q = random_i8(std::size_t(d), 50 + bits);
                CellArray cells;
                cells.reset(n, d);
                cells.program(k.data(), 0, n, 3, x);
                std::vector<int8_t> dac(static_cast<std::size_t>(d));
                query_to_dac(q.data(), d, x, dac.data());
                std::vector<double> v(static_cast<std::size_t>(n), -1.0);
                const int first = d == 64 ? 3 : 0;  // a later pass starts at a key of its own
                cells.bitlines(dac.data(), n, 3, 9, x, v.data(), first);
                const double shift = query_shift(dac.data(), d, x);
                const double half = midpoint ? 0.5 : 0.0;
                for (int j = 0; j < first; ++j) REQUIRE(v[std::size_t(j)] == -1.0);  // untouched
                for (int j = first; j < n; ++j) {
                    double expect = 0, qsum = 0;
                    for (int e = 0; e < d; ++e) {
                        const double qd = double(q[std::size_t(e)] >> (8 - x.query_bits)) + half;
                        expect += qd * (double(k[std::size_t(j) * d + e] >> (8 - bits)) + half);
                        qsum += qd;
                    }
                    const double mid =
                        midpoint ? double((1 << bits) - 1) / 2.0 : double(1 << (bits - 1));
                    REQUIRE(shift == qsum * mid);
                    REQUIRE(v[std::size_t(j)] - shift == expect);
                }
            }
}

TEST_CASE("core/crossbar: threshold units and raw-to-logit scaling", "[core][crossbar]") {
    HeadParams hp;
    hp.s_q = 0.5f;
    hp.s_k = 0.25f;
    hp.threshold = 2.0f;
    XbarNumerics x;  // 4/4 bits: one raw unit = 16 * 16 int8 units
    // 256 * 0.5 * 0.25 / sqrt(16) = 8
    CHECK(raw_to_logit(hp, 16, x) == 8.0);
    CHECK(exact_logit_scale(hp, 16) == 0.03125);
    CHECK(threshold_raw(hp, 16, x) == 0.25);
    CHECK(threshold_raw(hp, 16, x) * raw_to_logit(hp, 16, x) == Approx(hp.threshold));

    x.key_bits = 2;  // 64 * 16 = 1024 int8 units per raw unit
    CHECK(raw_to_logit(hp, 16, x) == 32.0);
    CHECK(threshold_raw(hp, 16, x) == 0.0625);
    x.query_bits = 8;
    CHECK(raw_to_logit(hp, 16, x) == 2.0);

    hp.threshold = -3.0f;
    x = XbarNumerics{};
    CHECK(threshold_raw(hp, 64, x) == Approx(-3.0 / (256.0 * 0.125 / 8.0)));

    // When the low bits of q and k are zero the approximate and exact logits coincide.
    XbarNumerics x4;
    const int d = 9;
    const auto qs = random_i8(std::size_t(d), 11);
    const auto ks = random_i8(std::size_t(d), 12);
    int8_t q[9], k[9], dac[9];
    long exact = 0, approx = 0;
    for (int e = 0; e < d; ++e) {
        q[e] = int8_t(qs[std::size_t(e)] & ~15);
        k[e] = int8_t(ks[std::size_t(e)] & ~15);
        exact += long(q[e]) * long(k[e]);
        approx += long(query_dac(q[e], 4)) * long(key_msb(k[e], 4));
    }
    query_to_dac(q, d, x4, dac);
    CHECK(double(approx) * raw_to_logit(hp, d, x4) ==
          Approx(double(exact) * exact_logit_scale(hp, d)).epsilon(1e-12));
}

TEST_CASE("core/crossbar: compare_bitlines masks and margins", "[core][crossbar]") {
    XbarNumerics x;
    const double v[3] = {37.0, -62.0, 24.0};
    uint8_t mask[3] = {9, 9, 9};
    double margins[3];
    // margin = v - shift = {45, -54, 32}; threshold 32 keeps the tie
    CHECK(compare_bitlines(v, 3, -8.0, 32.0, x, mask, margins) == 2);
    CHECK(margins[0] == 45.0);
    CHECK(margins[1] == -54.0);
    CHECK(margins[2] == 32.0);
    CHECK(int(mask[0]) == 1);
    CHECK(int(mask[1]) == 0);
    CHECK(int(mask[2]) == 1);

    CHECK(compare_bitlines(v, 3, -8.0, 32.5, x, mask, nullptr) == 1);
    CHECK(int(mask[0]) == 1);
    CHECK(int(mask[1]) == 0);
    CHECK(int(mask[2]) == 0);

    CHECK(compare_bitlines(v, 3, -8.0, -INFINITY, x, mask, nullptr) == 3);
    CHECK(compare_bitlines(v, 3, -8.0, INFINITY, x, mask, nullptr) == 0);
    CHECK(compare_bitlines(v, 3, -8.0, -54.0, x, mask, nullptr) == 3);
    CHECK(compare_bitlines(v, 3, -8.0, -53.999, x, mask, nullptr) == 2);

    // only [0, key_end) is written
    uint8_t m2[3] = {7, 7, 7};
    CHECK(compare_bitlines(v, 2, -8.0, 0.0, x, m2, nullptr) == 1);
    CHECK(int(m2[2]) == 7);

    // with comparator offsets: margin_j = v_j - shift + offset_j
    x.comparator_offset_sigma = 3.0;
    x.seed = 5;
    CHECK(compare_bitlines(v, 3, -8.0, 32.0, x, mask, margins) ==
          uint32_t((45.0 + comparator_offset(0, x) >= 32.0) +
                   (-54.0 + comparator_offset(1, x) >= 32.0) +
                   (32.0 + comparator_offset(2, x) >= 32.0)));
    for (uint32_t j = 0; j < 3; ++j) {
        CHECK(margins[j] == v[j] + 8.0 + comparator_offset(j, x));
        CHECK(int(mask[j]) == int(margins[j] >= 32.0));
    }
}

TEST_CASE("core/crossbar: the query-max rule compares each margin less the query's largest",
          "[core][crossbar]") {
    XbarNumerics x;
    x.query_max = true;
    const double v[4] = {37.0, -62.0, 24.0, 30.0};
    uint8_t mask[4] = {9, 9, 9, 9};
    double margins[4];
    // margins {45, -54, 32, 38}, the largest 45: threshold -7 keeps 45 and 38 (45 - 7 = 38)
    CHECK(compare_bitlines(v, 4, -8.0, -7.0, x, mask, margins) == 2);
    CHECK(int(mask[0]) == 1);
    CHECK(int(mask[1]) == 0);
    CHECK(int(mask[2]) == 0);
    CHECK(int(mask[3]) == 1);
    CHECK(margins[3] == 38.0);  // the margins themselves, not less the maximum
    // threshold 0 keeps the largest alone; a shift of every bitline keeps the same keys
    CHECK(compare_bitlines(v, 4, -8.0, 0.0, x, mask, nullptr) == 1);
    CHECK(compare_bitlines(v, 4, 100.0, -7.0, x, mask, nullptr) == 2);
    // the maximum is over the keys evaluated together, [first, key_end)
    CHECK(compare_bitlines(v, 4, -8.0, -7.0, x, mask, nullptr, 2) == 2);  // {32, 38}: 31
    CHECK(int(mask[2]) == 1);
    // the head rule on the same margins: threshold 38 keeps 45 and 38, -7 keeps three
    x.query_max = false;
    CHECK(compare_bitlines(v, 4, -8.0, -7.0, x, mask, nullptr) == 3);
}

TEST_CASE("core/crossbar: comparator offsets are per comparator, order independent",
          "[core][crossbar]") {
    XbarNumerics x;
    CHECK(comparator_offset(0, x) == 0.0);
    CHECK(comparator_offset(1234, x) == 0.0);

    x.comparator_offset_sigma = 2.0;
    x.seed = 42;
    const int n = 4000;
    std::vector<double> fwd(n), rev(n);
    for (int j = 0; j < n; ++j) fwd[std::size_t(j)] = comparator_offset(uint32_t(j), x);
    for (int j = n - 1; j >= 0; --j) rev[std::size_t(j)] = comparator_offset(uint32_t(j), x);
    CHECK(fwd == rev);
    // interleaved with unrelated draws
    for (int j = 0; j < n; j += 37) {
        XbarNumerics other = x;
        other.seed = 7;
        (void)comparator_offset(uint32_t(j), other);
        REQUIRE(comparator_offset(uint32_t(j), x) == fwd[std::size_t(j)]);
    }
    CHECK(fwd[0] != fwd[1]);

    // linear in sigma, changes with the seed
    XbarNumerics unit = x;
    unit.comparator_offset_sigma = 1.0;
    CHECK(comparator_offset(17, x) == 2.0 * comparator_offset(17, unit));
    XbarNumerics seed2 = x;
    seed2.seed = 43;
    int differ = 0;
    for (int j = 0; j < 100; ++j)
        differ += comparator_offset(uint32_t(j), seed2) != fwd[std::size_t(j)];
    CHECK(differ == 100);

    // N(0, sigma^2): with 4000 draws the sample mean has sd 2/63 = 0.032, the sample sd about
    // 2/sqrt(8000) = 0.022; the bounds are > 5 standard errors.
    double sum = 0.0, sq = 0.0;
    for (double o : fwd) {
        sum += o;
        sq += o * o;
    }
    const double mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
    CHECK(std::fabs(mean) < 0.17);
    CHECK(sd == Approx(2.0).margin(0.12));
}

namespace {

struct Eval {
    std::vector<double> g, v;
    std::vector<uint8_t> mask;
};

// Program 32 random keys (d = 16), evaluate 3 queries; concatenate conductances, bitlines, masks.
Eval evaluate(const XbarNumerics& x, uint32_t head = 0) {
    const int n = 32, d = 16;
    const auto k = random_i8(std::size_t(n) * d, 1001);
    CellArray cells;
    cells.reset(n, d);
    cells.program(k.data(), 0, n, head, x);
    Eval r;
    for (int j = 0; j < n; ++j)
        for (int e = 0; e < d; ++e) r.g.push_back(cells.conductance(j, e));
    for (uint32_t qi = 0; qi < 3; ++qi) {
        const auto q = random_i8(std::size_t(d), 2000 + qi);
        std::vector<int8_t> dac(static_cast<std::size_t>(d));
        query_to_dac(q.data(), d, x, dac.data());
        std::vector<double> v(static_cast<std::size_t>(n));
        cells.bitlines(dac.data(), n, head, qi, x, v.data());
        std::vector<uint8_t> m(static_cast<std::size_t>(n));
        compare_bitlines(v.data(), n, query_shift(dac.data(), d, x), 5.0, x, m.data(), nullptr);
        r.v.insert(r.v.end(), v.begin(), v.end());
        r.mask.insert(r.mask.end(), m.begin(), m.end());
    }
    return r;
}

XbarNumerics noisy(uint64_t seed) {
    XbarNumerics x;
    x.read_noise_sigma = 4.0;
    x.cell_variation_sigma = 0.2;
    x.stuck_at_zero_rate = 0.05;
    x.stuck_at_max_rate = 0.05;
    x.comparator_offset_sigma = 6.0;
    x.seed = seed;
    return x;
}

}  // namespace

TEST_CASE("core/crossbar: non-idealities are a pure function of the seed", "[core][crossbar]") {
    const XbarNumerics a = noisy(3);
    CHECK_FALSE(a.ideal());
    const Eval e1 = evaluate(a), e2 = evaluate(a);
    CHECK(e1.g == e2.g);
    CHECK(e1.v == e2.v);
    CHECK(e1.mask == e2.mask);

    const Eval e3 = evaluate(noisy(4));
    CHECK(e1.g != e3.g);
    CHECK(e1.v != e3.v);
    CHECK(e1.mask != e3.mask);

    // each non-ideality on its own moves the result away from the ideal one
    const Eval ideal = evaluate(XbarNumerics{});
    XbarNumerics r = XbarNumerics{};
    r.read_noise_sigma = 1.0;
    CHECK(evaluate(r).g == ideal.g);
    CHECK(evaluate(r).v != ideal.v);
    XbarNumerics c = XbarNumerics{};
    c.cell_variation_sigma = 0.1;
    CHECK(evaluate(c).g != ideal.g);
    XbarNumerics s = XbarNumerics{};
    s.stuck_at_zero_rate = 0.1;
    CHECK(evaluate(s).g != ideal.g);
}

TEST_CASE("core/crossbar: zero sigmas and rates give exactly the ideal result",
          "[core][crossbar]") {
    XbarNumerics x;
    x.seed = 12345;  // the seed alone changes nothing
    REQUIRE(x.ideal());
    const Eval a = evaluate(x), b = evaluate(XbarNumerics{});
    CHECK(a.g == b.g);
    CHECK(a.v == b.v);
    CHECK(a.mask == b.mask);
    for (double g : a.g) {
        REQUIRE(g == std::floor(g));
        REQUIRE(g >= 0.0);
        REQUIRE(g <= 15.0);
    }
    for (auto set : {+[](XbarNumerics& y) { y.read_noise_sigma = 1e-3; },
                     +[](XbarNumerics& y) { y.cell_variation_sigma = 1e-3; },
                     +[](XbarNumerics& y) { y.stuck_at_zero_rate = 1e-3; },
                     +[](XbarNumerics& y) { y.stuck_at_max_rate = 1e-3; },
                     +[](XbarNumerics& y) { y.comparator_offset_sigma = 1e-3; }}) {
        XbarNumerics y;
        set(y);
        CHECK_FALSE(y.ideal());
    }
}

TEST_CASE("core/crossbar: stuck cells at rate 1 force every cell to 0 or to the top level",
          "[core][crossbar]") {
    for (int bits : {4, 2}) {
        XbarNumerics z;
        z.key_bits = bits;
        z.stuck_at_zero_rate = 1.0;
        z.cell_variation_sigma = 0.3;  // stuck overrides variation
        const Eval ez = evaluate(z);
        for (double g : ez.g) REQUIRE(g == 0.0);
        for (double v : ez.v) REQUIRE(v == 0.0);

        XbarNumerics m;
        m.key_bits = bits;
        m.stuck_at_max_rate = 1.0;
        m.cell_variation_sigma = 0.3;
        const Eval em = evaluate(m);
        for (double g : em.g) REQUIRE(g == double((1 << bits) - 1));
    }
}

TEST_CASE("core/crossbar: stuck-cell rates, head independence of defects", "[core][crossbar]") {
    // all-zero keys sit at level 8; count cells moved to 0 and to 15.
    const int n = 100, d = 64;
    std::vector<int8_t> zeros(std::size_t(n) * d, 0);
    XbarNumerics x;
    x.stuck_at_zero_rate = 0.1;
    x.stuck_at_max_rate = 0.2;
    x.seed = 9;
    CellArray a, b;
    a.reset(n, d);
    b.reset(n, d);
    a.program(zeros.data(), 0, n, 0, x);
    b.program(zeros.data(), 0, n, 5, x);  // another head: the same physical defects
    int n0 = 0, n15 = 0, other = 0;
    for (int j = 0; j < n; ++j)
        for (int e = 0; e < d; ++e) {
            const double g = a.conductance(j, e);
            REQUIRE(g == b.conductance(j, e));
            n0 += g == 0.0;
            n15 += g == 15.0;
            other += g != 0.0 && g != 15.0 && g != 8.0;
        }
    // 6400 cells: sd of the fractions 0.0038 and 0.005; 0.02 is > 4 sd.
    CHECK(double(n0) / (n * d) == Approx(0.1).margin(0.02));
    CHECK(double(n15) / (n * d) == Approx(0.2).margin(0.02));
    CHECK(other == 0);

    // cell variation, in contrast, is drawn per head (it is a property of each programming)
    XbarNumerics v;
    v.cell_variation_sigma = 0.2;
    CellArray c, e;
    c.reset(n, d);
    e.reset(n, d);
    c.program(zeros.data(), 0, n, 0, v);
    e.program(zeros.data(), 0, n, 1, v);
    CHECK(c.conductance(3, 3) != e.conductance(3, 3));
}

TEST_CASE("core/crossbar: cell variation never gives a negative conductance", "[core][crossbar]") {
    XbarNumerics x;
    x.cell_variation_sigma = 3.0;  // huge: many draws below -1/3
    const Eval r = evaluate(x);
    int zero = 0;
    for (double g : r.g) {
        REQUIRE(g >= 0.0);
        zero += g == 0.0;
    }
    CHECK(zero > 0);
}

TEST_CASE("core/crossbar: read noise depends on head, query and bitline, sd as configured",
          "[core][crossbar]") {
    const int n = 50, d = 8;
    std::vector<int8_t> k(std::size_t(n) * d, 0), dac(std::size_t(d), 1);
    XbarNumerics x;
    x.read_noise_sigma = 0.5;
    CellArray cells;
    cells.reset(n, d);
    cells.program(k.data(), 0, n, 0, x);
    // ideal bitline = sum (1 + 1/2) * 8 = 96 (mid-point: the DAC drives code + 1/2)
    std::vector<double> all;
    std::vector<double> v(static_cast<std::size_t>(n)), w(static_cast<std::size_t>(n));
    for (uint32_t qi = 0; qi < 80; ++qi) {
        cells.bitlines(dac.data(), n, 0, qi, x, v.data());
        cells.bitlines(dac.data(), n, 0, qi, x, w.data());
        REQUIRE(v == w);  // re-evaluating the same (head, query) repeats the noise
        for (double b : v) all.push_back(b - 96.0);
    }
    cells.bitlines(dac.data(), n, 1, 0, x, w.data());
    cells.bitlines(dac.data(), n, 0, 0, x, v.data());
    CHECK(v != w);
    CHECK(v[0] != v[1]);
    double sum = 0.0, sq = 0.0;
    for (double a : all) {
        sum += a;
        sq += a * a;
    }
    const double mean = sum / all.size(), sd = std::sqrt(sq / all.size() - mean * mean);
    // 4000 draws: se(mean) = 0.008, se(sd) = 0.006
    CHECK(std::fabs(mean) < 0.05);
    CHECK(sd == Approx(0.5).margin(0.04));
}

// ---- keep rule -------------------------------------------------------------------------------

TEST_CASE("core/keep_rule: key_end for causal, non-causal and padded queries", "[core][keep]") {
    CHECK(key_end(0, 8, false) == 8);
    CHECK(key_end(5, 8, false) == 8);
    CHECK(key_end(7, 8, false) == 8);
    CHECK(key_end(0, 8, true) == 1);
    CHECK(key_end(5, 8, true) == 6);
    CHECK(key_end(7, 8, true) == 8);
    // padding: queries at or after valid_len see nothing
    CHECK(key_end(8, 8, false) == 0);
    CHECK(key_end(8, 8, true) == 0);
    CHECK(key_end(100, 8, false) == 0);
    CHECK(key_end(0, 0, false) == 0);
    CHECK(key_end(0, 0, true) == 0);
    CHECK(key_end(2, 5, false) == 5);  // padded columns excluded
}

TEST_CASE("core/keep_rule: exact_keep compares the logit with the threshold", "[core][keep]") {
    CHECK(exact_keep(100, 0.01, 1.0));  // 1.0 >= 1.0
    CHECK_FALSE(exact_keep(99, 0.01, 1.0));
    CHECK(exact_keep(-50, 0.1, -5.0));
    CHECK_FALSE(exact_keep(-51, 0.1, -5.0));
    CHECK(exact_keep(-2000000000, 1.0, -INFINITY));
    CHECK_FALSE(exact_keep(2000000000, 1.0, INFINITY));
    CHECK(exact_keep(0, 0.5, 0.0));
}

TEST_CASE("core/keep_rule: empty-row policy Self keeps the own position, clamped", "[core][keep]") {
    uint8_t m[6] = {0, 0, 0, 0, 0, 0};
    CHECK(apply_empty_row_policy(m, 6, 3, EmptyRowPolicy::Self, nullptr) == 3);
    CHECK(std::vector<uint8_t>(m, m + 6) == std::vector<uint8_t>{0, 0, 0, 1, 0, 0});

    uint8_t c[6] = {0, 0, 0, 0, 0, 0};
    CHECK(apply_empty_row_policy(c, 4, 9, EmptyRowPolicy::Self, nullptr) == 3);  // clamped
    CHECK(std::vector<uint8_t>(c, c + 6) == std::vector<uint8_t>{0, 0, 0, 1, 0, 0});

    // margins are ignored by Self
    const double margins[3] = {5.0, 1.0, 9.0};
    uint8_t s[3] = {0, 0, 0};
    CHECK(apply_empty_row_policy(s, 3, 0, EmptyRowPolicy::Self, margins) == 0);
    CHECK(int(s[0]) == 1);
    CHECK(int(s[2]) == 0);

    // nothing visible: nothing to keep
    uint8_t e[2] = {0, 0};
    CHECK(apply_empty_row_policy(e, 0, 0, EmptyRowPolicy::Self, nullptr) == -1);
    CHECK(apply_empty_row_policy(e, 0, 0, EmptyRowPolicy::Max, margins) == -1);
    CHECK(int(e[0]) == 0);
}

TEST_CASE("core/keep_rule: empty-row policy Max keeps the first key with the highest margin",
          "[core][keep]") {
    const double margins[5] = {-3.0, 2.5, -1.0, 2.5, 0.0};
    uint8_t m[5] = {0, 0, 0, 0, 0};
    CHECK(apply_empty_row_policy(m, 5, 4, EmptyRowPolicy::Max, margins) == 1);
    CHECK(std::vector<uint8_t>(m, m + 5) == std::vector<uint8_t>{0, 1, 0, 0, 0});

    // only [0, end) is considered
    uint8_t p[5] = {0, 0, 0, 0, 0};
    const double m2[5] = {-3.0, -2.0, -1.0, 100.0, 100.0};
    CHECK(apply_empty_row_policy(p, 3, 0, EmptyRowPolicy::Max, m2) == 2);
    CHECK(std::vector<uint8_t>(p, p + 5) == std::vector<uint8_t>{0, 0, 1, 0, 0});

    const double m3[3] = {-1.0, -7.0, -1.0};
    uint8_t q[3] = {0, 0, 0};
    CHECK(apply_empty_row_policy(q, 3, 2, EmptyRowPolicy::Max, m3) == 0);
}

TEST_CASE("core/keep_rule: a non-empty mask is left unchanged", "[core][keep]") {
    const double margins[4] = {9.0, 9.0, 9.0, 9.0};
    for (auto pol : {EmptyRowPolicy::Self, EmptyRowPolicy::Max}) {
        uint8_t m[4] = {0, 0, 1, 0};
        CHECK(apply_empty_row_policy(m, 4, 0, pol, margins) == -1);
        CHECK(std::vector<uint8_t>(m, m + 4) == std::vector<uint8_t>{0, 0, 1, 0});
        uint8_t a[4] = {1, 1, 1, 1};
        CHECK(apply_empty_row_policy(a, 4, 1, pol, margins) == -1);
        CHECK(std::vector<uint8_t>(a, a + 4) == std::vector<uint8_t>{1, 1, 1, 1});
    }
    // a kept bit beyond end does not count as kept
    uint8_t b[4] = {0, 0, 0, 1};
    CHECK(apply_empty_row_policy(b, 3, 1, EmptyRowPolicy::Self, nullptr) == 1);
    CHECK(std::vector<uint8_t>(b, b + 4) == std::vector<uint8_t>{0, 1, 0, 1});
}

TEST_CASE(
    "core/crossbar: ADC codes round and clip - top-k takes the highest codes, lower key on "
    "ties",
    "[core][crossbar]") {
    XbarNumerics x;
    x.adc_bits = 3;  // codes -4 .. 3
    CHECK(adc_code(0.4, 1.0, x) == 0);
    CHECK(adc_code(0.6, 1.0, x) == 1);
    CHECK(adc_code(-2.6, 1.0, x) == -3);
    CHECK(adc_code(100.0, 1.0, x) == 3);
    CHECK(adc_code(-100.0, 1.0, x) == -4);
    CHECK(adc_code(5.0, 2.0, x) == 2);  // 2.5 rounds to even
    const double m[] = {0.2, 2.9, 1.1, 2.7, -5.0, 3.2};
    uint8_t mask[6];
    double codes[6];
    // Threshold: code x step >= t.
    CHECK(adc_select(m, 6, 2.0, 1.0, x, mask, codes) == 3);
    CHECK(std::vector<uint8_t>(mask, mask + 6) == std::vector<uint8_t>{0, 1, 0, 1, 0, 1});
    CHECK(codes[4] == -4.0);
    // Top 2: codes 0, 3, 1, 3, -4, 3: the three 3s tie, the lower keys win.
    x.adc_topk = 2;
    CHECK(adc_select(m, 6, 1e9, 1.0, x, mask, nullptr) == 2);
    CHECK(std::vector<uint8_t>(mask, mask + 6) == std::vector<uint8_t>{0, 1, 0, 1, 0, 0});
    // From key 2 on only; the merge of two passes' picks is the top-k of the union.
    CHECK(adc_select(m, 6, 1e9, 1.0, x, mask, nullptr, 2) == 2);
    CHECK(mask[3] == 1);
    CHECK(mask[5] == 1);
    CHECK(adc_topk_merge({{3.0, 5}, {1.0, 2}, {3.0, 3}}, 2) == std::vector<uint32_t>{3, 5});
}

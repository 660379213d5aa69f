#include "core/crossbar.h"
#include "core/simd.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#if SPRINT_HAVE_AVX2_KERNELS
#include <immintrin.h>
#endif

#include "core/rng.h"

namespace sprint::core {

double raw_to_logit(const HeadParams& hp, int d, const XbarNumerics& x) {
    const double lsb = double(1 << (8 - x.key_bits)) * double(1 << (8 - x.query_bits));
    return lsb * double(hp.s_q) * double(hp.s_k) / std::sqrt(double(d));
}

double exact_logit_scale(const HeadParams& hp, int d) {
    return double(hp.s_q) * double(hp.s_k) / std::sqrt(double(d));
}

double threshold_raw(const HeadParams& hp, int d, const XbarNumerics& x) {
    return double(hp.threshold) / raw_to_logit(hp, d, x);
}

double query_shift(const int8_t* q_dac, int d, const XbarNumerics& x) {
    int64_t sum = 0;
    for (int e = 0; e < d; ++e) sum += q_dac[e];
    if (!x.midpoint) return double(sum) * double(1 << (x.key_bits - 1));
    // (2^b - 1)/2 * (sum + d/2), exact in a double (a multiple of 1/4)
    return double((int64_t(1) << x.key_bits) - 1) * double(2 * sum + d) / 4.0;
}

double comparator_offset(uint32_t column, const XbarNumerics& x) {
    if (x.comparator_offset_sigma == 0.0) return 0.0;
    return x.comparator_offset_sigma * rng_normal(rng_key(x.seed, kStreamComparatorOffset, column));
}

void CellArray::reset(int keys, int d) {
    m_keys = keys;
    m_d = d;
    m_g.assign(std::size_t(keys) * std::size_t(d), 0.0);
    m_level.assign(std::size_t(keys) * std::size_t(d), 0);
    m_integer = true;
    m_max_level = 0;
}

void CellArray::grow(int keys) {
    if (keys <= m_keys) return;
    m_keys = keys;
    m_g.resize(std::size_t(keys) * std::size_t(m_d), 0.0);
    m_level.resize(std::size_t(keys) * std::size_t(m_d), 0);
}

uint64_t CellArray::program(const int8_t* k_rows, int first, int count, uint32_t head,
                            const XbarNumerics& x) {
    const double max_level = double((1 << x.key_bits) - 1);
    const bool stuck = x.stuck_at_zero_rate > 0.0 || x.stuck_at_max_rate > 0.0;
    for (int c = 0; c < count; ++c) {
        const int j = first + c;
        double* g = m_g.data() + std::size_t(j) * m_d;
        for (int e = 0; e < m_d; ++e) {
            double level = double(cell_level(k_rows[std::size_t(c) * m_d + e], x.key_bits));
            if (x.cell_variation_sigma > 0.0) {
                const double z = rng_normal(rng_key(x.seed, kStreamCellVariation, head, j, e));
                level = std::max(0.0, level * (1.0 + x.cell_variation_sigma * z));
            }
            if (stuck) {
                // A stuck cell is a physical defect: it does not depend on the head programmed.
                const uint32_t col = x.column(uint32_t(j), uint32_t(m_d));
                const double u = rng_uniform(rng_key(x.seed, kStreamStuckCell, col, e));
                if (u < x.stuck_at_zero_rate)
                    level = 0.0;
                else if (u < x.stuck_at_zero_rate + x.stuck_at_max_rate)
                    level = max_level;
            }
            g[e] = level;
            if (level >= 0.0 && level <= 255.0 && level == std::floor(level)) {
                m_level[std::size_t(j) * m_d + e] = uint8_t(level);
                m_max_level = std::max(m_max_level, uint8_t(level));
            } else
                m_integer = false;
        }
    }
    return uint64_t(count) * uint64_t(m_d);
}

#if SPRINT_HAVE_AVX2_KERNELS
namespace {

// out[j] = sum_e levels[j][e] * q[e] for j in [first, end), d a multiple of 32, on AVX2: the
// unsigned levels times the signed inputs in pairs (vpmaddubsw) and the pairs summed in 32 bits.
// Exact while every pair sum fits 16 bits (the caller checks: 2 max_level max|q| <= 32767).
__attribute__((target("avx2"))) void level_dots_avx2(const uint8_t* levels, int d, const int8_t* q,
                                                     int first, int end, int32_t* out) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int j = first; j < end; ++j) {
        const uint8_t* l = levels + std::size_t(j) * std::size_t(d);
        __m256i acc = _mm256_setzero_si256();
        for (int e = 0; e < d; e += 32) {
            const __m256i lv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(l + e));
            const __m256i qv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + e));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(lv, qv), ones));
        }
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
        out[j] = _mm_cvtsi128_si32(s);
    }
}

}  // namespace
#endif

// The integer bitlines of [first, key_end) through the AVX2 kernel, when the CPU has it and
// every pair of products fits its 16-bit sums; false otherwise (the caller's loop does them).
bool CellArray::fast_bitlines(const int8_t* q_dac, int key_end, bool midpoint, double* out,
                              int first) const {
#if SPRINT_HAVE_AVX2_KERNELS
    if (!m_integer || m_d % 32 != 0 || key_end <= first || !cpu_has_avx2()) return false;
    thread_local std::vector<int8_t> q;
    thread_local std::vector<int32_t> acc;
    q.resize(std::size_t(m_d));
    int max_q = 0;
    for (int e = 0; e < m_d; ++e) {  // in half LSBs with mid-point: (2 q_dac + 1)
        const int v = midpoint ? 2 * int(q_dac[e]) + 1 : int(q_dac[e]);
        if (v < -127 || v > 127) return false;
        q[std::size_t(e)] = int8_t(v);
        max_q = std::max(max_q, std::abs(v));
    }
    if (2 * int(m_max_level) * max_q > 32767) return false;
    acc.resize(std::size_t(key_end));
    level_dots_avx2(m_level.data(), m_d, q.data(), first, key_end, acc.data());
    const double scale = midpoint ? 0.5 : 1.0;
    for (int j = first; j < key_end; ++j) out[j] = double(acc[std::size_t(j)]) * scale;
    return true;
#else
    (void)q_dac, (void)key_end, (void)midpoint, (void)out, (void)first;
    return false;
#endif
}

SPRINT_SIMD_CLONES
void CellArray::bitlines(const int8_t* q_dac, int key_end, uint32_t head, uint32_t query,
                         const XbarNumerics& x, double* out, int first) const {
    if (fast_bitlines(q_dac, key_end, x.midpoint, out, first)) {
        if (x.read_noise_sigma > 0.0)
            for (int j = first; j < key_end; ++j)
                out[j] += x.read_noise_sigma *
                          rng_normal(rng_key(x.seed, kStreamReadNoise, head, query, j));
        return;
    }
    for (int j = first; j < key_end; ++j) {
        double v;
        if (m_integer) {
            const uint8_t* l = m_level.data() + std::size_t(j) * m_d;
            int32_t acc = 0;
            if (x.midpoint) {  // in half LSBs: the DAC drives (2 q_dac + 1) / 2
                for (int e = 0; e < m_d; ++e) acc += (2 * int32_t(q_dac[e]) + 1) * int32_t(l[e]);
                v = double(acc) / 2.0;
            } else {
                for (int e = 0; e < m_d; ++e) acc += int32_t(q_dac[e]) * int32_t(l[e]);
                v = double(acc);
            }
        } else {
            const double* g = m_g.data() + std::size_t(j) * m_d;
            const double half = x.midpoint ? 0.5 : 0.0;
            v = 0.0;
            for (int e = 0; e < m_d; ++e) v += (double(q_dac[e]) + half) * g[e];
        }
        if (x.read_noise_sigma > 0.0)
            v += x.read_noise_sigma * rng_normal(rng_key(x.seed, kStreamReadNoise, head, query, j));
        out[j] = v;
    }
}

int CellArray::read_msb(int j, int e, const XbarNumerics& x) const {
    const double max_level = double((1 << x.key_bits) - 1);
    const double level = std::clamp(std::nearbyint(conductance(j, e)), 0.0, max_level);
    return int(level) - (1 << (x.key_bits - 1));
}

void CellArray::read_back(const uint32_t* tokens, uint32_t count, const XbarNumerics& x,
                          int8_t* msb) const {
    if (m_integer) {  // every cell at a whole level within range: read_msb is the level, offset
        const int off = 1 << (x.key_bits - 1), max_level = (1 << x.key_bits) - 1;
        const int d = m_d;  // a local: msb (int8_t) may alias any member, so the loop would reload
        const uint8_t* levels = m_level.data();
        for (uint32_t c = 0; c < count; ++c) {
            const uint8_t* l = levels + std::size_t(tokens[c]) * d;
            int8_t* out = msb + std::size_t(c) * d;
            for (int e = 0; e < d; ++e) out[e] = int8_t(std::min(int(l[e]), max_level) - off);
        }
        return;
    }
    for (uint32_t c = 0; c < count; ++c)
        for (int e = 0; e < m_d; ++e)
            msb[std::size_t(c) * m_d + e] = int8_t(read_msb(int(tokens[c]), e, x));
}

uint32_t key_lsb_row_bytes(int d, int key_bits) {
    return uint32_t((d * (8 - key_bits) + 7) / 8);
}

void pack_key_lsbs(const int8_t* k, int d, int key_bits, uint8_t* out) {
    const int lb = 8 - key_bits;
    if (lb <= 0) return;  // 8-bit keys: the crossbar holds every bit, no low bits exist
    std::fill_n(out, key_lsb_row_bytes(d, key_bits), uint8_t(0));
    for (int e = 0; e < d; ++e) {
        const uint32_t v = uint32_t(uint8_t(k[e])) & ((1u << lb) - 1u);
        const int bit = e * lb;
        out[bit / 8] |= uint8_t(v << (bit % 8));
        if (bit % 8 + lb > 8) out[bit / 8 + 1] |= uint8_t(v >> (8 - bit % 8));
    }
}

void join_key_row(const int8_t* msb, const uint8_t* lsb, int d, int key_bits, int8_t* out) {
    const int lb = 8 - key_bits;
    if (lb <= 0) {  // 8-bit keys: the read-back is the whole key
        std::copy_n(msb, d, out);
        return;
    }
    if (lb == 4) {  // nibbles: element e in the low (even e) or high (odd e) half of byte e / 2
        const int pairs = d / 2;
        for (int p = 0; p < pairs; ++p) {  // in pairs, so the loop vectorises
            out[2 * p] = int8_t(int(msb[2 * p]) * 16 + int(lsb[p] & 15u));
            out[2 * p + 1] = int8_t(int(msb[2 * p + 1]) * 16 + int(lsb[p] >> 4));
        }
        if (d % 2) out[d - 1] = int8_t(int(msb[d - 1]) * 16 + int(lsb[pairs] & 15u));
        return;
    }
    for (int e = 0; e < d; ++e) {
        const int bit = e * lb;
        uint32_t v = uint32_t(lsb[bit / 8]) >> (bit % 8);
        if (bit % 8 + lb > 8) v |= uint32_t(lsb[bit / 8 + 1]) << (8 - bit % 8);
        v &= (1u << lb) - 1u;
        out[e] = int8_t(int(msb[e]) * (1 << lb) + int(v));
    }
}

std::vector<int8_t> readback_keys(const int8_t* k_rows, int n, int d, uint32_t valid, uint32_t head,
                                  const XbarNumerics& x) {
    std::vector<int8_t> out(k_rows, k_rows + std::size_t(n) * d);
    CellArray cells;
    cells.reset(n, d);
    cells.program(k_rows, 0, int(valid), head, x);
    std::vector<int8_t> msb(static_cast<std::size_t>(d));
    std::vector<uint8_t> lsb(key_lsb_row_bytes(d, x.key_bits));
    for (uint32_t j = 0; j < valid; ++j) {
        cells.read_back(&j, 1, x, msb.data());
        pack_key_lsbs(k_rows + std::size_t(j) * d, d, x.key_bits, lsb.data());
        join_key_row(msb.data(), lsb.data(), d, x.key_bits, out.data() + std::size_t(j) * d);
    }
    return out;
}

void query_to_dac(const int8_t* q, int d, const XbarNumerics& x, int8_t* q_dac) {
    for (int e = 0; e < d; ++e) q_dac[e] = int8_t(query_dac(q[e], x.query_bits));
}

SPRINT_SIMD_CLONES
void bitline_margins(const double* v, int key_end, double shift, const XbarNumerics& x, int d,
                     double* margins, int first) {
    if (x.comparator_offset_sigma == 0.0) {  // no offsets: no column to look up per key
        for (int j = first; j < key_end; ++j) margins[j] = v[j] - shift;
        return;
    }
    for (int j = first; j < key_end; ++j)
        margins[j] = v[j] - shift + comparator_offset(x.column(uint32_t(j), uint32_t(d)), x);
}

SPRINT_SIMD_CLONES
uint32_t compare_bitlines(const double* v, int key_end, double shift, double t_raw,
                          const XbarNumerics& x, uint8_t* mask, double* margins, int first, int d) {
    thread_local std::vector<double> scratch;
    if (!margins) {
        scratch.resize(std::size_t(std::max(0, key_end)));
        margins = scratch.data();
    }
    bitline_margins(v, key_end, shift, x, d, margins, first);
    double t = t_raw;
    if (x.query_max && key_end > first)  // relative to the query's largest margin
        t += *std::max_element(margins + first, margins + key_end);
    uint32_t kept = 0;
    for (int j = first; j < key_end; ++j) {
        mask[j] = margins[j] >= t ? 1 : 0;
        kept += mask[j];
    }
    return kept;
}

}  // namespace sprint::core

namespace sprint::core {

double adc_step_raw(const HeadParams& hp, int d, const XbarNumerics& x) {
    return 2.0 * x.adc_full_scale / double(int64_t(1) << x.adc_bits) / raw_to_logit(hp, d, x);
}

int adc_code(double margin_raw, double step_raw, const XbarNumerics& x) {
    const double lo = -double(int64_t(1) << (x.adc_bits - 1)), hi = -lo - 1.0;
    return int(std::clamp(std::nearbyint(margin_raw / step_raw), lo, hi));
}

uint32_t adc_select(const double* margins, int key_end, double t_raw, double step_raw,
                    const XbarNumerics& x, uint8_t* mask, double* codes, int first) {
    std::vector<std::pair<double, uint32_t>> coded;
    uint32_t kept = 0;
    for (int j = first; j < key_end; ++j) {
        const double c = double(adc_code(margins[j], step_raw, x));
        if (codes) codes[j] = c;
        if (x.adc_topk) {
            coded.emplace_back(c, uint32_t(j));
            mask[j] = 0;
        } else {
            mask[j] = c * step_raw >= t_raw ? 1 : 0;
            kept += mask[j];
        }
    }
    if (!x.adc_topk) return kept;
    for (uint32_t j : adc_topk_merge(std::move(coded), x.adc_topk)) mask[j] = 1;
    return std::min<uint32_t>(x.adc_topk, uint32_t(std::max(0, key_end - first)));
}

std::vector<uint32_t> adc_topk_merge(std::vector<std::pair<double, uint32_t>> coded, uint32_t k) {
    const std::size_t n = std::min<std::size_t>(k, coded.size());
    std::partial_sort(coded.begin(), coded.begin() + std::ptrdiff_t(n), coded.end(),
                      [](const auto& a, const auto& b) {
                          return a.first != b.first ? a.first > b.first : a.second < b.second;
                      });
    std::vector<uint32_t> keys;
    for (std::size_t i = 0; i < n; ++i) keys.push_back(coded[i].second);
    std::sort(keys.begin(), keys.end());
    return keys;
}

}  // namespace sprint::core

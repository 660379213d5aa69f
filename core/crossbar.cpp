#include "core/crossbar.h"

#include <algorithm>
#include <cmath>

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

double comparator_offset(uint32_t j, const XbarNumerics& x) {
    if (x.comparator_offset_sigma == 0.0) return 0.0;
    return x.comparator_offset_sigma * rng_normal(rng_key(x.seed, kStreamComparatorOffset, j));
}

void CellArray::reset(int keys, int d) {
    m_keys = keys;
    m_d = d;
    m_g.assign(std::size_t(keys) * std::size_t(d), 0.0);
    m_level.assign(std::size_t(keys) * std::size_t(d), 0);
    m_integer = true;
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
                const double u = rng_uniform(rng_key(x.seed, kStreamStuckCell, j, e));
                if (u < x.stuck_at_zero_rate)
                    level = 0.0;
                else if (u < x.stuck_at_zero_rate + x.stuck_at_max_rate)
                    level = max_level;
            }
            g[e] = level;
            if (level >= 0.0 && level <= 255.0 && level == std::floor(level))
                m_level[std::size_t(j) * m_d + e] = uint8_t(level);
            else
                m_integer = false;
        }
    }
    return uint64_t(count) * uint64_t(m_d);
}

void CellArray::bitlines(const int8_t* q_dac, int key_end, uint32_t head, uint32_t query,
                         const XbarNumerics& x, double* out) const {
    for (int j = 0; j < key_end; ++j) {
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

void query_to_dac(const int8_t* q, int d, const XbarNumerics& x, int8_t* q_dac) {
    for (int e = 0; e < d; ++e) q_dac[e] = int8_t(query_dac(q[e], x.query_bits));
}

uint32_t compare_bitlines(const double* v, int key_end, double shift, double t_raw,
                          const XbarNumerics& x, uint8_t* mask, double* margins) {
    uint32_t kept = 0;
    for (int j = 0; j < key_end; ++j) {
        const double m = v[j] - shift + comparator_offset(uint32_t(j), x);
        if (margins) margins[j] = m;
        mask[j] = m >= t_raw ? 1 : 0;
        kept += mask[j];
    }
    return kept;
}

}  // namespace sprint::core

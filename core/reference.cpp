#include "core/reference.h"
#include "core/simd.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#if SPRINT_HAVE_AVX2_KERNELS
#include <immintrin.h>
#endif

#include "core/keep_rule.h"
#include "core/row_engine.h"

namespace sprint::core {

HeadMasks::HeadMasks(const QuantizedWorkload& w, int h, const JobOptions& opt,
                     const XbarNumerics& x)
    : m_w(w), m_h(h), m_opt(opt), m_x(x.for_head(uint32_t(h), uint32_t(w.k.n), uint32_t(w.k.d))) {
    const int n = w.k.n, d = w.k.d;
    const HeadParams& hp = w.heads[std::size_t(h)];
    m_v.resize(std::size_t(n));
    m_margins.resize(std::size_t(n));
    if (opt.mode == Mode::Sprint) {
        m_cells.reset(n, d);
        m_cells.program(w.k.head(h), 0, int(hp.valid_len), uint32_t(h), m_x);
        m_t_raw = threshold_raw(hp, d, x);
        m_q_dac.resize(std::size_t(d));
    }
    m_scale = exact_logit_scale(hp, d);
}

int HeadMasks::row(int i, uint8_t* mask) {
    const int d = m_w.k.d, h = m_h;
    const HeadParams& hp = m_w.heads[std::size_t(h)];
    const int end = key_end(i, hp.valid_len, m_opt.causal);
    if (end == 0) return 0;
    switch (m_opt.mode) {
        case Mode::Sprint: {
            query_to_dac(m_w.q.row(h, i), d, m_x, m_q_dac.data());
            m_cells.bitlines(m_q_dac.data(), end, uint32_t(h), uint32_t(i), m_x, m_v.data());
            const double shift = query_shift(m_q_dac.data(), d, m_x);
            compare_bitlines(m_v.data(), end, shift, m_t_raw, m_x, mask, m_margins.data(), 0, d);
            if (m_x.adc_bits)  // ADC read-out: decisions (and the max policy) on the codes
                adc_select(m_margins.data(), end, m_t_raw, adc_step_raw(hp, d, m_x), m_x, mask,
                           m_margins.data());
            apply_empty_row_policy(mask, end, i, m_opt.empty_row, m_margins.data());
            break;
        }
        case Mode::OnchipPrune:
            for (int j = 0; j < end; ++j) {
                const int32_t s = dot_i8(m_w.q.row(h, i), m_w.k.row(h, j), d);
                m_margins[std::size_t(j)] = double(s) * m_scale;
                mask[j] = exact_keep(s, m_scale, hp.threshold) ? 1 : 0;
            }
            apply_empty_row_policy(mask, end, i, m_opt.empty_row, m_margins.data());
            break;
        case Mode::Dense:
        case Mode::DenseStream:
            std::fill(mask, mask + end, uint8_t(1));
            break;
    }
    return end;
}

const double* HeadMasks::scores_logits() {
    const HeadParams& hp = m_w.heads[std::size_t(m_h)];
    const int d = m_w.k.d;
    double scale = 1.0;  // onchip-prune: the margins are the exact scores in logits
    if (m_opt.mode == Mode::Sprint)
        scale = m_x.adc_bits ? adc_step_raw(hp, d, m_x) * raw_to_logit(hp, d, m_x)
                             : raw_to_logit(hp, d, m_x);
    else if (m_opt.mode != Mode::OnchipPrune)
        return nullptr;
    m_logits.resize(m_margins.size());
    for (std::size_t j = 0; j < m_margins.size(); ++j) m_logits[j] = m_margins[j] * scale;
    return m_logits.data();
}

Tensor3 no_recompute_output(const QuantizedWorkload& w, const JobOptions& opt,
                            const XbarNumerics& x) {
    if (opt.mode != Mode::Sprint && opt.mode != Mode::OnchipPrune)
        throw std::invalid_argument("without recompute: only the pruning modes judge scores");
    const int H = w.q.heads, n = w.q.n, d = w.q.d;
    Tensor3 out(H, n, d);
    std::vector<uint8_t> mask(static_cast<std::size_t>(n));
    std::vector<double> acc(static_cast<std::size_t>(d));
    for (int h = 0; h < H; ++h) {
        const double s_v = w.heads[std::size_t(h)].s_v;
        HeadMasks hm(w, h, opt, x);
        for (int i = 0; i < n; ++i) {
            const int end = hm.row(i, mask.data());
            if (end == 0) continue;
            const double* logit = hm.scores_logits();
            double mx = -HUGE_VAL, sum = 0.0;
            for (int j = 0; j < end; ++j)
                if (mask[std::size_t(j)]) mx = std::max(mx, logit[j]);
            std::fill(acc.begin(), acc.end(), 0.0);
            for (int j = 0; j < end; ++j) {
                if (!mask[std::size_t(j)]) continue;
                const double pj = std::exp(logit[j] - mx);
                sum += pj;
                const int8_t* vj = w.v.row(h, j);
                for (int e = 0; e < d; ++e) acc[std::size_t(e)] += pj * double(vj[e]);
            }
            float* o = out.row(h, i);
            for (int e = 0; e < d; ++e) o[e] = float(acc[std::size_t(e)] * s_v / sum);
        }
    }
    return out;
}

KeepMasks reference_masks(const QuantizedWorkload& w, const JobOptions& opt,
                          const XbarNumerics& x) {
    KeepMasks m;
    m.reset(w.q.heads, w.q.n);
    for (int h = 0; h < w.q.heads; ++h) {
        HeadMasks hm(w, h, opt, x);
        for (int i = 0; i < w.q.n; ++i) hm.row(i, m.row(h, i));
    }
    return m;
}

namespace {

// A sprint row as the IP's key-interleaved units compute it: `whole` holds the kept keys' scores
// (ascending); unit u takes keys t with t mod units == u.
template <class KRow>
void split_row(std::vector<RowEngine>& units, const RowEngine& whole, const HeadParams& hp,
               double ls, const JobOptions& opt, const int8_t* q, const KRow& k_row,
               const QTensor& v, int h, uint8_t* out) {
    const uint32_t u_n = uint32_t(units.size());
    const int d = v.d;
    for (auto& u : units) u.begin(q, d, ls, hp.s_v, opt.softmax, opt.output);
    for (uint32_t t : whole.tokens()) units[t % u_n].score(t, k_row(int(t)));
    bool any = false;
    int32_t row_max = 0;
    for (const auto& u : units) {
        int32_t m = 0;
        if (u.local_max(m) && (!any || m > row_max)) row_max = m;
        any |= u.local_max(m);
    }
    uint64_t total = 0;
    double total_f = 0.0;
    for (auto& u : units) {
        u.softmax_shared(row_max);
        total += u.local_sum();
        total_f += u.local_sum_float();
    }
    for (auto& u : units) {
        if (opt.softmax != SoftmaxKind::Fixed) u.normalise(total, total_f);
        for (std::size_t k = 0; k < u.tokens().size(); ++k)
            u.accumulate(u.tokens()[k], v.row(h, int(u.tokens()[k])));
    }
    for (uint32_t u = 1; u < u_n; ++u) units[0].merge(units[u].partial());
    units[0].finish(out);
}

// A dense row with the online softmax as the IP's key-interleaved units compute it (the keys
// [0, end), unit u takes t mod units == u), tile by tile (core/row_engine.h).
template <class KRow>
void split_row_online(std::vector<RowEngine>& units, int end, const HeadParams& hp, double ls,
                      const JobOptions& opt, const int8_t* q, const KRow& k_row, const QTensor& v,
                      int h, uint8_t* out) {
    const uint32_t u_n = uint32_t(units.size()), tile = online_tile(opt);
    for (auto& u : units) {
        u.begin(q, v.d, ls, hp.s_v, opt.softmax, opt.output);
        u.set_online(tile);
    }
    bool any = false;
    int32_t run_max = 0;
    for (uint32_t a = 0; a < uint32_t(end); a += tile) {
        const uint32_t b = std::min(uint32_t(end), a + tile);
        for (uint32_t j = a; j < b; ++j) units[j % u_n].score(j, k_row(int(j)));
        for (const auto& u : units) {
            int32_t m = 0;
            if (u.local_max(m) && (!any || m > run_max)) run_max = m, any = true;
        }
        for (uint32_t u = 0; u < u_n; ++u) units[u].enter_tile_shared(a / tile, run_max, u == 0);
        for (uint32_t j = a; j < b; ++j) units[j % u_n].accumulate(j, v.row(h, int(j)));
        for (uint32_t u = 1; u < u_n; ++u) units[0].merge(units[u].take_partial());
    }
    units[0].softmax();  // closes the row
    units[0].finish(out);
}

}  // namespace

std::vector<uint8_t> reference_output(const QuantizedWorkload& w, const JobOptions& opt,
                                      const XbarNumerics& x, KeepMasks* masks_out) {
    const int H = w.q.heads, n = w.q.n, d = w.q.d;
    const std::size_t eb = output_element_bytes(opt.output);
    std::vector<uint8_t> out(std::size_t(H) * n * d * eb, 0);
    // Onchip-prune computes exact scores for every visible key and prunes inside the datapath,
    // so its candidate set is the dense one.
    JobOptions cand = opt;
    if (opt.mode == Mode::OnchipPrune) cand.mode = Mode::Dense;
    if (masks_out) masks_out->reset(H, n);  // only when asked: N x N bytes per head
    std::vector<uint8_t> row(static_cast<std::size_t>(n));
    RowEngine eng;
    std::vector<RowEngine> units(std::max(1u, opt.key_units));
    std::vector<int8_t> k_read;  // K-MSB read-back: the keys the datapath gets
    for (int h = 0; h < H; ++h) {
        const HeadParams& hp = w.heads[std::size_t(h)];
        const double ls = exact_logit_scale(hp, d);
        const bool readback = head_reads_back(opt, x, hp.valid_len, uint32_t(d));
        if (readback)
            k_read = readback_keys(w.k.head(h), n, d, hp.valid_len, uint32_t(h),
                                   x.for_head(uint32_t(h), uint32_t(n), uint32_t(d)));
        auto k_row = [&](int j) {
            return readback ? k_read.data() + std::size_t(j) * d : w.k.row(h, j);
        };
        HeadMasks hm(w, h, cand, x);
        for (int i = 0; i < n; ++i) {
            const int end = hm.row(i, row.data());
            if (end == 0) continue;
            eng.begin(w.q.row(h, i), d, ls, hp.s_v, opt.softmax, opt.output);
            eng.set_online(online_tile(opt));
            for (int j = 0; j < end; ++j)
                if (row[std::size_t(j)]) eng.score(uint32_t(j), k_row(j));
            if (opt.mode == Mode::OnchipPrune) {
                eng.prune(hp.threshold, opt.empty_row, uint32_t(i));
                std::fill(row.begin(), row.end(), uint8_t(0));
                for (uint32_t t : eng.tokens()) row[t] = 1;
            }
            if (masks_out) std::copy(row.begin(), row.begin() + end, masks_out->row(h, i));
            uint8_t* o = out.data() + (std::size_t(h) * n + i) * d * eb;
            if (units.size() > 1 && online_tile(opt)) {  // dense on pooled units
                split_row_online(units, end, hp, ls, opt, w.q.row(h, i), k_row, w.v, h, o);
                continue;
            }
            if (units.size() > 1) {  // the IP's key-interleaved units (core/row_engine.h)
                split_row(units, eng, hp, ls, opt, w.q.row(h, i), k_row, w.v, h, o);
                continue;
            }
            for (uint32_t t : eng.softmax()) eng.accumulate(t, w.v.row(h, int(t)));
            eng.finish(o);
        }
    }
    return out;
}

Tensor3 decode_output(const std::vector<uint8_t>& bytes, OutputFormat fmt, int heads, int n, int d,
                      const std::vector<HeadParams>& hp) {
    Tensor3 t(heads, n, d);
    for (int h = 0; h < heads; ++h) {
        for (std::size_t k = 0; k < std::size_t(n) * d; ++k) {
            const std::size_t idx = std::size_t(h) * n * d + k;
            if (fmt == OutputFormat::Float32) {
                std::memcpy(&t.data[idx], bytes.data() + idx * 4, 4);
            } else {
                int16_t v;
                std::memcpy(&v, bytes.data() + idx * 2, 2);
                t.data[idx] = float(double(v) * double(hp[std::size_t(h)].s_v) / 128.0);
            }
        }
    }
    return t;
}

#if SPRINT_HAVE_AVX2_KERNELS
namespace {

// p[j] = q . k_j in double for j in [0, end), d a multiple of 4: four keys at a time, so four
// independent chains of fused multiply-adds are in flight instead of one (a single dot product
// is bound by the FMA latency). The k rows are float32, widened lane by lane.
__attribute__((target("avx2,fma"))) void dense_dots_avx2(const double* qd, const float* k, int d,
                                                         int end, double* p) {
    int j = 0;
    for (; j + 4 <= end; j += 4) {
        const float* k0 = k + std::size_t(j) * std::size_t(d);
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        for (int e = 0; e < d; e += 4) {
            const __m256d qv = _mm256_loadu_pd(qd + e);
            a0 = _mm256_fmadd_pd(qv, _mm256_cvtps_pd(_mm_loadu_ps(k0 + e)), a0);
            a1 = _mm256_fmadd_pd(qv, _mm256_cvtps_pd(_mm_loadu_ps(k0 + d + e)), a1);
            a2 = _mm256_fmadd_pd(qv, _mm256_cvtps_pd(_mm_loadu_ps(k0 + 2 * d + e)), a2);
            a3 = _mm256_fmadd_pd(qv, _mm256_cvtps_pd(_mm_loadu_ps(k0 + 3 * d + e)), a3);
        }
        const __m256d t0 = _mm256_hadd_pd(a0, a1), t1 = _mm256_hadd_pd(a2, a3);
        _mm256_storeu_pd(p + j, _mm256_add_pd(_mm256_permute2f128_pd(t0, t1, 0x20),
                                              _mm256_permute2f128_pd(t0, t1, 0x31)));
    }
    for (; j < end; ++j) {
        const float* kj = k + std::size_t(j) * std::size_t(d);
        __m256d a = _mm256_setzero_pd();
        for (int e = 0; e < d; e += 4)
            a = _mm256_fmadd_pd(_mm256_loadu_pd(qd + e), _mm256_cvtps_pd(_mm_loadu_ps(kj + e)), a);
        __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
        p[j] = _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
    }
}

// One key's four accumulator lanes as dense_dots_avx2 builds them (before the lanes are summed).
__attribute__((target("avx2,fma"))) void dense_lanes_avx2(const double* qd, const float* kj, int d,
                                                          double* lane) {
    __m256d a = _mm256_setzero_pd();
    for (int e = 0; e < d; e += 4)
        a = _mm256_fmadd_pd(_mm256_loadu_pd(qd + e), _mm256_cvtps_pd(_mm_loadu_ps(kj + e)), a);
    _mm256_storeu_pd(lane, a);
}

// acc[e] = sum_j (p[j] / sum) v_j[e] for j in [0, end), d a multiple of 16: sixteen sums at a
// time held in registers over every key (the plain loop stores and reloads each one per key).
__attribute__((target("avx2,fma"))) void dense_weighted_avx2(const double* p, double sum,
                                                             const float* v, int d, int end,
                                                             double* acc) {
    thread_local std::vector<double> wt;
    wt.resize(std::size_t(end));
    for (int j = 0; j < end; ++j) wt[std::size_t(j)] = p[j] / sum;
    for (int e = 0; e < d; e += 16) {
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        const float* ve = v + e;
        for (int j = 0; j < end; ++j, ve += d) {
            const __m256d w = _mm256_set1_pd(wt[std::size_t(j)]);
            a0 = _mm256_fmadd_pd(w, _mm256_cvtps_pd(_mm_loadu_ps(ve)), a0);
            a1 = _mm256_fmadd_pd(w, _mm256_cvtps_pd(_mm_loadu_ps(ve + 4)), a1);
            a2 = _mm256_fmadd_pd(w, _mm256_cvtps_pd(_mm_loadu_ps(ve + 8)), a2);
            a3 = _mm256_fmadd_pd(w, _mm256_cvtps_pd(_mm_loadu_ps(ve + 12)), a3);
        }
        _mm256_storeu_pd(acc + e, a0);
        _mm256_storeu_pd(acc + e + 4, a1);
        _mm256_storeu_pd(acc + e + 8, a2);
        _mm256_storeu_pd(acc + e + 12, a3);
    }
}

}  // namespace
#endif

// A reference, not the model's arithmetic: the dot products are summed in SIMD lanes (the order
// of a double sum is free here), on AVX2 where the CPU has it (runtime dispatch).
SPRINT_SIMD_CLONES
double dense_softmax_row(const Tensor3& q, const Tensor3& k, int h, int i, int end, double* p,
                         double* max_out) {
    const int d = q.d;
    const double inv_sqrt_d = 1.0 / std::sqrt(double(d));
    const float* qi = q.row(h, i);
    double mx = -INFINITY;
    double sum = 0.0;
#if SPRINT_HAVE_AVX2_KERNELS
    if (d % 4 == 0 && cpu_has_avx2_fma()) {
        thread_local std::vector<double> qd;
        qd.assign(qi, qi + d);
        dense_dots_avx2(qd.data(), k.row(h, 0), d, end, p);
        for (int j = 0; j < end; ++j) mx = std::max(mx, p[j] *= inv_sqrt_d);
        for (int j = 0; j < end; ++j) sum += (p[j] = std::exp(p[j] - mx));
        if (max_out) *max_out = mx;
        return sum;
    }
#endif
    for (int j = 0; j < end; ++j) {
        const float* kj = k.row(h, j);
        double s = 0.0;
#pragma omp simd reduction(+ : s)
        for (int e = 0; e < d; ++e) s += double(qi[e]) * double(kj[e]);
        p[j] = s * inv_sqrt_d;
        mx = std::max(mx, p[j]);
    }
    for (int j = 0; j < end; ++j) sum += (p[j] = std::exp(p[j] - mx));
    if (max_out) *max_out = mx;
    return sum;
}

bool dense_logits_at(const Tensor3& q, const Tensor3& k, int h, int i, int end, const int* js,
                     int n, double* out) {
#if SPRINT_HAVE_AVX2_KERNELS
    const int d = q.d;
    if (d % 4 != 0 || !cpu_has_avx2_fma()) return false;
    const double inv_sqrt_d = 1.0 / std::sqrt(double(d));
    thread_local std::vector<double> qd;
    const float* qi = q.row(h, i);
    qd.assign(qi, qi + d);
    // dense_dots_avx2 sums a key's four lanes as (0 + 1) + (2 + 3) in its blocks of four keys
    // and as (0 + 2) + (1 + 3) for the keys after them: each key the way its row sums it.
    const int blocked = end - end % 4;
    for (int c = 0; c < n; ++c) {
        double lane[4];
        dense_lanes_avx2(qd.data(), k.row(h, js[c]), d, lane);
        out[c] = (js[c] < blocked ? (lane[0] + lane[1]) + (lane[2] + lane[3])
                                  : (lane[0] + lane[2]) + (lane[1] + lane[3])) *
                 inv_sqrt_d;
    }
    return true;
#else
    (void)q, (void)k, (void)h, (void)i, (void)end, (void)js, (void)n, (void)out;
    return false;
#endif
}

SPRINT_SIMD_CLONES
double dense_attention_row(const Tensor3& q, const Tensor3& k, const Tensor3& v, int h, int i,
                           int end, double* p, double* acc, float* out) {
    const int d = q.d;
    const double sum = dense_softmax_row(q, k, h, i, end, p);
#if SPRINT_HAVE_AVX2_KERNELS
    if (d % 16 == 0 && cpu_has_avx2_fma()) {
        dense_weighted_avx2(p, sum, v.row(h, 0), d, end, acc);
        for (int e = 0; e < d; ++e) out[e] = float(acc[e]);
        return sum;
    }
#endif
    std::fill(acc, acc + d, 0.0);
    for (int j = 0; j < end; ++j) {
        const double w = p[j] / sum;
        const float* vj = v.row(h, j);
        for (int e = 0; e < d; ++e) acc[e] += w * double(vj[e]);
    }
    for (int e = 0; e < d; ++e) out[e] = float(acc[e]);
    return sum;
}

Tensor3 dense_float_attention(const Tensor3& q, const Tensor3& k, const Tensor3& v,
                              const std::vector<uint32_t>& valid_len, bool causal) {
    const int H = q.heads, n = q.n, d = q.d;
    Tensor3 out(H, n, d);
    std::vector<double> p(static_cast<std::size_t>(n)), acc(static_cast<std::size_t>(d));
    for (int h = 0; h < H; ++h) {
        for (int i = 0; i < n; ++i) {
            const int end = key_end(i, valid_len[std::size_t(h)], causal);
            if (end == 0) continue;
            dense_attention_row(q, k, v, h, i, end, p.data(), acc.data(), out.row(h, i));
        }
    }
    return out;
}

}  // namespace sprint::core

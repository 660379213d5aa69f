#include "core/row_engine.h"
#include "core/simd.h"

#include "core/keep_rule.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

namespace sprint::core {

namespace {

struct ExpLuts {
    std::array<uint32_t, 64> hi{}, lo{};
    ExpLuts() {
        for (int a = 0; a < 64; ++a) hi[a] = uint32_t(std::lround(65536.0 * std::exp(-a / 4.0)));
        for (int b = 0; b < 64; ++b) lo[b] = uint32_t(std::lround(65536.0 * std::exp(-b / 256.0)));
    }
};

const ExpLuts& luts() {
    static const ExpLuts l;
    return l;
}

void store_le(uint8_t* dst, const void* src, std::size_t n) {
    std::memcpy(dst, src, n);
}

}  // namespace

uint32_t exp_fixed(uint32_t u) {
    u = std::min(u, kSoftmaxInputMax);
    const auto& l = luts();
    const uint64_t prod = uint64_t(l.hi[u >> 6]) * uint64_t(l.lo[u & 63]);
    return uint32_t((prod + (1u << 15)) >> 16);
}

uint32_t softmax_input(int32_t s_max, int32_t s, double logit_scale) {
    const double x =
        double(int64_t(s_max) - int64_t(s)) * logit_scale * double(1 << kSoftmaxFracBits);
    if (!(x < double(kSoftmaxInputMax))) return kSoftmaxInputMax;
    return uint32_t(std::llround(x));
}

SPRINT_SIMD_CLONES
int32_t dot_i8(const int8_t* a, const int8_t* b, int d) {
    int32_t s = 0;
    for (int e = 0; e < d; ++e) s += int32_t(a[e]) * int32_t(b[e]);
    return s;
}

void RowEngine::begin(const int8_t* q, int d, double logit_scale, float s_v, SoftmaxKind kind,
                      OutputFormat out) {
    m_d = d;
    m_logit_scale = logit_scale;
    m_s_v = s_v;
    m_kind = kind;
    m_out = out;
    m_q.assign(q, q + d);
    m_tokens.clear();
    m_scores.clear();
    clear_weights();
    m_acc.assign(std::size_t(d), 0);
    m_accf.assign(std::size_t(d), 0.0);
    m_next_v = 0;
    m_exp_ops = m_div_ops = 0;
    m_tile = 0;
    m_tile_at = -1;
    m_run_max = 0;
    m_sumf = 0.0;
    m_closed = false;
    m_shared = false;
    m_tiles = m_rescales = 0;
}

void RowEngine::set_online(uint32_t tile) {
    m_tile = tile;
}

void RowEngine::clear_weights() {
    m_e.clear();
    m_sum = 0;
    m_p8.clear();
    m_pf.clear();
}

std::size_t RowEngine::weights() const {
    switch (m_kind) {
        case SoftmaxKind::Fixed:
            return m_e.size();
        case SoftmaxKind::Prob8:
            return m_p8.size();
        case SoftmaxKind::Float:
            return m_pf.size();
    }
    return 0;
}

bool RowEngine::score(uint32_t token, const int8_t* k_row) {
    if (!m_tokens.empty() && token <= m_tokens.back()) return false;
    if (m_tile) {  // online: not into a closed row, nor into a tile V has reached
        if (m_closed || (m_tile_at >= 0 && int64_t(token / m_tile) <= m_tile_at)) return false;
    } else
        clear_weights();  // weights exist only for a complete score set
    m_tokens.push_back(token);
    m_scores.push_back(dot_i8(m_q.data(), k_row, m_d));
    return true;
}

std::size_t RowEngine::prune(double threshold, EmptyRowPolicy policy, uint32_t self_token) {
    // The keep rule and the empty-row policy of core/keep_rule.h, over the positions of the
    // scores held (position k holds token m_tokens[k]).
    const std::size_t n = m_tokens.size();
    std::vector<uint8_t> mask(n);
    std::vector<double> logits(n);
    int self_pos = 0;  // the query's own key, or the last visible one before it
    for (std::size_t k = 0; k < n; ++k) {
        mask[k] = exact_keep(m_scores[k], m_logit_scale, threshold) ? 1 : 0;
        logits[k] = double(m_scores[k]) * m_logit_scale;
        if (m_tokens[k] <= self_token) self_pos = int(k);
    }
    apply_empty_row_policy(mask.data(), int(n), self_pos, policy, logits.data());
    std::vector<uint32_t> tokens;
    std::vector<int32_t> scores;
    for (std::size_t k = 0; k < n; ++k) {
        if (!mask[k]) continue;
        tokens.push_back(m_tokens[k]);
        scores.push_back(m_scores[k]);
    }
    m_tokens.swap(tokens);
    m_scores.swap(scores);
    clear_weights();
    return m_tokens.size();
}

const std::vector<uint32_t>& RowEngine::softmax() {
    if (m_tile) {  // online: the weights come with the V rows
        m_closed = true;
        return m_tokens;
    }
    const std::size_t n = m_scores.size();
    m_next_v = 0;
    clear_weights();
    if (n == 0) return m_tokens;
    const int32_t s_max = *std::max_element(m_scores.begin(), m_scores.end());
    m_exp_ops += n;
    if (m_kind == SoftmaxKind::Float) {
        m_pf.resize(n);
        double sum = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            m_pf[i] = std::exp(double(int64_t(m_scores[i]) - s_max) * m_logit_scale);
            sum += m_pf[i];
        }
        for (std::size_t i = 0; i < n; ++i) m_pf[i] /= sum;
        m_div_ops += n;
        return m_tokens;
    }
    m_e.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        m_e[i] = exp_fixed(softmax_input(s_max, m_scores[i], m_logit_scale));
        m_sum += m_e[i];
    }
    if (m_kind == SoftmaxKind::Prob8) {
        m_p8.resize(n);
        for (std::size_t i = 0; i < n; ++i)
            m_p8[i] = uint8_t((uint64_t(m_e[i]) * kProbabilityMax + m_sum / 2) / m_sum);
        m_div_ops += n;
        m_e.clear();
    }
    return m_tokens;
}

bool RowEngine::local_max(int32_t& out) const {
    if (m_scores.empty()) return false;
    out = *std::max_element(m_scores.begin(), m_scores.end());
    return true;
}

const std::vector<uint32_t>& RowEngine::softmax_shared(int32_t row_max) {
    const std::size_t n = m_scores.size();
    m_next_v = 0;
    clear_weights();
    m_sumf = 0.0;
    if (n == 0) return m_tokens;
    m_exp_ops += n;
    if (m_kind == SoftmaxKind::Float) {
        m_pf.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            m_pf[i] = std::exp(double(int64_t(m_scores[i]) - row_max) * m_logit_scale);
            m_sumf += m_pf[i];
        }
        return m_tokens;
    }
    m_e.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        m_e[i] = exp_fixed(softmax_input(row_max, m_scores[i], m_logit_scale));
        m_sum += m_e[i];
    }
    return m_tokens;
}

void RowEngine::normalise(uint64_t total, double total_f) {
    const std::size_t n = m_scores.size();
    if (m_kind == SoftmaxKind::Float) {
        for (double& p : m_pf) p /= total_f;
        m_div_ops += n;
    } else if (m_kind == SoftmaxKind::Prob8 && total > 0) {
        m_p8.resize(m_e.size());
        for (std::size_t i = 0; i < m_e.size(); ++i)
            m_p8[i] = uint8_t((uint64_t(m_e[i]) * kProbabilityMax + total / 2) / total);
        m_div_ops += n;
        m_e.clear();
    }
}

RowEngine::Partial RowEngine::partial() const {
    return {m_acc, m_accf, m_sum, m_sumf};
}

bool RowEngine::merge(const Partial& p) {
    if (p.acc.size() != m_acc.size() || p.accf.size() != m_accf.size()) return false;
    for (std::size_t i = 0; i < m_acc.size(); ++i) m_acc[i] += p.acc[i];
    for (std::size_t i = 0; i < m_accf.size(); ++i) m_accf[i] += p.accf[i];
    m_sum += p.sum;
    m_sumf += p.sumf;
    return true;
}

SPRINT_SIMD_CLONES
bool RowEngine::accumulate(uint32_t token, const int8_t* v_row) {
    if (m_tile) return accumulate_online(token, v_row);
    // Before softmax() (or after scores changed) there are no weights to weigh V with.
    if (m_next_v >= m_tokens.size() || m_next_v >= weights() || m_tokens[m_next_v] != token)
        return false;
    // Local length and pointers: a store through m_acc could otherwise alias m_d and the
    // vector's own fields, which keeps the loop from vectorising.
    const int d = m_d;
    if (m_kind == SoftmaxKind::Float) {
        const double p = m_pf[m_next_v];
        double* __restrict acc = m_accf.data();
        for (int e = 0; e < d; ++e) acc[e] += p * double(v_row[e]);
    } else {
        const int32_t w = m_kind == SoftmaxKind::Fixed ? int32_t(m_e[m_next_v]) : m_p8[m_next_v];
        int64_t* __restrict acc = m_acc.data();
        for (int e = 0; e < d; ++e) acc[e] += int64_t(w * int32_t(v_row[e]));
    }
    ++m_next_v;
    return true;
}

namespace {

// round(num / den) for den > 0, halves away from zero (as std::round).
int64_t rounded_div(int64_t num, int64_t den) {
    return num >= 0 ? (num + den / 2) / den : -((-num + den / 2) / den);
}

}  // namespace

void RowEngine::enter_tile(std::size_t t) {
    // Tile t's scores: every one held from the next V row on whose token is in the tile.
    int32_t tile_max = m_scores[m_next_v];
    for (std::size_t k = m_next_v; k < m_tokens.size() && m_tokens[k] / m_tile == t; ++k)
        tile_max = std::max(tile_max, m_scores[k]);
    enter(t, tile_max, true);
}

void RowEngine::enter(std::size_t t, int32_t new_max, bool running) {
    ++m_tiles;
    if (running && m_tile_at >= 0 && new_max > m_run_max) {  // the maximum rises: rescale once
        ++m_rescales;
        if (m_kind == SoftmaxKind::Float) {
            const double r = std::exp(double(int64_t(m_run_max) - new_max) * m_logit_scale);
            m_sumf *= r;
            for (double& a : m_accf) a *= r;
        } else {
            const int64_t r = exp_fixed(softmax_input(new_max, m_run_max, m_logit_scale));
            m_sum = uint64_t(rounded_div(int64_t(m_sum) * r, 1 << 16));
            for (int64_t& a : m_acc) a = rounded_div(a * r, 1 << 16);
        }
    }
    if (m_tile_at < 0 || new_max > m_run_max) m_run_max = new_max;
    m_tile_at = int64_t(t);
}

bool RowEngine::enter_tile_shared(uint32_t t, int32_t run_max, bool running) {
    if (!m_tile || m_closed || int64_t(t) <= m_tile_at || (m_tile_at >= 0 && run_max < m_run_max))
        return false;
    // Every score of the tile must be in, and no V row of a later tile taken.
    if (m_next_v < m_tokens.size() && m_tokens[m_next_v] / m_tile < t) return false;
    m_shared = true;
    enter(t, run_max, running);
    return true;
}

RowEngine::Partial RowEngine::take_partial() {
    Partial p = partial();
    std::fill(m_acc.begin(), m_acc.end(), 0);
    std::fill(m_accf.begin(), m_accf.end(), 0.0);
    m_sum = 0;
    m_sumf = 0.0;
    return p;
}

SPRINT_SIMD_CLONES
bool RowEngine::accumulate_online(uint32_t token, const int8_t* v_row) {
    if (m_next_v >= m_tokens.size() || m_tokens[m_next_v] != token) return false;
    const std::size_t t = token / m_tile;
    if (int64_t(t) != m_tile_at) {
        if (m_shared) return false;  // the units enter each tile together (enter_tile_shared)
        enter_tile(t);
    }
    const int32_t s = m_scores[m_next_v];
    const int d = m_d;
    ++m_exp_ops;
    if (m_kind == SoftmaxKind::Float) {
        const double e = std::exp(double(int64_t(s) - m_run_max) * m_logit_scale);
        m_sumf += e;
        double* __restrict acc = m_accf.data();
        for (int i = 0; i < d; ++i) acc[i] += e * double(v_row[i]);
    } else {
        const int32_t e = int32_t(exp_fixed(softmax_input(m_run_max, s, m_logit_scale)));
        m_sum += uint64_t(e);
        int64_t* __restrict acc = m_acc.data();
        for (int i = 0; i < d; ++i) acc[i] += int64_t(e * int32_t(v_row[i]));
    }
    ++m_next_v;
    return true;
}

bool RowEngine::finish(uint8_t* out) {
    if (m_next_v != m_tokens.size() || (m_tile && !m_closed)) return false;
    // Online float: the accumulators are unnormalised, divided by the sum here.
    const double float_den = m_tile && m_sumf > 0.0 ? m_sumf : 1.0;
    // The row's divisor, in units of one V int8 step: the sum (Fixed), 255 (Prob8).
    const int64_t den = m_kind == SoftmaxKind::Fixed ? int64_t(m_sum) : kProbabilityMax;
    if ((m_kind == SoftmaxKind::Fixed && den > 0) || (m_tile && m_sumf > 0.0))
        m_div_ops += uint64_t(m_d);  // one per element: fixed, and online float
    for (int e = 0; e < m_d; ++e) {
        const std::size_t i = std::size_t(e);
        if (m_out == OutputFormat::Float32) {
            const float f = m_kind == SoftmaxKind::Float
                                ? float(m_accf[i] / float_den * double(m_s_v))
                            : den == 0 ? 0.0f
                                       : float(double(m_acc[i]) * double(m_s_v) / double(den));
            store_le(out + i * 4, &f, 4);
        } else {
            int64_t r = 0;
            if (m_kind == SoftmaxKind::Float)
                r = int64_t(
                    std::clamp(std::round(m_accf[i] / float_den * 128.0), -32768.0, 32767.0));
            else if (den > 0)
                r = std::clamp<int64_t>(rounded_div(m_acc[i] * 128, den), -32768, 32767);
            const int16_t v = int16_t(r);
            store_le(out + i * 2, &v, 2);
        }
    }
    return true;
}

}  // namespace sprint::core

#include "core/calibration.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <thread>

#include "core/crossbar.h"
#include "core/keep_rule.h"
#include "core/row_engine.h"

namespace sprint::core {

const char* to_string(CalibrateOn c) {
    return c == CalibrateOn::Hardware ? "hardware" : "ideal";
}

namespace {

XbarNumerics ideal_of(XbarNumerics x) {
    XbarNumerics i;
    i.key_bits = x.key_bits;
    i.query_bits = x.query_bits;
    i.midpoint = x.midpoint;
    i.query_max = x.query_max;  // the rule, not a non-ideality
    i.seed = x.seed;
    return i;
}

// One head's calibration scores, a query row at a time, in the keep rule's own units (raw
// comparator units, or int8 score units); to_logit turns them into logits. O(N d) state.
class HeadScorer {
  public:
    HeadScorer(const QuantizedWorkload& w, int h, const XbarNumerics& x0, const CalibrationSpec& c)
        : m_w(w),
          m_h(h),
          m_c(c),
          m_x((c.on == CalibrateOn::Ideal ? ideal_of(x0) : x0)
                  .for_head(uint32_t(h), uint32_t(w.q.n), uint32_t(w.q.d))) {
        const int n = w.q.n, d = w.q.d;
        const HeadParams& hp = w.heads[std::size_t(h)];
        queries = c.queries ? std::min(c.queries, hp.valid_len) : hp.valid_len;
        if (c.mode == Mode::Sprint) {
            m_cells.reset(n, d);
            m_cells.program(w.k.head(h), 0, int(hp.valid_len), uint32_t(h), m_x);
            to_logit = raw_to_logit(hp, d, m_x);
        } else {
            to_logit = exact_logit_scale(hp, d);
        }
        m_q_dac.assign(std::size_t(d), 0);
        m_v.resize(std::size_t(n));
    }
    // The scores of calibration query i into out[0, end); returns end.
    int row(uint32_t i, double* out) {
        const int d = m_w.q.d, h = m_h;
        const int end = key_end(int(i), m_w.heads[std::size_t(h)].valid_len, m_c.causal);
        if (m_c.mode == Mode::Sprint && end > 0) {
            query_to_dac(m_w.q.row(h, int(i)), d, m_x, m_q_dac.data());
            m_cells.bitlines(m_q_dac.data(), end, uint32_t(h), i, m_x, m_v.data());
            const double shift = query_shift(m_q_dac.data(), d, m_x);
            bitline_margins(m_v.data(), end, shift, m_x, d, out);
            if (m_x.query_max) {  // the rule compares each margin less the query's largest
                const double mx = *std::max_element(out, out + end);
                for (int j = 0; j < end; ++j) out[j] -= mx;
            }
        } else {
            for (int j = 0; j < end; ++j)
                out[j] = double(dot_i8(m_w.q.row(h, int(i)), m_w.k.row(h, j), d));
        }
        return end;
    }
    uint32_t queries = 0;
    double to_logit = 1.0;

  private:
    const QuantizedWorkload& m_w;
    int m_h;
    CalibrationSpec m_c;
    XbarNumerics m_x;
    CellArray m_cells;
    std::vector<int8_t> m_q_dac;
    std::vector<double> m_v;
};

// Query i's softmax weights of its `end` keys into p, summing to 1; the row's max logit and sum
// of exponentials into *mx and *sum (what pair_weights_at needs to weigh single keys).
void pair_weights(const QuantizedWorkload& w, int h, uint32_t i, int end, const MassWeights& mass,
                  double* p, double* mx_out, double* sum_out) {
    const int d = w.q.d;
    double sum = 0.0, mx = -INFINITY;
    if (mass.q && mass.k) {
        sum = dense_softmax_row(*mass.q, *mass.k, h, int(i), end, p, &mx);
    } else {
        const double scale = exact_logit_scale(w.heads[std::size_t(h)], d);
        for (int j = 0; j < end; ++j) {
            p[j] = double(dot_i8(w.q.row(h, int(i)), w.k.row(h, j), d)) * scale;
            mx = std::max(mx, p[j]);
        }
        for (int j = 0; j < end; ++j) sum += (p[j] = std::exp(p[j] - mx));
    }
    for (int j = 0; j < end; ++j) p[j] /= sum;
    *mx_out = mx;
    *sum_out = sum;
}

// The weights pair_weights gives keys js[0, n) of query i's row, from the row's max and sum, into
// p[js[c]] (the same bits); false (nothing written) where only the whole row gives them.
bool pair_weights_at(const QuantizedWorkload& w, int h, uint32_t i, int end,
                     const MassWeights& mass, double mx, double sum, const std::vector<int>& js,
                     std::vector<double>& logit, double* p) {
    const int d = w.q.d, n = int(js.size());
    logit.resize(js.size());
    if (mass.q && mass.k) {
        if (!dense_logits_at(*mass.q, *mass.k, h, int(i), end, js.data(), n, logit.data()))
            return false;
    } else {
        const double scale = exact_logit_scale(w.heads[std::size_t(h)], d);
        for (int c = 0; c < n; ++c)
            logit[std::size_t(c)] =
                double(dot_i8(w.q.row(h, int(i)), w.k.row(h, js[std::size_t(c)]), d)) * scale;
    }
    for (int c = 0; c < n; ++c) p[js[std::size_t(c)]] = std::exp(logit[std::size_t(c)] - mx) / sum;
    return true;
}

// The threshold from the scores in two streaming passes, never holding them all: pass 1 sums the
// weight (count or softmax mass) of the scores in 2^20 bins ordered as the doubles are (the top
// bits of an order-preserving key, so no range is needed in advance) and finds the bin where the
// running sum from the top reaches the goal; pass 2 gathers the distinct scores of that bin with
// their weights, and the highest score below it. The walk over whole groups of equal scores is
// then the one a full sort would make. O(N) memory besides the 8 MiB of bins.
class Selector {
  public:
    static constexpr int kBits = 20;
    static uint32_t bin(double v) {
        uint64_t b;
        std::memcpy(&b, &v, sizeof b);
        b = (b >> 63) ? ~b : (b | (uint64_t(1) << 63));  // order-preserving
        return uint32_t(b >> (64 - kBits));
    }
    // The bins are the thread's, kept zero between heads: only the bins a head touched are
    // cleared after it (clearing or allocating 8 MiB per head cost more than the head's scores).
    Selector() : m_weight(bins()) {}
    ~Selector() {
        for (uint32_t b : m_touched) m_weight[b] = 0.0;
    }
    Selector(const Selector&) = delete;
    Selector& operator=(const Selector&) = delete;
    void add1(double v, double wgt) {
        double& w = m_weight[bin(v)];
        if (w == 0.0 && wgt != 0.0) m_touched.push_back(bin(v));  // weights are never negative
        w += wgt;
    }
    // After pass 1: the bin where the sum from the top reaches `goal` (tolerance as the walk).
    void locate(double goal) {
        m_goal = goal;
        double cum = 0.0;
        std::sort(m_touched.begin(), m_touched.end());  // the bins with weight, in order
        for (std::size_t t = m_touched.size(); t-- > 0;) {
            const uint32_t b = m_touched[t];
            m_lowest = b;
            if (cum + m_weight[b] >= goal * (1.0 - 1e-12)) {
                m_bin = uint32_t(b);
                m_above = cum;
                return;
            }
            cum += m_weight[b];
        }
        m_bin = m_lowest;  // never reached: the lowest bin, and the walk ends at the lowest score
        m_above = cum - m_weight[m_lowest];
    }
    uint32_t crossing_bin() const { return m_bin; }
    void add2(double v, double wgt) {
        const uint32_t b = bin(v);
        if (b == m_bin)
            m_group[v] += wgt;
        else if (b < m_bin && v > m_below)
            m_below = v;
    }
    // Halfway between the score where the walk stops and the next lower distinct score (the
    // lowest score when the goal is never reached).
    double threshold() const {
        double cum = m_above, stop = 0.0;
        for (auto it = m_group.rbegin(); it != m_group.rend(); ++it) {
            cum += it->second;
            stop = it->first;
            if (cum >= m_goal * (1.0 - 1e-12)) {
                auto next = std::next(it);
                const double lower = next != m_group.rend() ? next->first : m_below;
                return std::isinf(lower) ? stop - 1.0 : (stop + lower) / 2.0;
            }
        }
        return std::isinf(m_below) ? stop - 1.0 : (stop + m_below) / 2.0;
    }

  private:
    static std::vector<double>& bins() {
        thread_local std::vector<double> w(std::size_t(1) << kBits, 0.0);
        return w;
    }
    std::vector<double>& m_weight;
    std::vector<uint32_t> m_touched;
    double m_goal = 0.0, m_above = 0.0, m_below = -INFINITY;
    uint32_t m_bin = 0, m_lowest = 0;
    std::map<double, double> m_group;
};

}  // namespace

float calibrate_threshold(const QuantizedWorkload& w, int h, const XbarNumerics& x,
                          const CalibrationSpec& c, const MassWeights& mass) {
    if (keeps_all(c.mode)) return 0.0f;
    HeadScorer scorer(w, h, x, c);
    const bool by_mass = c.target == CalibrationTarget::KeepMass;
    std::vector<double> score(std::size_t(w.q.n)), p(std::size_t(w.q.n), 1.0);
    double total = 0.0, queries = 0.0;
    for (uint32_t i = 0; i < scorer.queries; ++i) {
        const int end = key_end(int(i), w.heads[std::size_t(h)].valid_len, c.causal);
        total += end;
        queries += end > 0 ? 1.0 : 0.0;
    }
    if (total == 0.0) return 0.0f;
    Selector sel;
    // Pass 1 keeps each row's max logit and sum of exponentials, so that pass 2 weighs only the
    // keys whose score is in the bin it looks at (their weights are the only ones it uses).
    std::vector<double> row_max(by_mass ? scorer.queries : 0), row_sum(row_max.size());
    std::vector<int> in_bin;
    std::vector<double> logit;
    // One pass over the calibration queries, feeding `add` each (score, weight).
    // With `only_bin` (pass 2), only the weights of the scores in that bin are computed.
    auto pass = [&](auto add, int64_t only_bin) {
        for (uint32_t i = 0; i < scorer.queries; ++i) {
            const int end = scorer.row(i, score.data());
            if (end == 0) continue;
            if (by_mass && only_bin < 0) {
                pair_weights(w, h, i, end, mass, p.data(), &row_max[i], &row_sum[i]);
            } else if (by_mass) {
                in_bin.clear();
                for (int j = 0; j < end; ++j)
                    if (Selector::bin(score[std::size_t(j)]) == uint32_t(only_bin))
                        in_bin.push_back(j);
                if (!in_bin.empty() && !pair_weights_at(w, h, i, end, mass, row_max[i], row_sum[i],
                                                        in_bin, logit, p.data())) {
                    double mx, sum;
                    pair_weights(w, h, i, end, mass, p.data(), &mx, &sum);
                }
            }
            for (int j = 0; j < end; ++j) add(score[std::size_t(j)], p[std::size_t(j)]);
        }
    };
    pass([&](double v, double wgt) { sel.add1(v, wgt); }, -1);
    // KeepFraction: reach the k-th highest score (k of all pairs, at least one); KeepMass: the
    // share of each query's mass, summed over the queries.
    const double goal =
        by_mass ? c.value * queries
                : double(std::clamp<long long>(std::llround(c.value * total), 1, (long long)total));
    sel.locate(goal);
    pass([&](double v, double wgt) { sel.add2(v, wgt); }, int64_t(sel.crossing_bin()));
    return float(sel.threshold() * scorer.to_logit);
}

std::vector<float> calibrate_thresholds(const QuantizedWorkload& w, const XbarNumerics& x,
                                        const CalibrationSpec& c, const MassWeights& mass,
                                        unsigned threads) {
    const int heads = w.q.heads;
    std::vector<float> t(std::size_t(std::max(heads, 0)), 0.0f);
    const unsigned n = std::max(1u, std::min(threads, unsigned(std::max(heads, 1))));
    std::vector<std::exception_ptr> errors(n);
    auto work = [&](unsigned k) {
        try {
            for (int h = int(k); h < heads; h += int(n))
                t[std::size_t(h)] = calibrate_threshold(w, h, x, c, mass);
        } catch (...) {
            errors[k] = std::current_exception();
        }
    };
    std::vector<std::thread> pool;
    for (unsigned k = 1; k < n; ++k) pool.emplace_back(work, k);
    work(0);
    for (std::thread& th : pool) th.join();
    for (const std::exception_ptr& e : errors)
        if (e) std::rethrow_exception(e);
    return t;
}

}  // namespace sprint::core

#include "core/calibration.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/crossbar.h"
#include "core/keep_rule.h"
#include "core/row_engine.h"

namespace sprint::core {

const char* to_string(CalibrateOn c) {
    return c == CalibrateOn::Hardware ? "hardware" : "ideal";
}

namespace {

// The scores of one head's calibration pairs, in the keep rule's own units (raw comparator
// units, or int8 score units), and the factor that turns them into logits.
struct HeadScores {
    std::vector<double> score;
    std::vector<std::pair<uint32_t, uint32_t>> range;  // per calibration query: [begin, end)
    double to_logit = 1.0;
};

XbarNumerics ideal_of(XbarNumerics x) {
    XbarNumerics i;
    i.key_bits = x.key_bits;
    i.query_bits = x.query_bits;
    i.midpoint = x.midpoint;
    i.seed = x.seed;
    return i;
}

HeadScores head_scores(const QuantizedWorkload& w, int h, const XbarNumerics& x0,
                       const CalibrationSpec& c) {
    const int n = w.q.n, d = w.q.d;
    const HeadParams& hp = w.heads[std::size_t(h)];
    const uint32_t nq = c.queries ? std::min(c.queries, hp.valid_len) : hp.valid_len;
    HeadScores s;
    const XbarNumerics x = c.on == CalibrateOn::Ideal ? ideal_of(x0) : x0;
    CellArray cells;
    if (c.mode == Mode::Sprint) {
        cells.reset(n, d);
        cells.program(w.k.head(h), 0, int(hp.valid_len), uint32_t(h), x);
        s.to_logit = raw_to_logit(hp, d, x);
    } else {
        s.to_logit = exact_logit_scale(hp, d);
    }
    std::vector<int8_t> q_dac(std::size_t(d), 0);
    std::vector<double> v(static_cast<std::size_t>(n));
    for (uint32_t i = 0; i < nq; ++i) {
        const int end = key_end(int(i), hp.valid_len, c.causal);
        const uint32_t b = uint32_t(s.score.size());
        if (c.mode == Mode::Sprint && end > 0) {
            query_to_dac(w.q.row(h, int(i)), d, x, q_dac.data());
            cells.bitlines(q_dac.data(), end, uint32_t(h), i, x, v.data());
            const double shift = query_shift(q_dac.data(), d, x);
            for (int j = 0; j < end; ++j)
                s.score.push_back(v[std::size_t(j)] - shift +
                                  comparator_offset(x.column(uint32_t(j), uint32_t(d)), x));
        } else {
            for (int j = 0; j < end; ++j)
                s.score.push_back(double(dot_i8(w.q.row(h, int(i)), w.k.row(h, j), d)));
        }
        s.range.push_back({b, uint32_t(s.score.size())});
    }
    return s;
}

// Halfway between `kth` and the highest score below it (kth - 1 when there is none).
double halfway_below(const std::vector<double>& score, double kth) {
    double lower = -INFINITY;
    for (double v : score)
        if (v < kth) lower = std::max(lower, v);
    return std::isinf(lower) ? kth - 1.0 : (kth + lower) / 2.0;
}

double fraction_threshold(std::vector<double> score, double fraction) {
    const std::size_t total = score.size();
    std::size_t k = std::size_t(std::llround(fraction * double(total)));
    k = std::clamp<std::size_t>(k, 1, total);
    auto kth = score.begin() + std::ptrdiff_t(k - 1);
    std::nth_element(score.begin(), kth, score.end(), std::greater<double>());
    return halfway_below(score, *kth);
}

// Each calibration query's softmax weights of its pairs, summing to 1 per query.
std::vector<double> pair_weights(const QuantizedWorkload& w, int h, const HeadScores& s,
                                 const MassWeights& mass) {
    const int d = w.q.d;
    std::vector<double> wgt(s.score.size(), 0.0);
    const double scale = exact_logit_scale(w.heads[std::size_t(h)], d);
    for (std::size_t i = 0; i < s.range.size(); ++i) {
        const auto [b, e] = s.range[i];
        const int end = int(e - b);
        if (end == 0) continue;
        double* p = wgt.data() + b;
        double sum = 0.0;
        if (mass.q && mass.k) {
            sum = dense_softmax_row(*mass.q, *mass.k, h, int(i), end, p);
        } else {
            double mx = -INFINITY;
            for (int j = 0; j < end; ++j) {
                p[j] = double(dot_i8(w.q.row(h, int(i)), w.k.row(h, j), d)) * scale;
                mx = std::max(mx, p[j]);
            }
            for (int j = 0; j < end; ++j) sum += (p[j] = std::exp(p[j] - mx));
        }
        for (int j = 0; j < end; ++j) p[j] /= sum;
    }
    return wgt;
}

double mass_threshold(const std::vector<double>& score, const std::vector<double>& wgt,
                      double queries, double share) {
    std::vector<uint32_t> order(score.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return score[a] > score[b]; });
    const double goal = share * queries;
    double cum = 0.0;
    std::size_t k = 0;
    // Whole groups of equal scores: the keep rule cannot split them.
    while (k < order.size()) {
        const double v = score[order[k]];
        while (k < order.size() && score[order[k]] == v) cum += wgt[order[k++]];
        if (cum >= goal * (1.0 - 1e-12)) return halfway_below(score, v);
    }
    return halfway_below(score, score[order.back()]);
}

}  // namespace

float calibrate_threshold(const QuantizedWorkload& w, int h, const XbarNumerics& x,
                          const CalibrationSpec& c, const MassWeights& mass) {
    if (keeps_all(c.mode)) return 0.0f;
    const HeadScores s = head_scores(w, h, x, c);
    if (s.score.empty()) return 0.0f;
    double t;
    if (c.target == CalibrationTarget::KeepFraction) {
        t = fraction_threshold(s.score, c.value);
    } else {
        double queries = 0.0;
        for (const auto& r : s.range) queries += r.second > r.first ? 1.0 : 0.0;
        t = mass_threshold(s.score, pair_weights(w, h, s, mass), queries, c.value);
    }
    return float(t * s.to_logit);
}

}  // namespace sprint::core

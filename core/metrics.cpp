#include "core/metrics.h"

#include <algorithm>
#include <cmath>

#include "core/keep_rule.h"

namespace sprint::core {

namespace {

struct Acc {
    uint64_t visible = 0, kept = 0, exact_kept = 0, exact_pruned = 0, false_prune = 0,
             false_keep = 0, new_fetch = 0, queries = 0;
    double mass = 0.0, dot = 0.0, nout = 0.0, nref = 0.0, nerr = 0.0;

    void add(const Acc& o) {
        visible += o.visible;
        kept += o.kept;
        exact_kept += o.exact_kept;
        exact_pruned += o.exact_pruned;
        false_prune += o.false_prune;
        false_keep += o.false_keep;
        new_fetch += o.new_fetch;
        queries += o.queries;
        mass += o.mass;
        dot += o.dot;
        nout += o.nout;
        nref += o.nref;
        nerr += o.nerr;
    }
    Fidelity result() const {
        Fidelity f;
        f.visible_pairs = visible;
        f.kept_pairs = kept;
        f.keep_fraction = visible ? double(kept) / double(visible) : 0.0;
        f.false_prune_rate = exact_kept ? double(false_prune) / double(exact_kept) : 0.0;
        f.false_keep_rate = exact_pruned ? double(false_keep) / double(exact_pruned) : 0.0;
        f.mass_retained = queries ? mass / double(queries) : 0.0;
        f.cosine_similarity = (nout > 0 && nref > 0) ? dot / std::sqrt(nout * nref) : 0.0;
        f.relative_l2_error = nref > 0 ? std::sqrt(nerr / nref) : 0.0;
        f.ideal_new_fetch_fraction = visible ? double(new_fetch) / double(visible) : 0.0;
        return f;
    }
};

}  // namespace

FidelityReport compute_fidelity(const Tensor3& q, const Tensor3& k, const KeepMasks& used,
                                const KeepMasks& exact, const Tensor3& out, const Tensor3& dense,
                                const std::vector<uint32_t>& valid_len, bool causal) {
    const int H = q.heads, n = q.n, d = q.d;
    FidelityReport rep;
    Acc total;
    std::vector<double> p(static_cast<std::size_t>(n));
    for (int h = 0; h < H; ++h) {
        Acc a;
        for (int i = 0; i < n; ++i) {
            const int end = key_end(i, valid_len[std::size_t(h)], causal);
            if (end == 0) continue;
            const uint8_t* um = used.row(h, i);
            const uint8_t* em = exact.row(h, i);
            const uint8_t* prev = i > 0 && key_end(i - 1, valid_len[std::size_t(h)], causal) > 0
                                      ? used.row(h, i - 1)
                                      : nullptr;
            const double sum = dense_softmax_row(q, k, h, i, end, p.data());
            double kept_mass = 0.0;
            for (int j = 0; j < end; ++j) {
                if (um[j]) kept_mass += p[std::size_t(j)];
                a.visible++;
                a.kept += um[j];
                if (em[j]) {
                    a.exact_kept++;
                    if (!um[j]) a.false_prune++;
                } else {
                    a.exact_pruned++;
                    if (um[j]) a.false_keep++;
                }
                if (um[j] && !(prev && prev[j])) a.new_fetch++;
            }
            a.mass += kept_mass / sum;
            a.queries++;
            for (int e = 0; e < d; ++e) {
                const double o = out.row(h, i)[e], r = dense.row(h, i)[e];
                a.dot += o * r;
                a.nout += o * o;
                a.nref += r * r;
                a.nerr += (o - r) * (o - r);
            }
        }
        rep.per_head.push_back(a.result());
        total.add(a);
    }
    rep.overall = total.result();
    return rep;
}

void output_error(const Tensor3& out, const Tensor3& ref, double& cosine, double& rel_l2) {
    double dot = 0, no = 0, nr = 0, ne = 0;
    for (std::size_t i = 0; i < out.data.size(); ++i) {
        const double o = out.data[i], r = ref.data[i];
        dot += o * r;
        no += o * o;
        nr += r * r;
        ne += (o - r) * (o - r);
    }
    cosine = (no > 0 && nr > 0) ? dot / std::sqrt(no * nr) : 0.0;
    rel_l2 = nr > 0 ? std::sqrt(ne / nr) : 0.0;
}

}  // namespace sprint::core

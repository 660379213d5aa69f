#include "core/metrics.h"

#include <algorithm>
#include <cmath>

#include "core/keep_rule.h"
#include "core/simd.h"

namespace sprint::core {

void FidelityStream::Acc::add(const Acc& o) {
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

Fidelity FidelityStream::Acc::result() const {
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

FidelityStream::FidelityStream(const Tensor3& q, const Tensor3& k, ExactRow exact_row,
                               std::vector<uint32_t> valid_len, bool causal, const Tensor3* v,
                               Tensor3* dense_out, bool accuracy)
    : m_q(q),
      m_k(k),
      m_exact(std::move(exact_row)),
      m_valid(std::move(valid_len)),
      m_causal(causal),
      m_accuracy(accuracy),
      m_v(v),
      m_dense_out(v && accuracy ? dense_out : nullptr),
      m_acc(std::size_t(q.heads)),
      m_p(accuracy ? std::size_t(q.n) : 0),
      m_o(accuracy ? std::size_t(q.d) : 0),
      m_mask(accuracy ? std::size_t(q.n) : 0) {}

void FidelityStream::try_count(uint32_t h, uint32_t i) {
    const auto me = m_pending.find({h, i});
    if (me == m_pending.end() || me->second.own) return;
    const bool has_prev = i > 0 && key_end(int(i) - 1, m_valid[h], m_causal) > 0;
    const auto prev = has_prev ? m_pending.find({h, i - 1}) : m_pending.end();
    if (has_prev && prev == m_pending.end()) return;  // i - 1 not in yet: it counts i later
    // |kept(i) \ kept(i - 1)|: the keys query i fetches that query i - 1 did not hold.
    const std::vector<uint32_t>& cur = me->second.kept;
    uint64_t n = cur.size();
    if (has_prev) {
        const std::vector<uint32_t>& pk = prev->second.kept;
        std::size_t b = 0;
        for (uint32_t t : cur) {
            while (b < pk.size() && pk[b] < t) ++b;
            n -= b < pk.size() && pk[b] == t;
        }
    }
    m_acc[h].new_fetch += n;
    me->second.own = true;
    if (has_prev) {
        prev->second.used = true;
        if (prev->second.own) m_pending.erase(prev);
    }
    if (me->second.used) m_pending.erase(me);
}

void FidelityStream::add(uint32_t h, uint32_t i, const uint32_t* kept, std::size_t count) {
    const int end = key_end(int(i), m_valid[h], m_causal);
    if (end == 0) return;
    Acc& a = m_acc[h];
    a.visible += uint64_t(end);
    a.kept += count;
    a.queries++;
    if (m_accuracy) accuracy_row(a, h, i, end, kept, count);
    // New fetches against the previous query of the head (none for its first visible query),
    // whatever order the queries arrive in.
    Pending& me = m_pending[{h, i}];
    me.kept.assign(kept, kept + count);
    me.used = int(i) + 1 >= m_q.n || key_end(int(i) + 1, m_valid[h], m_causal) == 0;
    try_count(h, i);
    try_count(h, i + 1);
}

SPRINT_SIMD_CLONES
void FidelityStream::accuracy_row(Acc& a, uint32_t h, uint32_t i, int end, const uint32_t* kept,
                                  std::size_t count) {
    const double sum = m_dense_out
                           ? dense_attention_row(m_q, m_k, *m_v, int(h), int(i), end, m_p.data(),
                                                 m_o.data(), m_dense_out->row(int(h), int(i)))
                           : dense_softmax_row(m_q, m_k, int(h), int(i), end, m_p.data());
    m_exact(int(h), int(i), m_mask.data());
    double kept_mass = 0.0;
    uint64_t exact_kept = 0, both = 0;
    for (int j = 0; j < end; ++j) exact_kept += m_mask[std::size_t(j)];
    for (std::size_t c = 0; c < count; ++c) {
        const uint32_t t = kept[c];
        kept_mass += m_p[t];
        both += m_mask[t];
    }
    a.exact_kept += exact_kept;
    a.exact_pruned += uint64_t(end) - exact_kept;
    a.false_prune += exact_kept - both;
    a.false_keep += count - both;
    a.mass += kept_mass / sum;
}

FidelityReport FidelityStream::finish(const Tensor3& out, const Tensor3& dense) const {
    FidelityReport rep;
    Acc total;
    const int d = m_q.d;
    for (int h = 0; h < m_q.heads; ++h) {
        Acc a = m_acc[std::size_t(h)];
        for (int i = 0; i < m_q.n && m_accuracy; ++i) {
            if (key_end(i, m_valid[std::size_t(h)], m_causal) == 0) continue;
            for (int e = 0; e < d; ++e) {
                const double o = out.row(h, i)[e], r = dense.row(h, i)[e];
                a.dot += o * r;
                a.nout += o * o;
                a.nref += r * r;
                a.nerr += (o - r) * (o - r);
            }
        }
        rep.per_head.push_back(a.result());
        rep.per_head.back().accuracy = m_accuracy;
        total.add(a);
    }
    rep.overall = total.result();
    rep.overall.accuracy = m_accuracy;
    return rep;
}

FidelityReport compute_fidelity(const Tensor3& q, const Tensor3& k, const KeepMasks& used,
                                const KeepMasks& exact, const Tensor3& out, const Tensor3& dense,
                                const std::vector<uint32_t>& valid_len, bool causal) {
    FidelityStream s(
        q, k,
        [&](int h, int i, uint8_t* mask) {
            const int end = key_end(i, valid_len[std::size_t(h)], causal);
            std::copy(exact.row(h, i), exact.row(h, i) + end, mask);
            return end;
        },
        valid_len, causal);
    std::vector<uint32_t> kept;
    for (int h = 0; h < q.heads; ++h)
        for (int i = 0; i < q.n; ++i) {
            const int end = key_end(i, valid_len[std::size_t(h)], causal);
            kept.clear();
            for (int j = 0; j < end; ++j)
                if (used.row(h, i)[j]) kept.push_back(uint32_t(j));
            s.add(uint32_t(h), uint32_t(i), kept.data(), kept.size());
        }
    return s.finish(out, dense);
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

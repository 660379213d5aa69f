// Fidelity metrics of a run against the golden references (DESIGN.md section 4).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "core/reference.h"
#include "core/types.h"

namespace sprint::core {

struct Fidelity {
    uint64_t visible_pairs = 0;      // (query, key) pairs left after causal mask and padding
    uint64_t kept_pairs = 0;         // pairs kept by the mask used
    double keep_fraction = 0.0;      // kept / visible
    double false_prune_rate = 0.0;   // kept by exact scores (b) but pruned / kept by (b)
    double false_keep_rate = 0.0;    // kept but not by exact scores (b) / not kept by (b)
    double mass_retained = 0.0;      // mean over queries of the dense softmax mass on kept keys
    double cosine_similarity = 0.0;  // output vs dense float (a), over all valid rows
    double relative_l2_error = 0.0;  // ||out - a|| / ||a||
    double ideal_new_fetch_fraction = 0.0;  // sum_t |kept(t) \ kept(t-1)| / visible pairs
    // false: only the counts above (visible, kept, keep fraction, new fetches) were taken; the
    // rates, mass and output error need the references (a) and (b) and are not computed.
    bool accuracy = true;
};

struct FidelityReport {
    std::vector<Fidelity> per_head;
    Fidelity overall;
};

// The fidelity of one job, accumulated a query at a time as its keep decisions arrive (queries in
// any order: a query's new fetches are counted once its predecessor's set is in), with O(N d)
// state: what a long sequence needs (no N x N mask is ever held). `exact_row(h, i, mask)` writes
// reference (b)'s mask of query i over its visible keys and returns their count; q and k are the
// float inputs (the dense softmax mass); with `v` and `dense_out`, the dense float attention rows
// (reference (a)) are written into dense_out as they are computed (the same arithmetic as
// dense_float_attention).
class FidelityStream {
  public:
    using ExactRow = std::function<int(int h, int i, uint8_t* mask)>;
    // accuracy = false: counts only (no reference row per query; exact_row, v and dense_out
    // unused).
    FidelityStream(const Tensor3& q, const Tensor3& k, ExactRow exact_row,
                   std::vector<uint32_t> valid_len, bool causal, const Tensor3* v = nullptr,
                   Tensor3* dense_out = nullptr, bool accuracy = true);
    // Query i of head h kept the keys `kept` (ascending, `count` of them).
    void add(uint32_t h, uint32_t i, const uint32_t* kept, std::size_t count);
    // The report, with the output error of `out` against reference (a) `dense`.
    FidelityReport finish(const Tensor3& out, const Tensor3& dense) const;

    struct Acc {
        uint64_t visible = 0, kept = 0, exact_kept = 0, exact_pruned = 0, false_prune = 0,
                 false_keep = 0, new_fetch = 0, queries = 0;
        double mass = 0.0, dot = 0.0, nout = 0.0, nref = 0.0, nerr = 0.0;
        void add(const Acc& o);
        Fidelity result() const;
    };

  private:
    // Count query i's new fetches if its set and its predecessor's are in; drop what no query
    // needs any more.
    void try_count(uint32_t h, uint32_t i);
    // The references' figures of query i (end visible keys) into a.
    void accuracy_row(Acc& a, uint32_t h, uint32_t i, int end, const uint32_t* kept,
                      std::size_t count);
    const Tensor3 &m_q, &m_k;
    ExactRow m_exact;
    std::vector<uint32_t> m_valid;
    bool m_causal, m_accuracy;
    const Tensor3* m_v;
    Tensor3* m_dense_out;
    std::vector<Acc> m_acc;
    std::vector<double> m_p, m_o;
    std::vector<uint8_t> m_mask;
    // Kept sets waiting for a neighbour: (h, i) -> the set; own: its new fetches (against
    // i - 1) are counted; used: query i + 1 has been counted against it (or there is none).
    struct Pending {
        std::vector<uint32_t> kept;
        bool own = false, used = false;
    };
    std::map<std::pair<uint32_t, uint32_t>, Pending> m_pending;
};

// `used` = the masks the IP applied, `exact` = reference (b) masks, `out` = the decoded output,
// `dense` = reference (a). q/k are the float inputs (for the dense softmax mass).
FidelityReport compute_fidelity(const Tensor3& q, const Tensor3& k, const KeepMasks& used,
                                const KeepMasks& exact, const Tensor3& out, const Tensor3& dense,
                                const std::vector<uint32_t>& valid_len, bool causal);

// Output error alone (cosine similarity and relative L2), for runs without masks.
void output_error(const Tensor3& out, const Tensor3& ref, double& cosine, double& rel_l2);

}  // namespace sprint::core

// Fidelity metrics of a run against the golden references (DESIGN.md section 4).
#pragma once

#include <cstdint>
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
};

struct FidelityReport {
    std::vector<Fidelity> per_head;
    Fidelity overall;
};

// `used` = the masks the IP applied, `exact` = reference (b) masks, `out` = the decoded output,
// `dense` = reference (a). q/k are the float inputs (for the dense softmax mass).
FidelityReport compute_fidelity(const Tensor3& q, const Tensor3& k, const KeepMasks& used,
                                const KeepMasks& exact, const Tensor3& out, const Tensor3& dense,
                                const std::vector<uint32_t>& valid_len, bool causal);

// Output error alone (cosine similarity and relative L2), for runs without masks.
void output_error(const Tensor3& out, const Tensor3& ref, double& cosine, double& rel_l2);

}  // namespace sprint::core

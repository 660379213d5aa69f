// The keep rule: which keys a query looks at. Causal mask and valid length (padding) come first;
// padded rows and columns are skipped entirely (2-D sequence reduction). Then the threshold, then
// the empty-row policy, so that no query ever ends with nothing kept (never a silent zero row).
#pragma once

#include <cstdint>

#include "core/types.h"

namespace sprint::core {

// Keys [0, key_end) are visible to query i; 0 when the query itself is padding.
inline int key_end(int i, uint32_t valid_len, bool causal) {
    if (uint32_t(i) >= valid_len) return 0;
    return causal ? i + 1 : int(valid_len);
}

// Exact-score keep decision (on-chip pruning and the golden reference (b)).
inline bool exact_keep(int32_t score, double logit_scale, double threshold) {
    return double(score) * logit_scale >= threshold;
}

// If nothing in mask[0, end) is kept, keep one key: `Self` keeps the query's own position
// (clamped into range), `Max` keeps the first key with the highest `margin` (margins must then be
// given). Returns the token kept by the policy, or -1 when the mask was not empty.
int apply_empty_row_policy(uint8_t* mask, int end, int query, EmptyRowPolicy policy,
                           const double* margins);

}  // namespace sprint::core

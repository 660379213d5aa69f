#include "core/keep_rule.h"

#include <algorithm>

namespace sprint::core {

int apply_empty_row_policy(uint8_t* mask, int end, int query, EmptyRowPolicy policy,
                           const double* margins) {
    if (end <= 0) return -1;
    for (int j = 0; j < end; ++j)
        if (mask[j]) return -1;
    int pick = std::min(query, end - 1);
    if (policy == EmptyRowPolicy::Max && margins) {
        pick = 0;
        for (int j = 1; j < end; ++j)
            if (margins[j] > margins[pick]) pick = j;
    }
    mask[pick] = 1;
    return pick;
}

}  // namespace sprint::core

// The built-in synthetic workload: attention with a controllable sharpness and locality between
// adjacent queries, so that pruning and row re-use behave like real sparse attention.
//
// Per head: keys and values are i.i.d. standard normal. Queries follow a first-order random walk
// u_i = rho * u_(i-1) + sqrt(1 - rho^2) * xi_i (rho = locality, xi standard normal) scaled by
// `sharpness`, so the logits q.k/sqrt(d) of a query are ~N(0, sharpness^2) across keys and adjacent
// queries rank the keys alike (correlation rho): "dynamic spatial locality".
#pragma once

#include <cstdint>

#include "core/types.h"

namespace sprint::core {

struct SyntheticSpec {
    int heads = 12;          // BERT-base: 12 heads
    int n = 512;             // sequence length
    int d = 64;              // head dimension
    double locality = 0.9;   // rho, correlation of adjacent queries, [0, 1)
    double sharpness = 2.5;  // std-dev of the logits across keys
    uint64_t seed = 1;
};

struct Workload {
    Tensor3 q, k, v;
};

Workload generate_synthetic(const SyntheticSpec& spec);

}  // namespace sprint::core

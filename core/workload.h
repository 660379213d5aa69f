// The built-in synthetic workload: attention with a controllable sharpness and locality between
// adjacent queries, so that pruning and row re-use behave like real sparse attention.
//
// Per head: keys and values are i.i.d. standard normal. Queries follow a first-order random walk
// u_i = rho * u_(i-1) + sqrt(1 - rho^2) * xi_i (rho = locality, xi standard normal) scaled by
// `sharpness`, so the logits q.k/sqrt(d) of a query are ~N(0, sharpness^2) across keys and adjacent
// queries rank the keys alike (correlation rho): "dynamic spatial locality". On top of that, for
// the model presets: heads of different sharpness, heavy-hitter ("sink") tokens that every query
// attends to (a common direction in the queries, matched by the sinks' keys), a local band
// (random Fourier positional features in Q and K whose dot product falls with |i - j|), and
// padding (a valid length per head).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/types.h"

namespace sprint::core {

struct SyntheticSpec {
    int heads = 12;          // BERT-base: 12 heads
    int n = 512;             // sequence length
    int d = 64;              // head dimension
    double locality = 0.9;   // rho, correlation of adjacent queries, [0, 1)
    double sharpness = 2.5;  // std-dev of the logits across keys
    uint64_t seed = 1;
    // Structure that differs between models (all off by default: the plain generator above).
    double sharpness_spread = 0.0;  // head h: sharpness x (1 + spread x (2h / (H - 1) - 1))
    int sinks = 0;                  // heavy-hitter tokens 0 .. sinks-1 every query attends to
    double sink_strength = 0.0;     // their extra logit, in units of the head's logit std-dev
    double band = 0.0;              // extra logit of keys near the query, in logit std-devs,
    double band_width = 16.0;       // falling as exp(-(i - j)^2 / (2 width^2)) (tokens)
    double min_valid = 1.0;         // head h's valid length uniform in [min_valid, 1] x n
};

// The valid length of every head (padding after it), drawn from spec.min_valid and the seed.
std::vector<uint32_t> valid_lengths(const SyntheticSpec& spec);

// Named workloads: the shapes of the models the paper evaluates and the attention structure that
// differs between them (docs/workloads.md gives each choice and its reason).
struct WorkloadPreset {
    const char* name;
    SyntheticSpec spec;
    bool causal;
    const char* why;
};
const std::vector<WorkloadPreset>& workload_presets();
const WorkloadPreset* find_workload_preset(const std::string& name);

struct Workload {
    Tensor3 q, k, v;
};

Workload generate_synthetic(const SyntheticSpec& spec);

}  // namespace sprint::core

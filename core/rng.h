// Counter-based random numbers: every random quantity in the model (a cell's variation, a
// bitline's read noise, a comparator's offset, a synthetic tensor element) is a pure function of
// (seed, stream, indices). Results therefore do not depend on evaluation order, chunking or timing
// mode, and the reference and the SystemC model draw exactly the same numbers.
#pragma once

#include <cmath>
#include <cstdint>

namespace sprint::core {

inline uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// Hash of a seed and up to four indices.
inline uint64_t rng_key(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0, uint64_t d = 0) {
    uint64_t h = splitmix64(seed);
    h = splitmix64(h ^ a);
    h = splitmix64(h ^ (b + 0x632BE59BD9B4E019ull));
    h = splitmix64(h ^ (c + 0x85157AF5ull));
    return splitmix64(h ^ (d + 0x1B873593ull));
}

// Uniform in (0, 1), never 0 (53-bit mantissa).
inline double rng_uniform(uint64_t key) {
    return (double((key >> 11) + 1)) * (1.0 / 9007199254740994.0);
}

// Standard normal via Box-Muller on two derived uniforms (std::normal_distribution is
// implementation-defined; this is not).
inline double rng_normal(uint64_t key) {
    const double u1 = rng_uniform(splitmix64(key ^ 0xA5A5A5A5A5A5A5A5ull));
    const double u2 = rng_uniform(splitmix64(key ^ 0x5A5A5A5A5A5A5A5Aull));
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// Stream identifiers, so different random quantities never share keys.
enum RngStream : uint64_t {
    kStreamCellVariation = 1,
    kStreamStuckCell = 2,
    kStreamReadNoise = 3,
    kStreamComparatorOffset = 4,
    kStreamWorkloadQ = 10,
    kStreamWorkloadK = 11,
    kStreamWorkloadV = 12,
    kStreamWorkloadSink = 13,
    kStreamWorkloadBand = 14,
    kStreamWorkloadValid = 15,
};

}  // namespace sprint::core

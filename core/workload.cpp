#include "core/workload.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/rng.h"

namespace sprint::core {

Workload generate_synthetic(const SyntheticSpec& s) {
    Workload w{Tensor3(s.heads, s.n, s.d), Tensor3(s.heads, s.n, s.d), Tensor3(s.heads, s.n, s.d)};
    const double rho = s.locality;
    const double innov = std::sqrt(std::max(0.0, 1.0 - rho * rho));
    std::vector<double> u(std::size_t(s.d));
    for (int h = 0; h < s.heads; ++h) {
        for (int i = 0; i < s.n; ++i) {
            for (int e = 0; e < s.d; ++e) {
                const uint64_t hh = uint64_t(h), ii = uint64_t(i), ee = uint64_t(e);
                w.k.row(h, i)[e] = float(rng_normal(rng_key(s.seed, kStreamWorkloadK, hh, ii, ee)));
                w.v.row(h, i)[e] = float(rng_normal(rng_key(s.seed, kStreamWorkloadV, hh, ii, ee)));
                const double xi = rng_normal(rng_key(s.seed, kStreamWorkloadQ, hh, ii, ee));
                u[std::size_t(e)] = i == 0 ? xi : rho * u[std::size_t(e)] + innov * xi;
                w.q.row(h, i)[e] = float(s.sharpness * u[std::size_t(e)]);
            }
        }
    }
    return w;
}

}  // namespace sprint::core

#include "core/quant.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sprint::core {

float symmetric_scale(const float* x, std::size_t count) {
    float m = 0.0f;
    for (std::size_t i = 0; i < count; ++i) m = std::max(m, std::fabs(x[i]));
    if (!(m > 0.0f)) return 1.0f;
    // max|x| / 127 underflows to 0 for the smallest subnormals; a zero scale would make every
    // quantised value inf or NaN.
    return std::max(m / 127.0f, std::numeric_limits<float>::denorm_min());
}

int8_t quantize(float x, float scale) {
    const double r = std::round(double(x) / double(scale));
    return int8_t(std::clamp(r, -127.0, 127.0));
}

QTensor quantize_per_head(const Tensor3& t) {
    QTensor q;
    q.heads = t.heads;
    q.n = t.n;
    q.d = t.d;
    q.data.resize(t.data.size());
    q.scale.resize(std::size_t(t.heads));
    const std::size_t per_head = std::size_t(t.n) * t.d;
    for (int h = 0; h < t.heads; ++h) {
        const float* src = t.head(h);
        const float s = symmetric_scale(src, per_head);
        q.scale[std::size_t(h)] = s;
        int8_t* dst = q.data.data() + std::size_t(h) * per_head;
        for (std::size_t i = 0; i < per_head; ++i) dst[i] = quantize(src[i], s);
    }
    return q;
}

Tensor3 dequantize(const QTensor& q) {
    Tensor3 t(q.heads, q.n, q.d);
    const std::size_t per_head = std::size_t(q.n) * q.d;
    for (int h = 0; h < q.heads; ++h)
        for (std::size_t i = 0; i < per_head; ++i)
            t.data[std::size_t(h) * per_head + i] =
                float(q.data[std::size_t(h) * per_head + i]) * q.scale[std::size_t(h)];
    return t;
}

}  // namespace sprint::core

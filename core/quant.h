// Host-side int8 quantisation: symmetric, one scale per tensor per head (s = max|x| / 127).
#pragma once

#include "core/types.h"

namespace sprint::core {

// Scale for `count` values: max|x| / 127, or 1 when every value is zero.
float symmetric_scale(const float* x, std::size_t count);
// round-half-away-from-zero(x / scale), clamped to [-127, 127].
int8_t quantize(float x, float scale);
// Quantise every head of `t` with its own scale.
QTensor quantize_per_head(const Tensor3& t);
// Back to float (value * scale), for checks.
Tensor3 dequantize(const QTensor& q);

}  // namespace sprint::core

// Host-side int8 quantisation: symmetric, one scale per tensor per head (s = max|x| / 127).
#pragma once

#include "core/types.h"

namespace sprint::core {

// The largest |x| of a Q, K or V element the model takes (inputs beyond it are refused where they
// enter, naming the value): the per-head scale (max|x| / 127), the head table's float32 logit
// scale s_q s_k / sqrt(d) and the dense float32 reference (d products of two such values summed,
// d up to 2^20) all stay finite.
constexpr double kInputMagnitudeMax = 1e15;

// Scale for `count` values: max|x| / 127, or 1 when every value is zero.
float symmetric_scale(const float* x, std::size_t count);
// round-half-away-from-zero(x / scale), clamped to [-127, 127].
int8_t quantize(float x, float scale);
// Quantise every head of `t` with its own scale.
QTensor quantize_per_head(const Tensor3& t);
// Back to float (value * scale), for checks.
Tensor3 dequantize(const QTensor& q);

}  // namespace sprint::core

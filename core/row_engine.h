// Exact recompute of one query row on the kept keys: int8 x int8 -> int32 scores, softmax over the
// kept keys only (hardware fixed point by default, float for studies), then the weighted sum of V.
//
// Fixed-point softmax (after the paper's datapath: 12-bit score into the softmax, exp as the
// product of two LUT halves, 8-bit probabilities):
//   u_j   = min(4095, round((s_max - s_j) * logit_scale * 256))   12 bits, (max - logit) in 1/256
//   e_j   = (LUT_hi[u_j >> 6] * LUT_lo[u_j & 63] + 2^15) >> 16    17 bits, ~ 2^16 * exp(-u_j/256)
//           LUT_hi[a] = round(2^16 exp(-a/4)), LUT_lo[b] = round(2^16 exp(-b/256))
//   sum   = sum_j e_j                                             32-bit accumulator
//   p_j   = (255 e_j + sum/2) / sum                               8 bits
//   acc_e = sum_j p_j * v_j[e]                                     int32
// Output: float32 = acc * s_v / 255, or int16 = round(acc * 128 / 255) (units of s_v / 128).
//
// Chunking: the engine is fed key rows in ascending token order, in any number of chunks. All
// scores are held (the datapath's score buffer) until softmax(), so max and sum are taken over the
// complete kept set before any probability exists; V accumulation is integer (fixed) or in
// ascending token order (float). The result is therefore the same bits however the rows were
// chunked: the SystemC Datapath and the golden reference both drive this one class.
#pragma once

#include <cstdint>
#include <vector>

#include "core/types.h"

namespace sprint::core {

constexpr int kSoftmaxInputBits = 12;
constexpr int kSoftmaxFracBits = 8;
constexpr uint32_t kSoftmaxInputMax = (1u << kSoftmaxInputBits) - 1;
constexpr int kProbabilityMax = 255;

// ~ 2^16 * exp(-u / 256) for a 12-bit u, from the two 64-entry LUTs.
uint32_t exp_fixed(uint32_t u);
// The 12-bit softmax input of a score relative to the row maximum.
uint32_t softmax_input(int32_t s_max, int32_t s, double logit_scale);
// Exact int8 dot product.
int32_t dot_i8(const int8_t* a, const int8_t* b, int d);

class RowEngine {
  public:
    // Start a query row. `q` (d int8) is copied.
    void begin(const int8_t* q, int d, double logit_scale, float s_v, SoftmaxKind kind,
               OutputFormat out);
    // QK for key `token` (ascending across calls). Returns false if the order is violated.
    bool score(uint32_t token, const int8_t* k_row);
    // On-chip pruning: keep only scores whose logit >= threshold, then the empty-row policy
    // (Self keeps `self_token` if present, else the nearest lower token). Returns kept count.
    std::size_t prune(double threshold, EmptyRowPolicy policy, uint32_t self_token);
    // Softmax over the current scores; returns the tokens whose V rows are needed (ascending).
    const std::vector<uint32_t>& softmax();
    // V for the next token of softmax()'s list. Returns false on an out-of-order token.
    bool accumulate(uint32_t token, const int8_t* v_row);
    // All V rows seen? Then write d output elements (float32 or int16, little-endian).
    bool finish(uint8_t* out);

    std::size_t scores_held() const { return m_tokens.size(); }
    const std::vector<uint32_t>& tokens() const { return m_tokens; }
    const std::vector<int32_t>& scores() const { return m_scores; }
    // Operation counts of this row (for the datapath's counters).
    uint64_t exp_ops() const { return m_exp_ops; }
    uint64_t div_ops() const { return m_div_ops; }

  private:
    int m_d = 0;
    double m_logit_scale = 1.0;
    float m_s_v = 1.0f;
    SoftmaxKind m_kind = SoftmaxKind::Fixed;
    OutputFormat m_out = OutputFormat::Float32;
    std::vector<int8_t> m_q;
    std::vector<uint32_t> m_tokens;
    std::vector<int32_t> m_scores;
    std::vector<uint8_t> m_p8;
    std::vector<double> m_pf;
    std::vector<int32_t> m_acc;
    std::vector<double> m_accf;
    std::size_t m_next_v = 0;
    uint64_t m_exp_ops = 0, m_div_ops = 0;
};

}  // namespace sprint::core

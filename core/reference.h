// Golden references:
//   (a) dense float attention on the float inputs (double accumulation);
//   (b) exact-score pruning with the same threshold (what the analog stage should have kept);
//   (c) the bit-exact SPRINT result: the approximate keep mask from the crossbar numerics, then the
//       datapath arithmetic of RowEngine. The SystemC model must write exactly (c)'s bytes.
#pragma once

#include <cstdint>
#include <vector>

#include "core/crossbar.h"
#include "core/types.h"

namespace sprint::core {

// Keep masks of every (head, query, key): mask[(h * n + i) * n + j].
struct KeepMasks {
    int heads = 0, n = 0;
    std::vector<uint8_t> bits;

    void reset(int h, int n_) {
        heads = h;
        n = n_;
        bits.assign(std::size_t(h) * n_ * n_, 0);
    }
    uint8_t* row(int h, int i) { return bits.data() + (std::size_t(h) * n + i) * n; }
    const uint8_t* row(int h, int i) const { return bits.data() + (std::size_t(h) * n + i) * n; }
};

struct QuantizedWorkload {
    QTensor q, k, v;
    std::vector<HeadParams> heads;  // scales copied from q/k/v, thresholds, valid lengths
};

// One head's keep decisions in `mode`, a query row at a time: O(N d) state (the programmed cells
// for Sprint), so a whole job's references never hold an N x N mask.
class HeadMasks {
  public:
    HeadMasks(const QuantizedWorkload& w, int h, const JobOptions& opt, const XbarNumerics& x);
    // The mask of query i over its visible keys [0, end) into mask[0, end); returns end.
    int row(int i, uint8_t* mask);
    // After row(i): the score each visible key of the row was judged on, in logits (sprint: the
    // crossbar's approximate q.k, as the comparators or the ADC saw it; onchip-prune: the exact
    // int8 score); nullptr in the dense modes, which judge nothing.
    const double* scores_logits();

  private:
    const QuantizedWorkload& m_w;
    int m_h;
    JobOptions m_opt;
    XbarNumerics m_x;
    CellArray m_cells;
    double m_t_raw = 0.0, m_scale = 0.0;
    std::vector<int8_t> m_q_dac;
    std::vector<double> m_v, m_margins, m_logits;
};

// The mask the IP uses in `mode` (analog for Sprint, exact for OnchipPrune, all visible for Dense).
KeepMasks reference_masks(const QuantizedWorkload& w, const JobOptions& opt, const XbarNumerics& x);
// The bytes the IP writes for the whole [heads, n, d] output (padded query rows stay zero).
std::vector<uint8_t> reference_output(const QuantizedWorkload& w, const JobOptions& opt,
                                      const XbarNumerics& x, KeepMasks* masks_out = nullptr);
// SPRINT without the exact recompute (a study of the paper's Fig. 9 question, not a mode of the
// IP): each query's softmax over its kept keys takes the scores the keys were judged on
// (HeadMasks::scores_logits: in sprint mode the crossbar's approximate scores) instead of the
// recomputed exact int8 scores; softmax and V (int8 x s_v) in double precision, so that only the
// scores differ from a float datapath. Sprint and onchip-prune modes (std::invalid_argument for
// the dense ones). Padded query rows are zero.
Tensor3 no_recompute_output(const QuantizedWorkload& w, const JobOptions& opt,
                            const XbarNumerics& x);
// Decode output bytes (float32 or int16) to floats using each head's s_v.
Tensor3 decode_output(const std::vector<uint8_t>& bytes, OutputFormat fmt, int heads, int n, int d,
                      const std::vector<HeadParams>& hp);

// exp(logit_j - max) of query i of head h for the keys [0, end) into p (double precision,
// logit = q.k / sqrt(d)); returns their sum, and the max in *max_out when given. The dense softmax
// of reference (a), of the metrics and of calibration by mass.
double dense_softmax_row(const Tensor3& q, const Tensor3& k, int h, int i, int end, double* p,
                         double* max_out = nullptr);
// The logits (before the max is taken off) of keys js[0, n) in query i's row of `end` keys, bit
// for bit as dense_softmax_row computes them; false, writing nothing, where that cannot be
// promised without the whole row (no AVX2 kernel on this host or build).
bool dense_logits_at(const Tensor3& q, const Tensor3& k, int h, int i, int end, const int* js,
                     int n, double* out);

// Reference (a)'s row for query i of head h: the softmax row into p (as dense_softmax_row; its
// sum is returned) and the attention output into out[0, d); acc is d doubles of scratch.
double dense_attention_row(const Tensor3& q, const Tensor3& k, const Tensor3& v, int h, int i,
                           int end, double* p, double* acc, float* out);

// (a) dense float attention (padded query rows zero).
Tensor3 dense_float_attention(const Tensor3& q, const Tensor3& k, const Tensor3& v,
                              const std::vector<uint32_t>& valid_len, bool causal);

}  // namespace sprint::core

// Exact recompute of one query row on the kept keys: int8 x int8 -> int32 scores, softmax over the
// kept keys only (hardware fixed point by default, float for studies), then the weighted sum of V.
//
// Softmax arithmetic (SoftmaxKind). Common to the fixed-point kinds (after the paper's datapath:
// 12-bit score into the softmax, exp as the product of two LUT halves):
//   u_j   = min(4095, round((s_max - s_j) * logit_scale * 256))   12 bits, (max - logit) in 1/256
//   e_j   = (LUT_hi[u_j >> 6] * LUT_lo[u_j & 63] + 2^15) >> 16    17 bits, ~ 2^16 * exp(-u_j/256)
//           LUT_hi[a] = round(2^16 exp(-a/4)), LUT_lo[b] = round(2^16 exp(-b/256))
//   sum   = sum_j e_j                                             48-bit accumulator
// Fixed (the default): the exponentials stay unnormalised; the V unit weighs V with them and the
// row is divided by the sum once per output element, so no probability is ever rounded:
//   acc_e = sum_j e_j * v_j[e]                                     17 x 8-bit MACs, 48-bit acc
//   out_e = acc_e / sum                                            one division per element
// Prob8 (the paper's datapath, for study): each probability is rounded to 8 bits of the row's
// total before V, one division per key:
//   p_j   = (255 e_j + sum/2) / sum                                8 bits
//   acc_e = sum_j p_j * v_j[e]                                     8 x 8-bit MACs, int32
//   out_e = acc_e / 255
// On a long, flat row most of the mass sits in keys whose p_j rounds to 0 (every e_j < sum/510):
// at N = 2048 with near-uniform scores each p_j is 0, and Prob8's output collapses; Fixed keeps
// every e_j at 16 bits of its own, so its error is the 12-bit input's (about 0.2% per key, random).
// Output: float32 = out * s_v, or int16 = round(out * 128) (units of s_v / 128; Fixed rounds the
// integer division half away from zero).
//
// Two passes (the default; sprint, onchip-prune, dense-stream, and dense with prob8): the engine
// is fed key rows in ascending token order, in any number of chunks. All scores are held (the
// datapath's score buffer) until softmax(), so max and sum are taken over the complete kept set
// before any weight exists; V accumulation is integer (fixed, prob8) or in ascending token order
// (float). The result is the same bits however the rows were chunked.
//
// Online (set_online(T): dense mode with fixed or float, core::online_tile): the keys go in tiles
// of T tokens, [tT, (t+1)T) (every visible key: tile t is positions tT..). When V reaches tile t
// the tile's maximum joins the running maximum M; if M rises, the sum and the accumulators are
// rescaled once by exp(M_old - M_new) (fixed: (x * e(u) + 2^15) >> 16 with u the 12-bit input of
// M_new - M_old, rounded half away from zero), then each key of the tile adds e(u(M, s_j)) to the
// sum and e * v_j to the accumulators; the division comes at the end, as above. Only the scores of
// the tiles not yet accumulated are held, so nothing grows with N. Every score of a tile must be in
// before its first V row (a later one is refused); the tiles are fixed by position, so the result
// is again the same bits however the rows were chunked, and softmax() only closes the row.
//
// Key-interleaved units, online (dense mode with pooled buffers): each unit an engine over its
// keys, tile by tile. The units score their keys of tile t, exchange local_max() (each unit's
// largest score so far: their maximum is the running maximum M after tile t), and every unit
// enters the tile with M (enter_tile_shared); only unit 0 holds the row's running accumulators
// and rescales them, the others weigh their V rows into accumulators that take_partial() hands
// to unit 0 and zeroes after each tile, and unit 0 merges them before the next tile. Every e_j is
// the single engine's and the rescales happen on the same sum at the same tiles, so the fixed
// kind gives the single engine's bits for any unit count; float differs by its additions' order.
//
// Key-interleaved units (two passes): a row's keys split over units (key j in unit j mod U), each
// unit an engine over its own keys. Each reports local_max(); each then runs
// softmax_shared(the row's maximum), so every e_j is the one a single engine computes; prob8 (and
// float) normalise with the units' total sum; the units' partial() accumulators and sums are
// added into one engine (merge), which divides. The integer kinds give the single engine's bits
// for any unit count (sums of integers); float differs by the order of its additions.
//
// The SystemC Datapath and the golden reference both drive this one class.
#pragma once

#include <cstdint>
#include <vector>

#include "core/types.h"

namespace sprint::core {

constexpr int kSoftmaxInputBits = 12;
constexpr int kSoftmaxFracBits = 8;
constexpr uint32_t kSoftmaxInputMax = (1u << kSoftmaxInputBits) - 1;
constexpr int kProbabilityMax = 255;  // Prob8

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
    // Online softmax in tiles of `tile` keys for this row (after begin(); 0: two passes).
    void set_online(uint32_t tile);
    // Softmax over the current scores; returns the tokens whose V rows are needed (ascending).
    // Online: closes the row (no more scores), the weights come with the V rows.
    const std::vector<uint32_t>& softmax();
    // Key-interleaved units: this engine's share of a row (see above).
    struct Partial {
        std::vector<int64_t> acc;
        std::vector<double> accf;
        uint64_t sum = 0;
        double sumf = 0.0;
    };
    // The largest score held; false when none is.
    bool local_max(int32_t& out) const;
    // Softmax of the held scores against `row_max` (>= every unit's scores); prob8 and float wait
    // for normalise(). Returns the tokens whose V rows are needed.
    const std::vector<uint32_t>& softmax_shared(int32_t row_max);
    uint64_t local_sum() const { return m_sum; }
    double local_sum_float() const { return m_sumf; }
    // prob8: the probabilities against the units' total; float likewise.
    void normalise(uint64_t total, double total_f);
    Partial partial() const;
    // Online, key-interleaved: enter tile t with the units' running maximum (>= every score of
    // theirs so far); `running`: this engine holds the row's accumulators and rescales them when
    // the maximum rises (unit 0). False when a tile was skipped back or the row is closed.
    bool enter_tile_shared(uint32_t t, int32_t run_max, bool running);
    // The accumulators and sum so far, which are then zeroed (a unit's tile partial).
    Partial take_partial();
    // Another unit's share into this one (same d); false when d differs.
    bool merge(const Partial& p);
    // V for the next token of softmax()'s list. Returns false on an out-of-order token.
    bool accumulate(uint32_t token, const int8_t* v_row);
    // All V rows seen? Then write d output elements (float32 or int16, little-endian).
    bool finish(uint8_t* out);

    // Scores in the score buffer: all of them (two passes), or those whose V rows are still to
    // come (online).
    std::size_t scores_held() const {
        return m_tile ? m_tokens.size() - m_next_v : m_tokens.size();
    }
    const std::vector<uint32_t>& tokens() const { return m_tokens; }
    const std::vector<int32_t>& scores() const { return m_scores; }
    // Operation counts of this row (for the datapath's counters).
    // Divisions: one per key at softmax() (Prob8, Float), or one per output element at finish()
    // (Fixed, when the row has keys).
    uint64_t exp_ops() const { return m_exp_ops; }
    uint64_t div_ops() const { return m_div_ops; }
    // Online: tiles entered, and rescales of the sum and the d accumulators (one per rise of M).
    bool online() const { return m_tile != 0; }
    // Online, key-interleaved: the tiles are entered with the units' maximum (enter_tile_shared).
    bool shared() const { return m_shared; }
    uint64_t tiles() const { return m_tiles; }
    uint64_t rescales() const { return m_rescales; }

  private:
    void clear_weights();
    std::size_t weights() const;  // the keys softmax() has weighed (0 before it)
    bool accumulate_online(uint32_t token, const int8_t* v_row);
    void enter_tile(std::size_t t);  // online: tile t's maximum into the running one
    void enter(std::size_t t, int32_t new_max, bool running);

    int m_d = 0;
    double m_logit_scale = 1.0;
    float m_s_v = 1.0f;
    SoftmaxKind m_kind = SoftmaxKind::Fixed;
    OutputFormat m_out = OutputFormat::Float32;
    std::vector<int8_t> m_q;
    std::vector<uint32_t> m_tokens;
    std::vector<int32_t> m_scores;
    std::vector<uint32_t> m_e;  // Fixed: the unnormalised exponentials
    uint64_t m_sum = 0;         // Fixed: their sum
    std::vector<uint8_t> m_p8;  // Prob8
    std::vector<double> m_pf;   // Float
    std::vector<int64_t> m_acc;
    std::vector<double> m_accf;
    std::size_t m_next_v = 0;
    uint64_t m_exp_ops = 0, m_div_ops = 0;
    // Online softmax: tile size (0: two passes), the tile entered last (-1: none), the running
    // maximum, the float kind's sum, and whether softmax() closed the row.
    uint32_t m_tile = 0;
    int64_t m_tile_at = -1;
    int32_t m_run_max = 0;
    double m_sumf = 0.0;
    bool m_closed = false;
    bool m_shared = false;  // the tiles are entered by enter_tile_shared
    uint64_t m_tiles = 0, m_rescales = 0;
};

}  // namespace sprint::core

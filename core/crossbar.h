// Approximate scoring and analog pruning: what the ReRAM crossbar and the comparator bank compute.
//
// Signed-value mapping (our choice, see docs/numerics.md): OFFSET encoding. A key element's top
// `key_bits` bits k_msb (arithmetic shift of the int8 key, range [-2^(b-1), 2^(b-1)-1]) are stored
// as one multi-level cell of level k_msb + 2^(b-1) in [0, 2^b - 1]: one cell per key element, one
// key per bitline column. The bipolar query DAC drives q_dac (the top `query_bits` bits of the int8
// query) on the wordlines, so a bitline integrates
//     v_j = sum_e q_dac[e] * G[j][e]          (G = the cell's conductance in level units)
// and the offset term 2^(b-1) * sum_e q_dac[e] is the same for every column of a query. The
// controller therefore shifts the comparator reference by that amount instead of spending a
// second (differential) column per key.
#pragma once

#include <cstdint>
#include <vector>

#include "core/types.h"

namespace sprint::core {

// Crossbar/comparator numerics and non-idealities. All defaults are ideal except the bit widths.
struct XbarNumerics {
    int key_bits = 4;    // bits of each key stored in the array [F]: 4 is enough, 2 collapses
    int query_bits = 4;  // bits of each query element driven by the DACs
    double read_noise_sigma = 0.0;         // additive bitline noise per evaluation, raw units
    double cell_variation_sigma = 0.0;     // relative std-dev of a programmed cell's conductance
    double stuck_at_zero_rate = 0.0;       // fraction of cells stuck at level 0
    double stuck_at_max_rate = 0.0;        // fraction of cells stuck at level 2^b - 1
    double comparator_offset_sigma = 0.0;  // std-dev of a comparator's input offset, raw units
    uint64_t seed = 1;

    bool ideal() const {
        return read_noise_sigma == 0.0 && cell_variation_sigma == 0.0 &&
               stuck_at_zero_rate == 0.0 && stuck_at_max_rate == 0.0 &&
               comparator_offset_sigma == 0.0;
    }
};

// Top bits of an int8 (arithmetic shift).
inline int key_msb(int8_t k, int key_bits) {
    return int(k) >> (8 - key_bits);
}
inline int query_dac(int8_t q, int query_bits) {
    return int(q) >> (8 - query_bits);
}
// Offset-encoded cell level of a key element.
inline int cell_level(int8_t k, int key_bits) {
    return key_msb(k, key_bits) + (1 << (key_bits - 1));
}

// One raw unit of the approximate score (q_dac * k_msb) in logit units (q.k / sqrt(d)).
double raw_to_logit(const HeadParams& hp, int d, const XbarNumerics& x);
// Logit scale of an exact int8 x int8 score.
double exact_logit_scale(const HeadParams& hp, int d);
// The head's threshold converted to raw approximate-score units (the comparator reference).
double threshold_raw(const HeadParams& hp, int d, const XbarNumerics& x);
// Comparator reference shift of one query (offset encoding): 2^(b-1) * sum_e q_dac[e].
double query_shift(const int8_t* q_dac, int d, const XbarNumerics& x);
// The fixed input offset of comparator j.
double comparator_offset(uint32_t j, const XbarNumerics& x);

// Programmed conductances of one head's keys (what the crossbar tiles hold), column-major: the d
// cells of key j are contiguous.
class CellArray {
  public:
    void reset(int keys, int d);
    // Program keys [first, first+count) from int8 rows k_rows[count][d]; returns cells written.
    uint64_t program(const int8_t* k_rows, int first, int count, uint32_t head,
                     const XbarNumerics& x);
    // Bitline values v_j for j in [0, key_end) for one query (q_dac = DAC codes, d of them),
    // including read noise.
    void bitlines(const int8_t* q_dac, int key_end, uint32_t head, uint32_t query,
                  const XbarNumerics& x, double* out) const;
    double conductance(int j, int e) const { return m_g[std::size_t(j) * m_d + e]; }
    int keys() const { return m_keys; }
    int dim() const { return m_d; }

  private:
    int m_keys = 0, m_d = 0;
    std::vector<double> m_g;
    // While every programmed cell holds an exact level (no variation), the levels as int8 too:
    // integer dot products are exact, so the result is bit-identical and several times faster.
    std::vector<uint8_t> m_level;
    bool m_integer = true;
};

// DAC codes of a query row.
void query_to_dac(const int8_t* q, int d, const XbarNumerics& x, int8_t* q_dac);

// Comparator bank decision for columns [0, key_end): margin_j = v_j - shift + offset_j;
// mask[j] = margin_j >= t_raw. Writes the margins when `margins` is not null. Returns the count.
uint32_t compare_bitlines(const double* v, int key_end, double shift, double t_raw,
                          const XbarNumerics& x, uint8_t* mask, double* margins);

}  // namespace sprint::core

// Approximate scoring and analog pruning: what the ReRAM crossbar and the comparator bank compute.
//
// Signed-value mapping (our choice, see docs/architecture.md, Numerics): OFFSET encoding. A key
// element's top `key_bits` bits k_msb (arithmetic shift of the int8 key, range [-2^(b-1),
// 2^(b-1)-1]) are stored as one multi-level cell of level k_msb + 2^(b-1) in [0, 2^b - 1]: one cell
// per key element, one key per bitline column. The bipolar query DAC drives q_dac (the top
// `query_bits` bits of the int8 query) on the wordlines, so a bitline integrates
//     v_j = sum_e q_dac[e] * G[j][e]          (G = the cell's conductance in level units)
// and the offset term 2^(b-1) * sum_e q_dac[e] is the same for every column of a query. The
// controller therefore shifts the comparator reference by that amount instead of spending a
// second (differential) column per key.
//
// Mid-point reconstruction (`midpoint`, the default): the top bits of a two's-complement value are
// a floor, so k_msb lies on average half a step below k / 2^(8-b), and q_dac likewise: the
// product sum is off by about d/4 - (sum q + sum k)/2 steps, a bias that depends on the query and
// the key (on the default workload about +1.3 logits). Reading each code as the middle of its
// interval (k_msb + 1/2, q_dac + 1/2) removes that bias without another cell: the DAC is mid-rise
// (it drives q_dac + 1/2 LSB, the levels of a symmetric bipolar DAC), the cell keeps level
// k_msb + 2^(b-1) = (k_msb + 1/2) + (2^b - 1)/2, and the reference shift becomes
// (2^b - 1)/2 * sum_e (q_dac[e] + 1/2). Then
//     v_j - shift = sum_e (q_dac[e] + 1/2) * (k_msb[j][e] + 1/2),
// an unbiased estimate of q.k / 2^(16-kb-qb) when the dropped low bits are uniform. The stored
// bits stay the plain top bits of the key, so the low bits remain its plain low bits (what the
// K-LSB fetch needs). With `midpoint` off, the DAC drives q_dac and the shift is 2^(b-1) sum q_dac
// (the floor mapping, kept for studies of the bias).
#pragma once

#include <algorithm>
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
    bool midpoint = true;                  // mid-point reconstruction of the codes (see above)
    uint64_t seed = 1;
    // Array geometry (0 = unbounded: every key its own column). Key j of a head sits in physical
    // column column(j, d) of the array (from the head's column_base, below); a head with more
    // keys than capacity(d) is evaluated in
    // passes of capacity(d) keys, so keys j and j + capacity share a column (and its comparator
    // and cell defects).
    uint32_t tile_rows = 0, tile_cols = 0, tiles = 0;
    // ADC read-out (studies against the comparators; adc_bits 0 = the comparator bank): each
    // column's margin digitised by an adc_bits ADC over +-adc_full_scale logits (round to
    // nearest, clipped), then kept when code x step >= the threshold, or (adc_topk > 0) the
    // adc_topk highest codes of the row (ties: the lower key).
    int adc_bits = 0;
    double adc_full_scale = 8.0;  // logits
    uint32_t adc_topk = 0;
    // The per-query rule (sprint.comparators.rule query-max): a key is kept when its margin minus
    // the query's largest margin (over the keys evaluated together) is at least the threshold
    // (a head's threshold is then <= 0); false: the margin against the threshold.
    bool query_max = false;

    // Keys the array holds at once at head dimension d: tiles / ceil(d / tile_rows) tile groups
    // of tile_cols columns (0 when d needs more rows than all tiles have; 0 unbounded without a
    // geometry: see bounded()).
    uint32_t capacity(uint32_t d) const {
        if (!bounded() || d == 0) return 0;
        const uint32_t row_groups = (d + tile_rows - 1) / tile_rows;
        return row_groups > tiles ? 0 : (tiles / row_groups) * tile_cols;
    }
    bool bounded() const { return tiles != 0 && tile_rows != 0 && tile_cols != 0; }
    uint32_t column(uint32_t j, uint32_t d) const {
        const uint32_t c = capacity(d);
        return c ? (column_base + j) % c : j;
    }
    // Where a head sits: a job whose heads (n keys each, in whole tiles) fit the array several
    // times over gives head h the region h mod head_regions, from column head_base; the array
    // then holds that many heads at once (the next head is programmed into free tiles while the
    // last one's keys are still read back). Otherwise one region, the whole array (passes).
    // Callers set column_base = head_base(h, n, d) for head h: cell defects and comparator
    // offsets are those of the physical columns.
    uint32_t column_base = 0;
    uint32_t head_columns(uint32_t n) const {
        return tile_cols ? (n + tile_cols - 1) / tile_cols * tile_cols : n;
    }
    uint32_t head_regions(uint32_t n, uint32_t d) const {
        const uint32_t c = capacity(d), hc = head_columns(n);
        return c && hc && hc <= c ? c / hc : 1;
    }
    uint32_t head_base(uint32_t h, uint32_t n, uint32_t d) const {
        return head_regions(n, d) > 1 ? h % head_regions(n, d) * head_columns(n) : 0;
    }
    XbarNumerics for_head(uint32_t h, uint32_t n, uint32_t d) const {
        XbarNumerics x = *this;
        x.column_base = head_base(h, n, d);
        return x;
    }

    bool ideal() const {
        return read_noise_sigma == 0.0 && cell_variation_sigma == 0.0 &&
               stuck_at_zero_rate == 0.0 && stuck_at_max_rate == 0.0 &&
               comparator_offset_sigma == 0.0;
    }
};

// Top bits of an int8 (arithmetic shift: a floor).
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
// Comparator reference shift of one query (offset encoding): 2^(b-1) * sum_e q_dac[e], or with
// mid-point reconstruction (2^b - 1)/2 * sum_e (q_dac[e] + 1/2).
double query_shift(const int8_t* q_dac, int d, const XbarNumerics& x);
// The fixed input offset of comparator (physical column) `column`.
double comparator_offset(uint32_t column, const XbarNumerics& x);

// Programmed conductances of one head's keys (what the crossbar tiles hold), column-major: the d
// cells of key j are contiguous.
class CellArray {
  public:
    void reset(int keys, int d);
    // Room for `keys` keys, the programmed ones kept (a head programmed in several commands).
    void grow(int keys);
    // Program keys [first, first+count) from int8 rows k_rows[count][d]; returns cells written.
    uint64_t program(const int8_t* k_rows, int first, int count, uint32_t head,
                     const XbarNumerics& x);
    // Bitline values v_j for j in [first, key_end) for one query (q_dac = DAC codes, d of them;
    // the DAC drives q_dac + 1/2 with mid-point reconstruction), including read noise; out[j].
    void bitlines(const int8_t* q_dac, int key_end, uint32_t head, uint32_t query,
                  const XbarNumerics& x, double* out, int first = 0) const;
    double conductance(int j, int e) const { return m_g[std::size_t(j) * m_d + e]; }
    // K-MSB read-back: what sensing cell (j, e) gives back, the nearest level in [0, 2^b - 1]
    // with the offset removed: the key's top bits for a well-programmed cell, another code for
    // a stuck or badly varied one.
    int read_msb(int j, int e, const XbarNumerics& x) const;
    // The d read-back codes of keys tokens[0..count) into msb[count][d].
    void read_back(const uint32_t* tokens, uint32_t count, const XbarNumerics& x,
                   int8_t* msb) const;
    int keys() const { return m_keys; }
    int dim() const { return m_d; }

  private:
    int m_keys = 0, m_d = 0;
    std::vector<double> m_g;
    // While every programmed cell holds an exact level (no variation), the levels as int8 too:
    // integer dot products are exact, so the result is bit-identical and several times faster.
    std::vector<uint8_t> m_level;
    bool m_integer = true;
    uint8_t m_max_level = 0;  // the highest level programmed (the fast kernel's range check)
    bool fast_bitlines(const int8_t* q_dac, int key_end, bool midpoint, double* out,
                       int first) const;
};

// Passes the crossbar takes over a head of `valid_len` keys at dimension d (1 when unbounded).
inline uint32_t crossbar_passes(const XbarNumerics& x, uint32_t valid_len, uint32_t d) {
    const uint32_t c = x.capacity(d);
    return c ? std::max(1u, (valid_len + c - 1) / c) : 1u;
}
// Whether a head's K rows take their top bits from the crossbar: with K-MSB read-back in sprint
// mode, for a head the array holds whole (a head scored in passes has left it: whole K rows).
inline bool head_reads_back(const JobOptions& opt, const XbarNumerics& x, uint32_t valid_len,
                            uint32_t d) {
    return opt.k_readback && opt.mode == Mode::Sprint && crossbar_passes(x, valid_len, d) == 1;
}

// K-MSB read-back layout: the low 8 - key_bits bits of each element of a key row, packed
// little-endian (element e at bit e * (8 - key_bits) of the row), ceil(d (8 - b) / 8) bytes a row;
// a row starts on a byte. join_key_row rebuilds int8 keys from top-bit codes and packed low bits:
// k = msb * 2^(8-b) + lsb, the exact key when msb is its top bits. With b = 8 a row has no low
// bits (0 bytes): the read-back is the whole key and nothing is fetched from memory.
uint32_t key_lsb_row_bytes(int d, int key_bits);
void pack_key_lsbs(const int8_t* k, int d, int key_bits, uint8_t* out);
void join_key_row(const int8_t* msb, const uint8_t* lsb, int d, int key_bits, int8_t* out);
// One head's keys as the datapath sees them with read-back: rows [0, valid) rebuilt from the
// programmed cells' read-back codes and the keys' own low bits (rows past valid copied).
std::vector<int8_t> readback_keys(const int8_t* k_rows, int n, int d, uint32_t valid, uint32_t head,
                                  const XbarNumerics& x);

// DAC codes of a query row.
void query_to_dac(const int8_t* q, int d, const XbarNumerics& x, int8_t* q_dac);

// ADC read-out: the step (raw units per code) for a head, and the code of a raw margin.
double adc_step_raw(const HeadParams& hp, int d, const XbarNumerics& x);
int adc_code(double margin_raw, double step_raw, const XbarNumerics& x);
// The ADC decision for keys [first, key_end) from their margins: mask[j] by threshold or top-k;
// codes[j] (when not null) gets each key's code. Returns the count kept. For top-k over several
// passes the controller merges the passes' kept keys by code (adc_topk_merge).
uint32_t adc_select(const double* margins, int key_end, double t_raw, double step_raw,
                    const XbarNumerics& x, uint8_t* mask, double* codes, int first = 0);
// The adc_topk best of (code, key) pairs (highest code first, ties: the lower key), in key order.
std::vector<uint32_t> adc_topk_merge(std::vector<std::pair<double, uint32_t>> coded, uint32_t k);

// The comparator inputs of keys [first, key_end): margin_j = v_j - shift + the offset of
// column(j, d), into margins[j].
void bitline_margins(const double* v, int key_end, double shift, const XbarNumerics& x, int d,
                     double* margins, int first = 0);
// Comparator bank decision for keys [first, key_end) of a head of dimension d: margin_j = v_j -
// shift + offset of column(j, d); mask[j] = margin_j >= t_raw, or with x.query_max
// margin_j - max_j' margin_j' >= t_raw (the max over [first, key_end)). Writes the margins when
// `margins` is not null. Returns the count.
uint32_t compare_bitlines(const double* v, int key_end, double shift, double t_raw,
                          const XbarNumerics& x, uint8_t* mask, double* margins, int first = 0,
                          int d = 0);

}  // namespace sprint::core

// Shared value types of the SystemC-free functional core: tensors, job options, per-head
// parameters. Everything numeric about SPRINT is defined in core/; the SystemC modules call it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sprint::core {

// The query an event serves when it serves one head as a whole (programming the crossbar,
// reading the head table, a group of Q rows read at once): no query of its own.
constexpr uint32_t kNoQuery = ~0u;

// Operating mode of the IP (register field JOB_CFG.MODE).
// Dense is the strong baseline (query blocks share every streamed K/V tile); DenseStream the naive
// one (every query streams all its K/V rows through the buffers).
enum class Mode : uint32_t { Sprint = 0, Dense = 1, OnchipPrune = 2, DenseStream = 3 };
// Modes that keep every visible key (no threshold).
inline bool keeps_all(Mode m) {
    return m == Mode::Dense || m == Mode::DenseStream;
}
// Modes that score in memory: the crossbar array and the comparator bank (or its ADCs) are part of
// the design only in sprint mode; the baselines are designs without them (they score every key,
// or prune on exact scores, in the digital datapath), so they pay for neither.
inline bool scores_in_memory(Mode m) {
    return m == Mode::Sprint;
}
// What to keep when nothing passes the threshold (JOB_CFG.EMPTY_MAX).
enum class EmptyRowPolicy : uint32_t { Self = 0, Max = 1 };
// Softmax arithmetic (JOB_CFG.SOFTMAX_FLOAT, JOB_CFG.SOFTMAX_PROB8; core/row_engine.h): Fixed,
// unnormalised fixed-point exponentials and one division per output element (the default);
// Float, for studies; Prob8, the paper's 8-bit probabilities (fails on long, flat rows).
enum class SoftmaxKind : uint32_t { Fixed = 0, Float = 1, Prob8 = 2 };
// Element format of the output rows written back to memory (JOB_CFG.OUT_INT16).
enum class OutputFormat : uint32_t { Float32 = 0, Int16 = 1 };

const char* to_string(Mode m);
const char* to_string(EmptyRowPolicy p);
const char* to_string(SoftmaxKind k);
const char* to_string(OutputFormat f);
// Parse from the command-line spelling; return false on an unknown name.
bool parse(const std::string& s, Mode& out);
bool parse(const std::string& s, EmptyRowPolicy& out);
bool parse(const std::string& s, SoftmaxKind& out);
bool parse(const std::string& s, OutputFormat& out);

inline std::size_t output_element_bytes(OutputFormat f) {
    return f == OutputFormat::Int16 ? 2 : 4;
}

// A float tensor [heads, n, d], row-major.
struct Tensor3 {
    int heads = 0, n = 0, d = 0;
    std::vector<float> data;

    Tensor3() = default;
    Tensor3(int h, int n_, int d_) : heads(h), n(n_), d(d_), data(std::size_t(h) * n_ * d_, 0.0f) {}
    float* row(int h, int i) { return data.data() + (std::size_t(h) * n + i) * d; }
    const float* row(int h, int i) const { return data.data() + (std::size_t(h) * n + i) * d; }
    const float* head(int h) const { return row(h, 0); }
};

// An int8 tensor [heads, n, d] with one symmetric scale per head: x ~= value * scale[h].
struct QTensor {
    int heads = 0, n = 0, d = 0;
    std::vector<int8_t> data;
    std::vector<float> scale;

    const int8_t* row(int h, int i) const { return data.data() + (std::size_t(h) * n + i) * d; }
    const int8_t* head(int h) const { return row(h, 0); }
};

// What the host writes into the per-head table in memory (see tlm_interfaces/register_map.h).
struct HeadParams {
    float threshold = 0.0f;  // keep threshold, logit units (same units as q.k/sqrt(d))
    float s_q = 1.0f, s_k = 1.0f, s_v = 1.0f;  // int8 scales of Q, K, V of this head
    uint32_t valid_len = 0;  // rows/columns >= valid_len are padding and skipped entirely
};

// Keys per tile of the dense mode's online softmax, by default (sprint.datapath.softmax_tile).
constexpr uint32_t kDefaultSoftmaxTile = 64;

// The job-level options that change numerics.
struct JobOptions {
    Mode mode = Mode::Sprint;
    bool causal = false;
    EmptyRowPolicy empty_row = EmptyRowPolicy::Self;
    SoftmaxKind softmax = SoftmaxKind::Fixed;
    OutputFormat output = OutputFormat::Float32;
    // Dense mode's online softmax: keys per tile (the platform sets it from
    // sprint.datapath.softmax_tile; core::online_tile says when it applies).
    uint32_t softmax_tile = kDefaultSoftmaxTile;
    // The compute units a row's keys are spread over (key j in unit j mod key_units; 1: one
    // unit holds the row): sprint, and dense-stream and online dense on pooled buffers. Only the
    // float softmax's rounding depends on it (the order in which the units' sums are added); the
    // platform sets it from the IP's (IpConfig::key_units).
    uint32_t key_units = 1;
    // Sprint mode: K-MSB read-back. The datapath's K rows are rebuilt from the top key_bits bits
    // read back out of the crossbar and the low bits fetched from a packed plane in memory (see
    // core/crossbar.h); the other modes ignore it.
    bool k_readback = false;
};

// The tile of the online softmax the job's rows are computed with, or 0 for two passes (every
// score held, then softmax, then V). Dense mode tiles its keys with a running maximum and sum, so
// no buffer grows with N (the strongest dense dataflow); prob8 cannot (its probabilities need
// the row's total first) and keeps two passes, as do the modes that keep a subset of the keys.
inline uint32_t online_tile(const JobOptions& o) {
    return o.mode == Mode::Dense && o.softmax != SoftmaxKind::Prob8 ? o.softmax_tile : 0;
}

}  // namespace sprint::core

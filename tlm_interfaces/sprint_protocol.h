// The contracts of the links inside the SPRINT IP. Every link is a TLM-2.0 base-protocol socket
// carrying tlm_generic_payload. Bulk data travels in the payload's data array with the usual
// command/address/length semantics; commands that are not plain reads or writes travel as
// TLM_IGNORE_COMMAND with one of the mandatory extensions below (the LRM's "ignorable command as a
// vehicle for extensions"). A target that receives an ignore command without its extension, or an
// unknown op, answers TLM_COMMAND_ERROR_RESPONSE.
//
// clang-format off
//   Controller.to_xbar           -> CrossbarArray.from_controller  XbarCommand
//   CrossbarArray.to_comparators -> ComparatorBank.from_xbar       CompareCommand
//   Controller.to_fetcher        -> Fetcher.from_controller        plain R/W (mem addresses),
//                                                                  FetchCommand
//   Controller.to_sram           -> SramBuffer.from_controller     ResidencyCommand (Reserve)
//   Fetcher.to_sram              -> SramBuffer.from_fetcher        plain W (SRAM addresses), or
//                                                                  W with RowScatter,
//                                                                  ResidencyCommand
//   Controller.to_datapath       -> Datapath.from_controller       DatapathCommand
//   Datapath.to_sram             -> SramBuffer.from_datapath       plain R (SRAM addresses), or
//                                                                  R with RowGather
//   Fetcher.mem                  -> (IP boundary) mem              plain R/W, base protocol
// clang-format on
//
// Pointers in the extensions refer to storage owned by the initiator and valid until the
// transaction completes (END_RESP in AT).
#pragma once

#include <cstdint>
#include <vector>

#include <tlm>

#include "core/row_engine.h"
#include "core/types.h"

namespace sprint::proto {

// Templated helper: clone/copy_from for plain-data extensions.
template <class T>
struct Extension : tlm::tlm_extension<T> {
    tlm::tlm_extension_base* clone() const override { return new T(static_cast<const T&>(*this)); }
    void copy_from(const tlm::tlm_extension_base& other) override {
        static_cast<T&>(*this) = static_cast<const T&>(other);
    }
};

// ---- Controller -> CrossbarArray ---------------------------------------------------------------
enum class XbarOp : uint8_t { Program, Evaluate, ReadBack };

// One run of consecutive keys of a batched ReadBack: sensed when `at` (absolute) has come and the
// array is free; `at` becomes the time its codes are out.
struct ReadBackRun {
    uint32_t first_key = 0, key_count = 0;
    sc_core::sc_time at;
};

struct XbarCommand : Extension<XbarCommand> {
    XbarOp op = XbarOp::Evaluate;
    uint32_t head = 0;
    uint32_t d = 0;
    core::HeadParams params{};  // scales and threshold of the head (Program latches them)
    // Program: write keys [first_key, first_key + key_count); data = key_count x d int8 (WRITE).
    // ReadBack (Fetcher -> CrossbarArray): sense keys [first_key, first_key + key_count) of the
    // programmed head; data = key_count x d int8 top-bit codes (READ).
    uint32_t first_key = 0, key_count = 0;
    // ReadBack of a list of runs (what the fetcher sends: one run per transaction on its
    // per-request path, all of a LoadRows's runs on its batched LT path): `runs` replaces
    // first_key and key_count; the runs are sensed in order, each at its own time; data = every
    // run's keys x d, run after run.
    ReadBackRun* runs = nullptr;
    uint32_t run_count = 0;
    // Program: the head's key count (a head with more keys than the array holds is programmed
    // and evaluated in passes: a Program at a multiple of the capacity starts the next pass).
    uint32_t keys_total = 0;
    bool resident = false;  // Program: the cells already hold these keys (no pulses, no time)
    // Program: the head's first physical column (core::XbarNumerics::head_base): the region of
    // whole tiles it takes; the array keeps one head per region.
    uint32_t column_base = 0;
    // Evaluate: data = the int8 query row (WRITE); keys [key_begin, key_end), all in the array's
    // current pass, take part. With defer_empty (a pass of several) the empty-row policy is left
    // to the controller: best_out is the pass's first key with the highest margin.
    uint32_t query = 0, key_begin = 0, key_end = 0;
    // The decisions stay latched in the comparator bank until the controller reads the keep
    // mask out (MaskCommand): the response comes when the drivers have latched the query and
    // the array is evaluating, so the next query's copy overlaps this evaluation.
    core::EmptyRowPolicy empty_row = core::EmptyRowPolicy::Self;
    bool defer_empty = false;
    double* codes_out = nullptr;  // ADC read-out: each key's code (index = key), when not null
    // Results.
    uint32_t kept_out = 0;
    int32_t forced_out = -1;  // token kept by the empty-row policy, or -1
    int32_t best_out = -1;    // defer_empty: the key with the highest margin, and that margin
    double best_margin_out = 0.0;
    uint64_t cells_written_out = 0;
};

// ---- CrossbarArray -> ComparatorBank ------------------------------------------------------------
struct CompareCommand : Extension<CompareCommand> {
    // data = key_end - key_begin doubles: the integrated bitline values of keys [key_begin,
    // key_end) (WRITE); d: the head dimension (which column each key sits in).
    uint32_t head = 0, query = 0, key_begin = 0, key_end = 0, d = 0;
    double shift = 0.0;          // reference shift of this query (offset encoding)
    double threshold_raw = 0.0;  // threshold in raw approximate-score units
    core::EmptyRowPolicy empty_row = core::EmptyRowPolicy::Self;
    bool defer_empty = false;  // report the best key instead of applying the empty-row policy
    // The decisions are taken (and latched for the read-out) this long after the request: the
    // end of the array's evaluation.
    sc_core::sc_time decided_after = sc_core::SC_ZERO_TIME;
    uint32_t column_base = 0;     // the head's first physical column (which comparators decide)
    double* codes_out = nullptr;  // ADC read-out: the codes, indexed by key (when not null)
    double adc_step = 0.0;        // ADC read-out: raw units per code for this head
    uint32_t kept_out = 0;
    int32_t forced_out = -1;
    int32_t best_out = -1;
    double best_margin_out = 0.0;
};

// ---- Controller -> ComparatorBank --------------------------------------------------------------
// The keep-mask read-out (the memory controller reads the pruning vector). Read: the mask of
// the oldest evaluated query the bank holds, which must be (head, query); data = key_end bytes
// (READ), index = key, [key_begin, key_end) written, 1 = kept, the rest 0. Clear (IGNORE, no
// data): every latched mask dropped (the start of a job).
enum class MaskOp : uint8_t { Read, Clear };
struct MaskCommand : Extension<MaskCommand> {
    MaskOp op = MaskOp::Read;
    uint32_t head = 0, query = 0;
};

// ---- Controller -> Fetcher ----------------------------------------------------------------------
// On a plain READ or WRITE for memory (Q rows, head table, K rows to program, output rows) and
// on the fetcher's writes into an SRAM buffer: the head and query it serves, for the per-head
// and per-query counts (core::kNoQuery: the head's own work). Without it, head 0.
struct HeadTag : Extension<HeadTag> {
    uint32_t head = 0;
    uint32_t query = core::kNoQuery;
    // Set by the fetcher: the bytes the memory completed with TLM_OK_RESPONSE, also when a
    // later burst of the access failed (the job's byte counters report what really moved).
    uint64_t bytes_out = 0;
};

enum class Buffer : uint8_t { K = 0, V = 1 };
// Peek: an untimed, uncounted read of memory (the data pointer and length of the payload, at its
// address) through debug transport: how the model fills a crossbar whose keys are resident.
enum class FetchOp : uint8_t { LoadRows, ReleaseRows, Flush, Peek };

struct FetchCommand : Extension<FetchCommand> {
    FetchOp op = FetchOp::LoadRows;
    Buffer buffer = Buffer::K;
    uint32_t unit = 0;  // LoadRows, ReleaseRows: the compute unit whose buffer (Flush: all)
    // LoadRows of K with K-MSB read-back: only the packed low bits of each row come from memory,
    // at lsb_base + token x key_lsb_row_bytes; the top bits are read back from the crossbar.
    bool readback = false;
    uint64_t lsb_base = 0;
    uint32_t head = 0, query = 0;
    uint64_t tensor_base = 0;          // mem address of row 0 of this head's K or V
    uint32_t row_bytes = 0;            // d
    const uint32_t* tokens = nullptr;  // LoadRows: rows wanted, ascending
    const uint32_t* slots = nullptr;   // ReleaseRows: the slots to unpin
    uint32_t count = 0;
    uint32_t* slots_out = nullptr;  // LoadRows: SRAM slot of each token
    // Results.
    uint32_t hits_out = 0, fetched_out = 0;
    uint64_t mem_bytes_out = 0;  // LoadRows: bytes read from memory (also when a read failed)
    bool no_room_out = false;  // LoadRows: too few unpinned slots now; nothing changed, retry later
    tlm::tlm_response_status mem_status = tlm::TLM_OK_RESPONSE;  // first failing mem response
};

// ---- Fetcher -> SramBuffer (resident table) -----------------------------------------------------
enum class ResidencyOp : uint8_t { Reserve, Unreserve, Acquire, Release, Abandon, Flush };

struct ResidencyCommand : Extension<ResidencyCommand> {
    ResidencyOp op = ResidencyOp::Acquire;
    Buffer buffer = Buffer::K;
    uint32_t head = 0;
    uint32_t row_bytes = 0;
    // Reserve (Controller -> SramBuffer): claim room for a chunk of `count` rows of `row_bytes`
    // about to be loaded, in issue order. With `tokens` (of `head`) the chunk claims its rows and
    // needs room only for those no chunk in flight claims yet (rows shared by chunks take one
    // slot); without, for all `count`. no_room_out when too little room is left (nothing
    // changes). capacity_out: the rows the buffer holds at this row size (count 0 only asks
    // that). Unreserve: give the same chunk's claim back (the same tokens, or `count`) once it
    // has been released. The SRAM buffer is the one owner of its capacity and of these
    // reservations; a Flush ends them all. Acquire: find or make room for `count` rows (`tokens` of
    // `head`) and pin each slot once; all or nothing: when too few unpinned slots are left, nothing
    // changes and no_room_out is set. Release: unpin `count` slots (`slots`). Abandon: undo an
    // Acquire whose rows did not all arrive (a memory error): unpin its `count` `slots` once each
    // and invalidate those whose filled[i] is 0 (allocated, data never written), so no row without
    // data is ever taken as resident; other chunks' rows and pins are untouched.
    const uint32_t* tokens = nullptr;  // Acquire, Reserve, Unreserve
    const uint32_t* slots = nullptr;   // Release, Abandon
    const uint8_t* filled = nullptr;   // Abandon: 1 = the slot holds its row's data
    uint32_t count = 0;
    uint32_t* slots_out = nullptr;  // Acquire: the slot of each token
    uint8_t* hit_out = nullptr;     // Acquire: 1 = already resident, 0 = allocated, data to write
    uint32_t evictions_out = 0;
    uint32_t capacity_out = 0;  // Reserve
    bool no_room_out = false;
};

// ---- Controller -> Datapath ---------------------------------------------------------------------
// A context's scores occupy the shared score buffer from its Begin to its Finish; Flush ends every
// context (a job's start), so nothing of an earlier query or job holds buffer room.
// Key-interleaved units (core/row_engine.h) add LocalMax (the context's largest score), Softmax
// against the row's maximum (shared_max), Normalise (prob8, float: the units' total sum), Partial
// (READ: the context's accumulators and sum, the context ends) and Merge (WRITE: another unit's
// partial into this context).
enum class DatapathOp : uint8_t {
    Begin,
    QkChunk,
    Softmax,
    VChunk,
    Finish,
    Flush,
    LocalMax,
    Normalise,
    Partial,
    Merge,
    EnterTile
};

struct DatapathCommand : Extension<DatapathCommand> {
    DatapathOp op = DatapathOp::Begin;
    uint32_t head = 0, query = 0;
    // The query context (0 .. datapath.contexts - 1) a command is for. A chunk with `counts`
    // serves several: its rows are read once, and context c uses the first counts[c] of them
    // (c < contexts); without `counts` context `context` uses all `count`.
    uint32_t context = 0;
    const uint32_t* counts = nullptr;
    uint32_t contexts = 0;
    // Begin: data = query row (WRITE, d bytes); scales and options of the row.
    uint32_t d = 0;
    double logit_scale = 1.0;
    float s_v = 1.0f;
    core::SoftmaxKind softmax = core::SoftmaxKind::Fixed;
    core::OutputFormat output = core::OutputFormat::Float32;
    uint32_t softmax_tile = 0;  // online softmax in tiles of this many keys; 0: two passes
    // QkChunk / VChunk: rows `tokens` (ascending) are in SRAM `slots`.
    const uint32_t* tokens = nullptr;
    const uint32_t* slots = nullptr;
    uint32_t count = 0;
    // Softmax: prune on chip first (OnchipPrune mode).
    bool prune = false;
    double threshold = 0.0;
    core::EmptyRowPolicy empty_row = core::EmptyRowPolicy::Self;
    std::vector<uint32_t>* kept_out = nullptr;  // filled with the tokens whose V rows are needed
    // Softmax against the row's maximum over every unit; its local sums out.
    bool shared_max = false;
    int32_t row_max = 0;
    uint64_t* sum_out = nullptr;
    double* sumf_out = nullptr;
    // LocalMax: the context's largest score, and whether it holds any.
    int32_t* max_out = nullptr;
    bool* any_out = nullptr;
    // Normalise: the units' total sums.
    uint64_t total = 0;
    double total_f = 0.0;
    // Partial (READ, data = the accumulators' bytes) and Merge (WRITE, the same bytes).
    core::RowEngine::Partial* partial_out = nullptr;
    const core::RowEngine::Partial* partial_in = nullptr;
    // Online dense blocks on key-interleaved units, one command for contexts [0, contexts),
    // context c taking part when counts[c] > 0 (its row reaches the tile):
    //   LocalMax: maxes_out[c], anys_out[c] (the context's largest score so far);
    //   EnterTile: tile `tile` entered with the units' running maximum run_maxes[c]; `running`:
    //     this unit holds the rows' accumulators (rescaled when the maximum rises);
    //   Partial (READ): the tile's accumulators and sums into partials_out[c], then zeroed
    //     (`end_contexts`: the contexts end); Merge (WRITE): partials_in[c] added.
    // Partial and Merge move contexts x (d + 1) x 8 bytes.
    int32_t* maxes_out = nullptr;
    uint8_t* anys_out = nullptr;
    uint32_t tile = 0;
    const int32_t* run_maxes = nullptr;
    bool running = false;
    core::RowEngine::Partial* partials_out = nullptr;
    const core::RowEngine::Partial* partials_in = nullptr;
    bool end_contexts = false;
    // Finish: data = the output row (READ, d x element bytes).
};

// ---- Datapath -> SramBuffer ---------------------------------------------------------------------
// A gather read: the data array (count x row_bytes) receives row i from slot slots[i] of the
// buffer the address names (its base, sram_address(buffer, 0, row_bytes)). The SRAM streams the
// rows through its read port as one pipelined access: access latency once, then the bytes at
// bytes_per_cycle, wherever the slots lie.
// Fetcher -> SramBuffer, with a WRITE at the buffer's base (kSramKBase or kSramVBase): rows
// written to several runs of consecutive slots in one transaction (the batched LT path), each run
// one port access that starts when its `at` (absolute) has come and the port is free, in order;
// `at` becomes the run's end. data = every run's rows, run after run.
struct RowScatter : Extension<RowScatter> {
    struct Run {
        uint32_t slot = 0, rows = 0;
        sc_core::sc_time at;
    };
    Run* runs = nullptr;
    uint32_t run_count = 0, row_bytes = 0;
    uint32_t query = core::kNoQuery;
};

struct RowGather : Extension<RowGather> {
    const uint32_t* slots = nullptr;
    uint32_t count = 0, row_bytes = 0;
    uint32_t query = core::kNoQuery;  // the query the rows are read for (per-query counts)
};

// ---- SRAM address map (the SramBuffer's target address space) ----------------------------------
constexpr uint64_t kSramKBase = 0x000000;
constexpr uint64_t kSramVBase = 0x100000;
inline uint64_t sram_address(Buffer b, uint32_t slot, uint32_t row_bytes) {
    return (b == Buffer::K ? kSramKBase : kSramVBase) + uint64_t(slot) * row_bytes;
}

}  // namespace sprint::proto

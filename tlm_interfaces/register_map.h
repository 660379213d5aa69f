// The SPRINT IP's software contract: the register file on the `csr` socket, the error codes, and
// the layout of the tensors and the per-head table the host places in memory. The Controller
// builds its registers from this table; the host driver, --dump-regmap, docs/registers.md and the
// tests all read the same table.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/types.h"

namespace sprint::regs {

enum class Access { RO, RW, WO, W1C };
const char* to_string(Access a);

// A bit field of a register. The layout of every field is written once, in `field::` below; the
// register table, the masks and the encoders are derived from it.
struct Field {
    unsigned lsb, width;
    constexpr uint32_t mask() const { return (width >= 32 ? ~0u : ((1u << width) - 1u)) << lsb; }
    constexpr uint32_t get(uint32_t reg) const { return (reg & mask()) >> lsb; }
    constexpr uint32_t put(uint32_t value) const { return (value << lsb) & mask(); }
};

namespace field {
constexpr Field CTRL_START{0, 1};
constexpr Field STATUS_BUSY{0, 1}, STATUS_DONE{1, 1}, STATUS_ERROR{2, 1}, STATUS_OVERRUN{3, 1},
    STATUS_ERR_CODE{8, 8};
constexpr Field IRQ_DONE{0, 1}, IRQ_ERROR{1, 1};  // IRQ_ENABLE and IRQ_STATUS alike
constexpr Field JOB_CFG_MODE{0, 3}, JOB_CFG_CAUSAL{4, 1}, JOB_CFG_SOFTMAX_FLOAT{5, 1},
    JOB_CFG_OUT_INT16{6, 1}, JOB_CFG_SOFTMAX_PROB8{7, 1}, JOB_CFG_EMPTY_MAX{8, 1},
    JOB_CFG_K_READBACK{9, 1};
}  // namespace field

struct FieldDesc {
    const char* name;
    Field field;
    const char* description;
};

struct RegDesc {
    std::string name;
    uint32_t offset;
    Access access;
    uint32_t reset;
    std::string description;
    std::vector<FieldDesc> fields;
    // The bits that hold a value: those of the fields, or all 32 for a register without fields.
    // The others are reserved: they read as 0 and writes to them are ignored.
    uint32_t value_mask() const;
};

// All registers, by ascending offset. 32-bit, little-endian, one register per access.
const std::vector<RegDesc>& register_map();
const RegDesc* find(const std::string& name);
// The register map as Markdown (what --dump-regmap prints and docs/registers.md holds), with the
// given registers' reset values replaced ({offset, value}: the configured capabilities).
std::string regmap_markdown(const std::vector<std::pair<uint32_t, uint32_t>>& resets = {});

constexpr uint32_t kCsrWindowBytes = 0x1000;
constexpr uint32_t kIdValue = 0x53505254;  // "SPRT"
constexpr uint32_t kVersionValue = 0x00010000;

// Offsets.
constexpr uint32_t ID = 0x000, VERSION = 0x004, CTRL = 0x008, STATUS = 0x00C, IRQ_ENABLE = 0x010,
                   IRQ_STATUS = 0x014, JOB_CFG = 0x018, HEADS = 0x01C, SEQ_LEN = 0x020,
                   HEAD_DIM = 0x024, Q_BASE_LO = 0x028, Q_BASE_HI = 0x02C, K_BASE_LO = 0x030,
                   K_BASE_HI = 0x034, V_BASE_LO = 0x038, V_BASE_HI = 0x03C, OUT_BASE_LO = 0x040,
                   OUT_BASE_HI = 0x044, HEAD_TABLE_LO = 0x048, HEAD_TABLE_HI = 0x04C,
                   CYCLES_LO = 0x050, CYCLES_HI = 0x054, MEM_RD_BYTES_LO = 0x058,
                   MEM_RD_BYTES_HI = 0x05C, MEM_WR_BYTES_LO = 0x060, MEM_WR_BYTES_HI = 0x064,
                   KEPT_KEYS_LO = 0x068, KEPT_KEYS_HI = 0x06C, K_ROWS_FETCHED_LO = 0x070,
                   K_ROWS_FETCHED_HI = 0x074, V_ROWS_FETCHED_LO = 0x078, V_ROWS_FETCHED_HI = 0x07C,
                   CAP_MAX_SEQ = 0x080, CAP_MAX_DIM = 0x084, CAP_KEY_BITS = 0x088,
                   K_LSB_BASE_LO = 0x090, K_LSB_BASE_HI = 0x094;

// Single-bit field masks, for drivers and tests.
constexpr uint32_t CTRL_START = field::CTRL_START.mask();
constexpr uint32_t STATUS_BUSY = field::STATUS_BUSY.mask(), STATUS_DONE = field::STATUS_DONE.mask(),
                   STATUS_ERROR = field::STATUS_ERROR.mask(),
                   STATUS_OVERRUN = field::STATUS_OVERRUN.mask();
constexpr uint32_t IRQ_DONE = field::IRQ_DONE.mask(), IRQ_ERROR = field::IRQ_ERROR.mask();

// STATUS.ERR_CODE values: why the last job failed.
enum class ErrorCode : uint8_t {
    None = 0,
    BadShape = 1,        // HEADS, SEQ_LEN or HEAD_DIM is zero
    SeqTooLong = 2,      // SEQ_LEN above the score buffer (modes that score every visible key)
    DimTooLarge = 3,     // HEAD_DIM above the crossbar rows or larger than a buffer
    BadMode = 4,         // JOB_CFG.MODE is 4 to 7
    Misaligned = 5,      // a base address is not a multiple of kBaseAlign
    OutOfRange = 6,      // a buffer wraps the address space or leaves the mem window
    Overlap = 7,         // the output buffer overlaps an input buffer or the head table
    BadHeadTable = 8,    // valid_len of a head is 0 or above SEQ_LEN, or a value not finite
    BusError = 9,        // the memory answered a transaction with an error response
    Internal = 10,       // an internal link failed (a model bug; reported, never silent)
    ScoreOverflow = 11,  // sprint: a query kept more keys than the score buffer holds
};
const char* to_string(ErrorCode e);

// Memory layout of a job (all little-endian):
//   Q, K, V:   int8 [HEADS, SEQ_LEN, HEAD_DIM], row-major, one tensor each
//   K_LSB:     with JOB_CFG.K_READBACK in sprint mode, the low 8 - CAP_KEY_BITS bits of every K
//              element, packed (core::pack_key_lsbs): [HEADS, SEQ_LEN, key_lsb_row_bytes] bytes;
//              empty with 8-bit keys (the crossbar holds the whole key: K_LSB is not read)
//   OUT:       float32 or int16 [HEADS, SEQ_LEN, HEAD_DIM]; rows of padded queries not written
//   HEAD_TABLE: HEADS entries of kHeadEntryBytes (encode_head_entry below)
constexpr uint64_t kBaseAlign = 64;
constexpr uint32_t kHeadEntryBytes = 32;

// ---- the structures a driver writes and the IP reads: one encoder and one decoder each ----------

// The job registers (JOB_CFG to HEAD_TABLE), decoded: what CTRL.START latches.
struct JobRegs {
    core::JobOptions opt;
    bool mode_ok = true;  // JOB_CFG.MODE names a mode (4 to 7 do not)
    uint32_t heads = 0, n = 0, d = 0;
    uint64_t q = 0, k = 0, v = 0, out = 0, table = 0;
    uint64_t k_lsb = 0;  // K_LSB_BASE: used with opt.k_readback in sprint mode
    // The K_LSB plane's bytes at this shape (0 when the job does not read it).
    uint64_t k_lsb_bytes(int key_bits) const;
};

// JOB_CFG from the job options, and back. A MODE field of 3 decodes with mode_ok = false (the job
// then fails with BadMode); reserved bits are ignored.
uint32_t encode_job_cfg(const core::JobOptions& opt);
struct DecodedJobCfg {
    core::JobOptions opt;
    bool mode_ok = true;
};
DecodedJobCfg decode_job_cfg(uint32_t value);

// One head-table entry: +0 threshold (float32, logit units), +4 s_q, +8 s_k, +12 s_v (float32),
// +16 valid_len (uint32), +20..31 reserved (written 0, ignored when read).
void encode_head_entry(const core::HeadParams& hp, uint8_t* entry);
core::HeadParams decode_head_entry(const uint8_t* entry);
// The BadHeadTable rule: a finite threshold, finite scales above 0, 1 <= valid_len <= seq_len.
bool head_entry_ok(const core::HeadParams& hp, uint32_t seq_len);

// STATUS of a finished job, and the error code in a STATUS value.
uint32_t encode_status_done(bool overrun);
uint32_t encode_status_error(ErrorCode e, bool overrun);
ErrorCode status_error(uint32_t status);

}  // namespace sprint::regs

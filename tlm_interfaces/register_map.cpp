#include "tlm_interfaces/register_map.h"

#include "core/crossbar.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace sprint::regs {

const char* to_string(Access a) {
    switch (a) {
        case Access::RO:
            return "RO";
        case Access::RW:
            return "RW";
        case Access::WO:
            return "WO";
        case Access::W1C:
            return "W1C";
    }
    return "?";
}

const char* to_string(ErrorCode e) {
    switch (e) {
        case ErrorCode::None:
            return "none";
        case ErrorCode::BadShape:
            return "bad shape (HEADS, SEQ_LEN or HEAD_DIM is zero)";
        case ErrorCode::SeqTooLong:
            return "sequence too long for the score buffer (a mode that scores every key)";
        case ErrorCode::DimTooLarge:
            return "head dimension too large for the crossbar or buffers";
        case ErrorCode::BadMode:
            return "unknown mode";
        case ErrorCode::Misaligned:
            return "misaligned base address";
        case ErrorCode::OutOfRange:
            return "buffer outside the memory window";
        case ErrorCode::Overlap:
            return "output overlaps an input";
        case ErrorCode::BadHeadTable:
            return "bad head table entry";
        case ErrorCode::BusError:
            return "memory bus error";
        case ErrorCode::Internal:
            return "internal error";
        case ErrorCode::ScoreOverflow:
            return "a query kept more keys than the score buffer holds";
    }
    return "unknown error";
}

uint32_t RegDesc::value_mask() const {
    if (fields.empty()) return ~0u;
    uint32_t m = 0;
    for (const auto& f : fields) m |= f.field.mask();
    return m;
}

namespace {

// A 64-bit register as its two 32-bit halves, _LO at `off` and _HI above it.
void lohi(std::vector<RegDesc>& v, const char* base, uint32_t off, Access a, const char* what) {
    v.push_back({std::string(base) + "_LO", off, a, 0, std::string(what) + " (bits 31:0)", {}});
    v.push_back(
        {std::string(base) + "_HI", off + 4, a, 0, std::string(what) + " (bits 63:32)", {}});
}

// Identification, control, status and interrupts.
void add_control_registers(std::vector<RegDesc>& r) {
    r.push_back(
        {"ID", ID, Access::RO, kIdValue, "Identification, reads 0x53505254 (\"SPRT\")", {}});
    r.push_back({"VERSION",
                 VERSION,
                 Access::RO,
                 kVersionValue,
                 "Register map version (major.minor in 16.16)",
                 {}});
    r.push_back({"CTRL",
                 CTRL,
                 Access::WO,
                 0,
                 "Control; reads as 0",
                 {{"START", field::CTRL_START,
                   "write 1 to latch the job registers and start a job; ignored (STATUS.OVERRUN) "
                   "while busy"}}});
    r.push_back(
        {"STATUS",
         STATUS,
         Access::RO,
         0,
         "State of the IP and of the last job",
         {{"BUSY", field::STATUS_BUSY, "a job is running"},
          {"DONE", field::STATUS_DONE, "the last job completed"},
          {"ERROR", field::STATUS_ERROR, "the last job failed; see ERR_CODE"},
          {"OVERRUN", field::STATUS_OVERRUN,
           "START was written while busy (cleared by the next accepted START)"},
          {"ERR_CODE", field::STATUS_ERR_CODE, "why the last job failed (see Error codes)"}}});
    r.push_back({"IRQ_ENABLE",
                 IRQ_ENABLE,
                 Access::RW,
                 0,
                 "Interrupt enables; irq is high while (IRQ_STATUS AND IRQ_ENABLE) is not zero",
                 {{"DONE", field::IRQ_DONE, "raise irq when a job completes"},
                  {"ERROR", field::IRQ_ERROR, "raise irq when a job fails"}}});
    r.push_back({"IRQ_STATUS",
                 IRQ_STATUS,
                 Access::W1C,
                 0,
                 "Interrupt causes; write 1 to clear",
                 {{"DONE", field::IRQ_DONE, "a job completed"},
                  {"ERROR", field::IRQ_ERROR, "a job failed"}}});
}

// The job: its options, shape and buffers.
void add_job_registers(std::vector<RegDesc>& r) {
    r.push_back(
        {"JOB_CFG",
         JOB_CFG,
         Access::RW,
         0,
         "Job options",
         {{"MODE", field::JOB_CFG_MODE,
           "0 sprint, 1 dense (query blocks), 2 onchip-prune, 3 dense-stream; 4 to 7 fail the job "
           "(BadMode)"},
          {"CAUSAL", field::JOB_CFG_CAUSAL, "causal mask: query i sees keys 0..i"},
          {"SOFTMAX_FLOAT", field::JOB_CFG_SOFTMAX_FLOAT,
           "float softmax instead of the fixed-point unit (studies)"},
          {"OUT_INT16", field::JOB_CFG_OUT_INT16,
           "write int16 outputs (units of s_v/128) instead of float32"},
          {"SOFTMAX_PROB8", field::JOB_CFG_SOFTMAX_PROB8,
           "the paper's softmax: 8-bit probabilities of the row's total, instead of unnormalised "
           "exponentials and one division per output element (fails on long, flat rows; ignored "
           "when SOFTMAX_FLOAT is set)"},
          {"EMPTY_MAX", field::JOB_CFG_EMPTY_MAX,
           "empty-row policy: 0 keep the query's own key, 1 keep the highest score"},
          {"K_READBACK", field::JOB_CFG_K_READBACK,
           "sprint mode: K-MSB read-back, the datapath's K rows are the crossbar's read-back top "
           "bits joined with the low bits fetched from K_LSB_BASE (K_BASE is read only to "
           "program the crossbar; a head scored in several crossbar passes fetches whole rows)"}}});
    r.push_back({"HEADS", HEADS, Access::RW, 0, "Number of heads in the job", {}});
    r.push_back(
        {"SEQ_LEN", SEQ_LEN, Access::RW, 0, "Sequence length N (rows of Q, K, V per head)", {}});
    r.push_back(
        {"HEAD_DIM", HEAD_DIM, Access::RW, 0, "Head dimension d (int8 elements per row)", {}});
    lohi(r, "Q_BASE", Q_BASE_LO, Access::RW, "Address of Q, int8 [HEADS, SEQ_LEN, HEAD_DIM]");
    lohi(r, "K_BASE", K_BASE_LO, Access::RW, "Address of K, int8 [HEADS, SEQ_LEN, HEAD_DIM]");
    lohi(r, "V_BASE", V_BASE_LO, Access::RW, "Address of V, int8 [HEADS, SEQ_LEN, HEAD_DIM]");
    lohi(r, "OUT_BASE", OUT_BASE_LO, Access::RW,
         "Address of the output [HEADS, SEQ_LEN, HEAD_DIM]");
    lohi(r, "HEAD_TABLE", HEAD_TABLE_LO, Access::RW,
         "Address of the per-head table (32 B per head)");
}

// What the last job did.
void add_result_registers(std::vector<RegDesc>& r) {
    lohi(r, "CYCLES", CYCLES_LO, Access::RO, "Clock cycles of the last job, START to completion");
    lohi(r, "MEM_RD_BYTES", MEM_RD_BYTES_LO, Access::RO, "Bytes the last job read on the mem port");
    lohi(r, "MEM_WR_BYTES", MEM_WR_BYTES_LO, Access::RO,
         "Bytes the last job wrote on the mem port");
    lohi(r, "KEPT_KEYS", KEPT_KEYS_LO, Access::RO, "(query, key) pairs kept by the last job");
    lohi(r, "K_ROWS_FETCHED", K_ROWS_FETCHED_LO, Access::RO,
         "K rows fetched into the K buffer by the last job");
    lohi(r, "V_ROWS_FETCHED", V_ROWS_FETCHED_LO, Access::RO,
         "V rows fetched into the V buffer by the last job");
}

// What this configuration accepts.
void add_capability_registers(std::vector<RegDesc>& r) {
    r.push_back(
        {"CAP_MAX_SEQ",
         CAP_MAX_SEQ,
         Access::RO,
         0,
         "Largest SEQ_LEN the two-pass modes (dense-stream, onchip-prune, dense with "
         "SOFTMAX_PROB8) accept at HEAD_DIM <= crossbar tile rows (the score buffer); dense "
         "mode's online softmax takes any SEQ_LEN, sprint mode any while each query keeps "
         "at most this many keys, else ERR_CODE 11 (set from the configuration; shown for "
         "the one printed)",
         {}});
    r.push_back({"CAP_MAX_DIM",
                 CAP_MAX_DIM,
                 Access::RO,
                 0,
                 "Largest HEAD_DIM this configuration accepts in sprint mode (set from the "
                 "configuration; shown for the one printed)",
                 {}});
    r.push_back({"CAP_KEY_BITS",
                 CAP_KEY_BITS,
                 Access::RO,
                 0,
                 "Bits of each key the crossbar stores (sprint.xbar.key_bits): the K_LSB plane "
                 "holds the other 8 - CAP_KEY_BITS bits of each element",
                 {}});
}

// Every register in the order of the map's listing (K_LSB_BASE came with K-MSB read-back, after
// the capabilities).
std::vector<RegDesc> build() {
    std::vector<RegDesc> r;
    add_control_registers(r);
    add_job_registers(r);
    add_result_registers(r);
    add_capability_registers(r);
    lohi(r, "K_LSB_BASE", K_LSB_BASE_LO, Access::RW,
         "Address of the packed low bits of K (JOB_CFG.K_READBACK), [HEADS, SEQ_LEN, "
         "ceil(HEAD_DIM x (8 - CAP_KEY_BITS) / 8)] bytes");
    return r;
}

}  // namespace

const std::vector<RegDesc>& register_map() {
    static const std::vector<RegDesc> map = build();
    return map;
}

const RegDesc* find(const std::string& name) {
    for (const auto& r : register_map())
        if (name == r.name) return &r;
    return nullptr;
}

std::string regmap_markdown(const std::vector<std::pair<uint32_t, uint32_t>>& resets) {
    std::ostringstream os;
    char buf[32];
    os << "| offset | register | access | reset | description |\n";
    os << "|---|---|---|---|---|\n";
    for (const auto& r : register_map()) {
        std::snprintf(buf, sizeof buf, "0x%03X", r.offset);
        os << "| " << buf << " | " << r.name << " | " << to_string(r.access) << " | ";
        uint32_t reset = r.reset;
        for (const auto& [offset, value] : resets)
            if (offset == r.offset) reset = value;
        std::snprintf(buf, sizeof buf, "0x%08X", reset);
        os << buf << " | " << r.description << " |\n";
    }
    os << "\nFields:\n\n| register | field | bits | description |\n|---|---|---|---|\n";
    for (const auto& r : register_map()) {
        for (const auto& f : r.fields) {
            const Field& b = f.field;
            if (b.width == 1)
                std::snprintf(buf, sizeof buf, "%u", b.lsb);
            else
                std::snprintf(buf, sizeof buf, "%u:%u", b.lsb + b.width - 1, b.lsb);
            os << "| " << r.name << " | " << f.name << " | " << buf << " | " << f.description
               << " |\n";
        }
    }
    os << "\nError codes (STATUS.ERR_CODE):\n\n| code | meaning |\n|---|---|\n";
    for (int c = 0; c <= int(ErrorCode::ScoreOverflow); ++c)
        os << "| " << c << " | " << to_string(ErrorCode(c)) << " |\n";
    return os.str();
}

// ---- encoders and decoders ----------------------------------------------------------------------

uint32_t encode_job_cfg(const core::JobOptions& opt) {
    return field::JOB_CFG_MODE.put(uint32_t(opt.mode)) | field::JOB_CFG_CAUSAL.put(opt.causal) |
           field::JOB_CFG_SOFTMAX_FLOAT.put(opt.softmax == core::SoftmaxKind::Float) |
           field::JOB_CFG_OUT_INT16.put(opt.output == core::OutputFormat::Int16) |
           field::JOB_CFG_SOFTMAX_PROB8.put(opt.softmax == core::SoftmaxKind::Prob8) |
           field::JOB_CFG_EMPTY_MAX.put(opt.empty_row == core::EmptyRowPolicy::Max) |
           field::JOB_CFG_K_READBACK.put(opt.k_readback);
}

uint64_t JobRegs::k_lsb_bytes(int key_bits) const {
    if (!opt.k_readback || opt.mode != core::Mode::Sprint) return 0;
    return uint64_t(heads) * n * core::key_lsb_row_bytes(int(d), key_bits);
}

DecodedJobCfg decode_job_cfg(uint32_t v) {
    DecodedJobCfg d;
    const uint32_t mode = field::JOB_CFG_MODE.get(v);
    d.mode_ok = mode <= uint32_t(core::Mode::DenseStream);
    d.opt.mode = d.mode_ok ? core::Mode(mode) : core::Mode::Sprint;
    d.opt.causal = field::JOB_CFG_CAUSAL.get(v) != 0;
    d.opt.softmax = field::JOB_CFG_SOFTMAX_FLOAT.get(v)   ? core::SoftmaxKind::Float
                    : field::JOB_CFG_SOFTMAX_PROB8.get(v) ? core::SoftmaxKind::Prob8
                                                          : core::SoftmaxKind::Fixed;
    d.opt.output =
        field::JOB_CFG_OUT_INT16.get(v) ? core::OutputFormat::Int16 : core::OutputFormat::Float32;
    d.opt.empty_row =
        field::JOB_CFG_EMPTY_MAX.get(v) ? core::EmptyRowPolicy::Max : core::EmptyRowPolicy::Self;
    d.opt.k_readback = field::JOB_CFG_K_READBACK.get(v) != 0;
    return d;
}

namespace {

// Offsets in a head-table entry; the IP's memory and every host it runs on are little-endian, so
// the 4-byte fields are copied as they are.
constexpr unsigned kThreshold = 0, kSq = 4, kSk = 8, kSv = 12, kValidLen = 16;

}  // namespace

void encode_head_entry(const core::HeadParams& hp, uint8_t* e) {
    std::memset(e, 0, kHeadEntryBytes);
    std::memcpy(e + kThreshold, &hp.threshold, 4);
    std::memcpy(e + kSq, &hp.s_q, 4);
    std::memcpy(e + kSk, &hp.s_k, 4);
    std::memcpy(e + kSv, &hp.s_v, 4);
    std::memcpy(e + kValidLen, &hp.valid_len, 4);
}

core::HeadParams decode_head_entry(const uint8_t* e) {
    core::HeadParams hp;
    std::memcpy(&hp.threshold, e + kThreshold, 4);
    std::memcpy(&hp.s_q, e + kSq, 4);
    std::memcpy(&hp.s_k, e + kSk, 4);
    std::memcpy(&hp.s_v, e + kSv, 4);
    std::memcpy(&hp.valid_len, e + kValidLen, 4);
    return hp;
}

bool head_entry_ok(const core::HeadParams& hp, uint32_t seq_len) {
    const bool finite = std::isfinite(hp.threshold) && std::isfinite(hp.s_q) &&
                        std::isfinite(hp.s_k) && std::isfinite(hp.s_v);
    return finite && hp.s_q > 0 && hp.s_k > 0 && hp.s_v > 0 && hp.valid_len >= 1 &&
           hp.valid_len <= seq_len;
}

uint32_t encode_status_done(bool overrun) {
    return STATUS_DONE | field::STATUS_OVERRUN.put(overrun);
}

uint32_t encode_status_error(ErrorCode e, bool overrun) {
    return STATUS_ERROR | field::STATUS_OVERRUN.put(overrun) |
           field::STATUS_ERR_CODE.put(uint32_t(e));
}

ErrorCode status_error(uint32_t status) {
    return ErrorCode(field::STATUS_ERR_CODE.get(status));
}

}  // namespace sprint::regs

#include "tlm_interfaces/register_map.h"

#include <cstdio>
#include <sstream>

namespace sprint::regs {

const char* to_string(Access a) {
    switch (a) {
        case Access::RO: return "RO";
        case Access::RW: return "RW";
        case Access::WO: return "WO";
        case Access::W1C: return "W1C";
    }
    return "?";
}

const char* to_string(ErrorCode e) {
    switch (e) {
        case ErrorCode::None: return "none";
        case ErrorCode::BadShape: return "bad shape (HEADS, SEQ_LEN or HEAD_DIM is zero)";
        case ErrorCode::SeqTooLong: return "sequence too long for the crossbar or score buffer";
        case ErrorCode::DimTooLarge: return "head dimension too large for the crossbar or buffers";
        case ErrorCode::BadMode: return "unknown mode";
        case ErrorCode::Misaligned: return "misaligned base address";
        case ErrorCode::OutOfRange: return "buffer outside the memory window";
        case ErrorCode::Overlap: return "output overlaps an input";
        case ErrorCode::BadHeadTable: return "bad head table entry";
        case ErrorCode::BusError: return "memory bus error";
        case ErrorCode::Internal: return "internal error";
    }
    return "unknown error";
}

uint32_t RegDesc::value_mask() const {
    if (fields.empty()) return ~0u;
    uint32_t m = 0;
    for (const auto& f : fields) m |= (f.width >= 32 ? ~0u : ((1u << f.width) - 1u)) << f.lsb;
    return m;
}

namespace {

std::vector<RegDesc> build() {
    auto lohi = [](std::vector<RegDesc>& v, const char* base, uint32_t off, Access a,
                   const char* what) {
        v.push_back({std::string(base) + "_LO", off, a, 0, std::string(what) + " (bits 31:0)", {}});
        v.push_back({std::string(base) + "_HI", off + 4, a, 0, std::string(what) + " (bits 63:32)", {}});
    };
    std::vector<RegDesc> r;
    r.push_back({"ID", ID, Access::RO, kIdValue, "Identification, reads 0x53505254 (\"SPRT\")", {}});
    r.push_back({"VERSION", VERSION, Access::RO, kVersionValue, "Register map version (major.minor in 16.16)", {}});
    r.push_back({"CTRL", CTRL, Access::WO, 0, "Control; reads as 0",
                 {{"START", 0, 1, "write 1 to latch the job registers and start a job; ignored (STATUS.OVERRUN) while busy"}}});
    r.push_back({"STATUS", STATUS, Access::RO, 0, "State of the IP and of the last job",
                 {{"BUSY", 0, 1, "a job is running"},
                  {"DONE", 1, 1, "the last job completed"},
                  {"ERROR", 2, 1, "the last job failed; see ERR_CODE"},
                  {"OVERRUN", 3, 1, "START was written while busy (cleared by the next accepted START)"},
                  {"ERR_CODE", 8, 8, "why the last job failed (see Error codes)"}}});
    r.push_back({"IRQ_ENABLE", IRQ_ENABLE, Access::RW, 0, "Interrupt enables; irq is high while (IRQ_STATUS AND IRQ_ENABLE) is not zero",
                 {{"DONE", 0, 1, "raise irq when a job completes"},
                  {"ERROR", 1, 1, "raise irq when a job fails"}}});
    r.push_back({"IRQ_STATUS", IRQ_STATUS, Access::W1C, 0, "Interrupt causes; write 1 to clear",
                 {{"DONE", 0, 1, "a job completed"}, {"ERROR", 1, 1, "a job failed"}}});
    r.push_back({"JOB_CFG", JOB_CFG, Access::RW, 0, "Job options",
                 {{"MODE", 0, 2, "0 sprint, 1 dense, 2 onchip-prune; 3 fails the job (BadMode)"},
                  {"CAUSAL", 4, 1, "causal mask: query i sees keys 0..i"},
                  {"SOFTMAX_FLOAT", 5, 1, "float softmax instead of the fixed-point unit (studies)"},
                  {"OUT_INT16", 6, 1, "write int16 outputs (units of s_v/128) instead of float32"},
                  {"EMPTY_MAX", 8, 1, "empty-row policy: 0 keep the query's own key, 1 keep the highest score"}}});
    r.push_back({"HEADS", HEADS, Access::RW, 0, "Number of heads in the job", {}});
    r.push_back({"SEQ_LEN", SEQ_LEN, Access::RW, 0, "Sequence length N (rows of Q, K, V per head)", {}});
    r.push_back({"HEAD_DIM", HEAD_DIM, Access::RW, 0, "Head dimension d (int8 elements per row)", {}});
    lohi(r, "Q_BASE", Q_BASE_LO, Access::RW, "Address of Q, int8 [HEADS, SEQ_LEN, HEAD_DIM]");
    lohi(r, "K_BASE", K_BASE_LO, Access::RW, "Address of K, int8 [HEADS, SEQ_LEN, HEAD_DIM]");
    lohi(r, "V_BASE", V_BASE_LO, Access::RW, "Address of V, int8 [HEADS, SEQ_LEN, HEAD_DIM]");
    lohi(r, "OUT_BASE", OUT_BASE_LO, Access::RW, "Address of the output [HEADS, SEQ_LEN, HEAD_DIM]");
    lohi(r, "HEAD_TABLE", HEAD_TABLE_LO, Access::RW, "Address of the per-head table (32 B per head)");
    lohi(r, "CYCLES", CYCLES_LO, Access::RO, "Clock cycles of the last job, START to completion");
    lohi(r, "MEM_RD_BYTES", MEM_RD_BYTES_LO, Access::RO, "Bytes the last job read on the mem port");
    lohi(r, "MEM_WR_BYTES", MEM_WR_BYTES_LO, Access::RO, "Bytes the last job wrote on the mem port");
    lohi(r, "KEPT_KEYS", KEPT_KEYS_LO, Access::RO, "(query, key) pairs kept by the last job");
    lohi(r, "K_ROWS_FETCHED", K_ROWS_FETCHED_LO, Access::RO, "K rows fetched into the K buffer by the last job");
    lohi(r, "V_ROWS_FETCHED", V_ROWS_FETCHED_LO, Access::RO, "V rows fetched into the V buffer by the last job");
    r.push_back({"CAP_MAX_SEQ", CAP_MAX_SEQ, Access::RO, 0, "Largest SEQ_LEN this configuration accepts in sprint mode at HEAD_DIM <= crossbar tile rows (reset value set from the configuration)", {}});
    r.push_back({"CAP_MAX_DIM", CAP_MAX_DIM, Access::RO, 0, "Largest HEAD_DIM this configuration accepts (reset value set from the configuration)", {}});
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

std::string regmap_markdown() {
    std::ostringstream os;
    char buf[32];
    os << "| offset | register | access | reset | description |\n";
    os << "|---|---|---|---|---|\n";
    for (const auto& r : register_map()) {
        std::snprintf(buf, sizeof buf, "0x%03X", r.offset);
        os << "| " << buf << " | " << r.name << " | " << to_string(r.access) << " | ";
        std::snprintf(buf, sizeof buf, "0x%08X", r.reset);
        os << buf << " | " << r.description << " |\n";
    }
    os << "\nFields:\n\n| register | field | bits | description |\n|---|---|---|---|\n";
    for (const auto& r : register_map()) {
        for (const auto& f : r.fields) {
            if (f.width == 1) std::snprintf(buf, sizeof buf, "%u", f.lsb);
            else std::snprintf(buf, sizeof buf, "%u:%u", f.lsb + f.width - 1, f.lsb);
            os << "| " << r.name << " | " << f.name << " | " << buf << " | " << f.description << " |\n";
        }
    }
    os << "\nError codes (STATUS.ERR_CODE):\n\n| code | meaning |\n|---|---|\n";
    for (int c = 0; c <= int(ErrorCode::Internal); ++c)
        os << "| " << c << " | " << to_string(ErrorCode(c)) << " |\n";
    return os.str();
}

}  // namespace sprint::regs

#include "tlm_interfaces/job_check.h"

#include <algorithm>
#include <cstdio>

namespace sprint {

using regs::ErrorCode;

namespace {

std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
    return b;
}

ErrorCode fail(ErrorCode e, std::string* why, const std::string& text) {
    if (why) *why = text;
    return e;
}

bool overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) {
    return a < b + bn && b < a + an;
}

// The largest x in [lo, hi] with ok(x), given ok(lo) and ok monotonic (true, then false).
template <class Ok>
uint32_t largest(uint32_t lo, uint32_t hi, Ok ok) {
    while (lo < hi) {
        const uint32_t mid = lo + (hi - lo + 1) / 2;
        if (ok(mid))
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

}  // namespace

ErrorCode check_job(const IpConfig& cfg, const regs::JobRegs& j, std::string* why) {
    if (j.heads == 0 || j.n == 0 || j.d == 0)
        return fail(ErrorCode::BadShape, why, "HEADS, SEQ_LEN and HEAD_DIM must not be zero");
    if (!j.mode_ok)
        return fail(ErrorCode::BadMode, why, "JOB_CFG.MODE names no mode (modes are 0 to 3)");
    const bool sprint = j.opt.mode == core::Mode::Sprint;
    const uint32_t row_limit = std::min(cfg.sram.k_bytes, cfg.sram.v_bytes);
    if (j.d > row_limit)
        return fail(ErrorCode::DimTooLarge, why,
                    "head dimension " + std::to_string(j.d) +
                        " does not fit one row in the SRAM buffers (sprint.sram.k_bytes = " +
                        std::to_string(cfg.sram.k_bytes) +
                        ", sprint.sram.v_bytes = " + std::to_string(cfg.sram.v_bytes) + ")");
    if (sprint && cfg.xbar_capacity(j.d) == 0)
        return fail(ErrorCode::DimTooLarge, why,
                    "head dimension " + std::to_string(j.d) +
                        " needs more crossbar rows than sprint.xbar.tiles x tile_rows provide (" +
                        std::to_string(cfg.xbar.tiles) + " x " +
                        std::to_string(cfg.xbar.tile_rows) + ")");
    if (sprint && cfg.numerics().query_max && cfg.xbar_capacity(j.d) < j.n)
        return fail(ErrorCode::SeqTooLong, why,
                    "sequence length " + std::to_string(j.n) + " needs " +
                        std::to_string(core::crossbar_passes(cfg.numerics(), j.n, j.d)) +
                        " crossbar passes, and the query-max rule (sprint.comparators.rule) "
                        "compares each key with the query's largest margin: a head must fit the "
                        "crossbar (" +
                        std::to_string(cfg.xbar_capacity(j.d)) +
                        " keys at d = " + std::to_string(j.d) + ")");
    if (!sprint && !core::online_tile(j.opt) && !cfg.scores_fit(j.n))
        return fail(ErrorCode::SeqTooLong, why,
                    "sequence length " + std::to_string(j.n) +
                        " exceeds the score buffer (sprint.datapath.score_entries = " +
                        std::to_string(cfg.datapath.score_entries) + ")");
    const uint64_t elems = uint64_t(j.heads) * j.n * j.d;
    const uint64_t out_bytes = elems * core::output_element_bytes(j.opt.output);
    struct Buf {
        const char* name;
        uint64_t base, bytes;
    };
    const uint64_t lsb_bytes = j.k_lsb_bytes(cfg.xbar.key_bits);
    // The K low-bit plane only when the job reads it (K_READBACK in sprint mode).
    const Buf bufs[] = {{"Q", j.q, elems},
                        {"K", j.k, elems},
                        {"V", j.v, elems},
                        {"head table", j.table, uint64_t(j.heads) * regs::kHeadEntryBytes},
                        {"K low-bit", lsb_bytes ? j.k_lsb : 0, lsb_bytes},
                        {"output", j.out, out_bytes}};
    for (const Buf& b : bufs)
        if (b.base % regs::kBaseAlign)
            return fail(ErrorCode::Misaligned, why,
                        std::string("the ") + b.name + " base address " + hex(b.base) +
                            " is not a multiple of " + std::to_string(regs::kBaseAlign));
    const uint64_t wb = cfg.fetcher.window_base, ws = cfg.fetcher.window_size;
    for (const Buf& b : bufs) {
        if (b.bytes == 0) continue;  // the K low-bit plane of a job that does not read it
        if (b.base + b.bytes < b.base)
            return fail(
                ErrorCode::OutOfRange, why,
                std::string("the ") + b.name + " buffer at " + hex(b.base) + " wraps past 2^64");
        if (ws && (b.base < wb || b.base - wb > ws || b.bytes > ws - (b.base - wb)))
            return fail(ErrorCode::OutOfRange, why,
                        std::string("the ") + b.name + " buffer [" + hex(b.base) + ", " +
                            hex(b.base + b.bytes) + ") is not inside the IP's address window [" +
                            hex(wb) + ", " + hex(wb + ws) +
                            ") (sprint.fetcher.window_base/window_size)");
    }
    for (int i = 0; i < 5; ++i)
        if (overlap(j.out, out_bytes, bufs[i].base, bufs[i].bytes))
            return fail(ErrorCode::Overlap, why,
                        std::string("the output buffer overlaps the ") + bufs[i].name + " buffer");
    return ErrorCode::None;
}

// The capabilities vary one dimension of a one-head sprint-mode job and ask check_job whether
// that dimension is what fails (the placement of the buffers is not the question).
uint32_t capability_max_dim(const IpConfig& cfg) {
    regs::JobRegs j;
    j.heads = j.n = 1;
    auto ok = [&](uint32_t d) {
        j.d = d;
        return check_job(cfg, j) != ErrorCode::DimTooLarge;
    };
    return ok(1) ? largest(1, ~0u >> 1, ok) : 0;
}

// SEQ_LEN: asked of a dense-stream job (the modes that hold every visible key's score at once);
// dense with its online softmax takes any, sprint mode longer ones while each query keeps at most
// that many keys (ErrorCode::ScoreOverflow otherwise).
uint32_t capability_max_seq(const IpConfig& cfg) {
    regs::JobRegs j;
    j.heads = 1;
    j.opt.mode = core::Mode::DenseStream;
    j.d = std::max(1u, std::min(cfg.xbar.tile_rows, capability_max_dim(cfg)));
    auto ok = [&](uint32_t n) {
        j.n = n;
        return check_job(cfg, j) != ErrorCode::SeqTooLong;
    };
    return ok(1) ? largest(1, ~0u >> 1, ok) : 0;
}

std::vector<std::pair<uint32_t, uint32_t>> capability_registers(const IpConfig& cfg) {
    return {{regs::CAP_MAX_SEQ, capability_max_seq(cfg)},
            {regs::CAP_MAX_DIM, capability_max_dim(cfg)},
            {regs::CAP_KEY_BITS, uint32_t(cfg.xbar.key_bits)}};
}

}  // namespace sprint

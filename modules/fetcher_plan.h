// Fetcher::BurstPlan: how one LoadRows reads its missing rows (fetcher_load.cpp), shared by the
// fetcher's source files (private to the Fetcher).
#pragma once

#include <algorithm>
#include <vector>

#include "modules/common/timing.h"

#include "modules/fetcher.h"

namespace sprint {

// The bursts of one LoadRows: runs of consecutive missing tokens (adjacent in memory) up to
// max_burst_bytes, a row larger than that read in max_burst_bytes pieces, into a staging buffer
// that holds the runs' rows one after the other.
// Plans are reused (Fetcher::m_plans): commands under way at once each hold their own.
struct Fetcher::BurstPlan {
    struct Run {
        uint32_t first, rows, pieces;
        uint32_t packed;  // its first row's index in the staging buffer
    };
    std::vector<uint8_t> hit;  // per token: resident, then: its slot holds the row's data
    std::vector<Run> runs;
    uint32_t rows = 0;  // of all runs
    std::vector<MemReq> reqs;
    std::vector<uint32_t> run_of;  // request -> run
    std::vector<uint32_t> pieces_left;
    std::vector<uint8_t> stage;
    std::vector<uint8_t> full;  // read-back: rows rebuilt (a run's, or every run's when batched)
    std::vector<int8_t> msb;    // and their top bits from the crossbar
    // The batched path: each arrived run's time (memory, then read-back), the read-back and SRAM
    // runs.
    std::vector<sc_core::sc_time> ready;
    std::vector<proto::ReadBackRun> readback;
    std::vector<proto::RowScatter::Run> scatter;

    // rb: bytes of a row in memory (the packed low bits with K-MSB read-back, else row_bytes).
    // rb = 0 (read-back of keys whose every bit is in the crossbar): runs without a request.
    void build(const proto::FetchCommand& cmd, uint32_t burst, uint32_t rb) {
        runs.clear();
        reqs.clear();
        run_of.clear();
        pieces_left.clear();
        rows = 0;
        const uint32_t max_rows = rb ? std::max<uint32_t>(1, burst / rb) : burst;
        for (uint32_t i = 0; i < cmd.count;) {
            if (hit[i]) {
                ++i;
                continue;
            }
            uint32_t n = 1;
            while (i + n < cmd.count && n < max_rows && !hit[i + n] &&
                   cmd.tokens[i + n] == cmd.tokens[i] + n)
                ++n;
            runs.push_back({i, n, uint32_t(ceil_div(uint64_t(n) * rb, burst)), rows});
            pieces_left.push_back(runs.back().pieces);
            rows += n;
            i += n;
        }
        stage.resize(std::size_t(rows) * rb);
        for (std::size_t r = 0; r < runs.size(); ++r) {
            const uint64_t addr = (cmd.readback ? cmd.lsb_base : cmd.tensor_base) +
                                  uint64_t(cmd.tokens[runs[r].first]) * rb;
            uint8_t* dst = stage.data() + std::size_t(runs[r].packed) * rb;
            for (uint32_t off = 0; off < runs[r].rows * rb; off += burst) {
                reqs.push_back({tlm::TLM_READ_COMMAND, addr + off, dst + off,
                                std::min(runs[r].rows * rb - off, burst), cmd.head, cmd.query});
                run_of.push_back(uint32_t(r));
            }
        }
    }
};

}  // namespace sprint

// Every parameter of the SPRINT IP with its default, unit and source, in one place.
// Source tags as in PAPER.md: [F] read from the paper's figures, [S] secondary summary,
// [X] another public source, [D] our own choice or derivation (documented in docs/parameters.md).
#pragma once

#include <cstdint>
#include <string>

#include "core/crossbar.h"
#include "core/params.h"
#include "tlm_interfaces/timing_mode.h"

namespace sprint {

struct XbarConfig {
    uint32_t tile_rows = 128;   // wordlines per tile [X] 128x128 is the ISAAC/PUMA/NeuroSim default
    uint32_t tile_cols = 128;   // bitlines (keys) per tile [X]
    uint32_t tiles = 32;        // tiles in the array [D] 32 x 128 = 4096 keys, the paper's max N [F]
    int key_bits = 4;           // key MSBs stored [F]
    int query_bits = 4;         // query bits on the DACs [F]
    uint32_t eval_cycles = 6;   // tAxTh: drive, integrate, compare [S] "under 8 cycles"
    uint32_t query_copy_bytes_per_cycle = 16;  // query copy into the DAC input buffer [D]
    double write_pulse_ns = 10.0;        // one set/reset pulse [X] NVMExplorer cell
    uint32_t write_parallel_cells = 128; // cells written per pulse (one tile row) [D]
    double read_noise_sigma = 0.0;       // bitline read noise, raw units [D] ideal
    double cell_variation_sigma = 0.0;   // relative conductance variation [D] ideal
    double stuck_at_zero_rate = 0.0;     // [D] ideal
    double stuck_at_max_rate = 0.0;      // [D] ideal
};

struct ComparatorConfig {
    double offset_sigma = 0.0;            // comparator input offset, raw units [D] ideal
    uint32_t readout_bits_per_cycle = 64; // keep-mask read-out width [D]
    uint32_t wta_cycles = 8;              // extra pass to find the max (empty-row policy max) [D]
};

// How the fetcher talks to memory: b_transport in LT and the 4-phase nb_transport in AT, or the
// 4-phase protocol always (for memories without b_transport).
enum class MemProtocol : uint8_t { Auto, Nb };
// Which resident row the SRAM buffer gives up for a new one.
enum class Replacement : uint8_t { Lru, Fifo };

struct FetcherConfig {
    uint32_t max_burst_bytes = 256;  // adjacent rows are coalesced up to this size [D]
    uint32_t max_outstanding = 16;   // memory requests in flight [D]
    uint32_t issue_cycles = 1;       // cycles to issue one request [D]
    bool use_dmi = false;            // move data through DMI pointers where granted
    MemProtocol mem_protocol = MemProtocol::Auto;
    uint64_t window_base = 0;        // address window the IP may access on `mem` [D]
    uint64_t window_size = 0;        // 0 = the whole 64-bit space
};

struct SramConfig {
    uint32_t k_bytes = 8192;         // K buffer [F] S-SPRINT 16 KB on chip = 8 KB K + 8 KB V
    uint32_t v_bytes = 8192;         // V buffer [F]
    uint32_t bytes_per_cycle = 64;   // per port [D]
    uint32_t access_cycles = 1;      // [D]
    Replacement replacement = Replacement::Lru;  // [D]
};

struct DatapathConfig {
    uint32_t qk_lanes = 64;          // int8 MACs per cycle in the QK unit [D] one d=64 row/cycle
    uint32_t v_lanes = 64;           // int8 MACs per cycle in the V unit [D]
    uint32_t softmax_per_cycle = 4;  // exp (and divide) per cycle [D]
    uint32_t softmax_latency = 8;    // pipeline depth of the softmax unit, cycles [D]
    uint32_t score_entries = 4096;   // score buffer entries: the longest row [F] N up to 4096
};

struct ControllerConfig {
    uint32_t csr_cycles = 1;         // register access [D]
    uint32_t job_setup_cycles = 16;  // latch and check a job [D]
    uint32_t query_queue = 2;        // evaluated queries waiting for the fetch stage [D]
    uint32_t chunk_queue = 8;        // fetched chunks waiting for the compute stage [D]
    uint32_t loads_in_flight = 2;    // LoadRows commands per buffer under way at once [D]
};

struct IpConfig {
    TimingMode timing = TimingMode::LT;  // set from --timing for every link and the mem port
    bool check_protocol = false;         // a ProtocolChecker on every internal link and on mem
    double clock_ns = 1.0;  // [F][S] 1 GHz, 65 nm
    uint64_t seed = 1;      // non-ideality random streams
    ControllerConfig controller;
    XbarConfig xbar;
    ComparatorConfig comparators;
    FetcherConfig fetcher;
    SramConfig sram;
    DatapathConfig datapath;

    // Register every field as `<prefix>.<block>.<field>`.
    void register_params(core::ParamRegistry& reg, const std::string& prefix);
    // Cross-field checks; returns "" or a sentence naming the problem.
    std::string validate() const;
    core::XbarNumerics numerics() const;
    // Keys the crossbar holds at head dimension d (0 if d does not fit). Whether a whole job fits
    // is check_job's (tlm_interfaces/job_check.h).
    uint32_t xbar_capacity(uint32_t d) const;
};

}  // namespace sprint

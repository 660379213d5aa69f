// Every parameter of the SPRINT IP with its default. What each one means, its unit, range and
// source are written once, in the register_params functions (ip_config.cpp): --help, --dump-params
// and docs/parameters.md come from there, and the notes on the [D] choices are in
// docs/parameters.md. Source tags as in docs/paper.md: [F] read from the paper's figures, [S]
// secondary summary, [X] another public source, [D] our own choice or derivation.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/crossbar.h"
#include "core/params.h"
#include "core/types.h"
#include "tlm_interfaces/timing_mode.h"

namespace sprint {

struct XbarConfig {
    uint32_t tile_rows = 128;
    uint32_t tile_cols = 128;
    uint32_t tiles = 32;
    int key_bits = 4;
    int query_bits = 4;
    bool midpoint = true;
    // One evaluation: wordlines driven, bitlines integrated, comparators decided (tAxTh).
    uint32_t evaluate_cycles = 7;
    uint32_t readback_cycles = 1;  // per key column read back (K-MSB read-back)
    uint32_t query_copy_bytes_per_cycle = 16;
    double write_pulse_ns = 10.0;
    uint32_t write_parallel_cells = 128;
    bool k_resident = false;        // K's top bits already in the array: no programming cost
    double endurance_writes = 1e6;  // set/reset cycles a cell survives
    double read_noise_sigma = 0.0;
    double cell_variation_sigma = 0.0;
    double stuck_at_zero_rate = 0.0;
    double stuck_at_max_rate = 0.0;
    // Register every field as `<prefix>.<field>` (ip_config.cpp).
    void register_params(core::ParamRegistry& r, const std::string& prefix);
};

struct ComparatorConfig {
    double offset_sigma = 0.0;
    uint32_t readout_bits_per_cycle = 64;
    uint32_t wta_cycles = 8;
    // Queries whose decisions the bank holds until the controller reads their masks out.
    uint32_t mask_latches = 4;
    // ADC read-out instead of the comparators (studies; core::XbarNumerics has the rule).
    uint32_t adc_bits = 0;  // 0 = comparators
    double adc_full_scale = 8.0;
    uint32_t adc_topk = 0;     // 0 = threshold on the codes
    uint32_t adc_columns = 8;  // columns sharing one ADC
    uint32_t adc_cycles = 1;   // per conversion
    // The keep rule the comparators apply: "head" (one threshold per head, the paper's) or
    // "query-max" (per query, relative to its largest margin; core::XbarNumerics::query_max).
    std::string rule = "head";
    // Register every field as `<prefix>.<field>` (ip_config.cpp).
    void register_params(core::ParamRegistry& r, const std::string& prefix);
};

// How the fetcher talks to memory: b_transport in LT and the 4-phase nb_transport in AT, or the
// 4-phase protocol always (for memories without b_transport).
enum class MemProtocol : uint8_t { Auto, Nb };
// How a loosely-timed LoadRows moves its rows: all at once (each memory request through timed DMI
// where the path grants it, one read-back and one SRAM write per command) or one transaction per
// memory request, read-back run and SRAM run. Both give the same cycles, bytes and data; AT and
// the 4-phase mem protocol always take the per-request path.
enum class LtPath : uint8_t { Batched, PerRequest };
// Which resident row the SRAM buffer gives up for a new one.
enum class Replacement : uint8_t { Lru, Fifo };

struct FetcherConfig {
    uint32_t max_burst_bytes = 256;
    uint32_t max_outstanding = 16;
    uint32_t issue_cycles = 1;
    bool use_dmi = false;
    MemProtocol mem_protocol = MemProtocol::Auto;
    LtPath lt_path = LtPath::Batched;
    uint64_t window_base = 0;
    uint64_t window_size = 0;
    // Register every field as `<prefix>.<field>` (ip_config.cpp).
    void register_params(core::ParamRegistry& r, const std::string& prefix);
};

struct SramConfig {
    uint32_t k_bytes = 8192;
    uint32_t v_bytes = 8192;
    uint32_t bytes_per_cycle = 64;
    uint32_t access_cycles = 1;
    Replacement replacement = Replacement::Lru;
    // Register every field as `<prefix>.<field>` (ip_config.cpp).
    void register_params(core::ParamRegistry& r, const std::string& prefix);
};

struct DatapathConfig {
    uint32_t qk_lanes = 64;
    uint32_t v_lanes = 64;
    uint32_t softmax_per_cycle = 4;
    uint32_t softmax_latency = 8;
    uint32_t score_entries = 4096;
    uint32_t contexts = 8;
    uint32_t softmax_tile = core::kDefaultSoftmaxTile;
    // Register every field as `<prefix>.<field>` (ip_config.cpp).
    void register_params(core::ParamRegistry& r, const std::string& prefix);
};

// How a sprint (or dense-stream) query is spread over the compute units: by key (key j in unit j
// mod units, every unit a share of every query, the softmax combined across units: the paper's
// CORELETs) or by query (whole queries dealt out in turn, each unit all of a query's keys: for
// study).
enum class UnitOrg : uint8_t { Keys, Queries };

struct ControllerConfig {
    uint32_t csr_cycles = 1;
    uint32_t posted_writes = 4;
    uint32_t q_rows_per_read = 8;
    uint32_t q_groups_ahead = 2;  // groups of Q rows read ahead of need
    uint32_t job_setup_cycles = 16;
    uint32_t query_queue = 2;
    uint32_t chunk_queue = 8;
    uint32_t loads_in_flight = 2;
    uint32_t unit_run = 1;  // consecutive queries dealt to one unit in a row (dense: in blocks)
    UnitOrg unit_org = UnitOrg::Keys;  // sprint, dense-stream with several units
    // Register every field as `<prefix>.<field>` (ip_config.cpp).
    void register_params(core::ParamRegistry& r, const std::string& prefix);
};

struct IpConfig {
    TimingMode timing = TimingMode::LT;  // not a parameter: --timing sets every link and mem
    bool check_protocol = false;         // a ProtocolChecker on every internal link and on mem
    double clock_ns = 1.0;
    uint64_t seed = 1;
    // Compute units (CORELETs): each its own K/V SRAM buffer (sram.*, per unit) and datapath.
    // Sprint and dense-stream spread each query's keys over them (controller.unit_org); otherwise,
    // and with unit_org queries, query i of a head goes to unit (i / controller.unit_run) mod units
    // (dense: whole blocks).
    uint32_t units = 1;
    ControllerConfig controller;
    XbarConfig xbar;
    ComparatorConfig comparators;
    FetcherConfig fetcher;
    SramConfig sram;
    DatapathConfig datapath;

    // Register every field as `<prefix>.<block>.<field>`: the IP's own, then each block's.
    void register_params(core::ParamRegistry& reg, const std::string& prefix);
    // The paper's configurations S, M, L: 1, 2, 4 compute units of 8 KB K + 8 KB V each (16, 32,
    // 64 KB on chip), the fetcher's request slots 16 per unit. Sets units, sram.k_bytes,
    // sram.v_bytes and fetcher.max_outstanding of `cfg`; false for an unknown name (unchanged).
    static bool apply_size_preset(const std::string& name, IpConfig& cfg);
    static std::vector<std::string> size_preset_names();
    // Cross-field checks; returns "" or a sentence naming the problem.
    std::string validate() const;
    core::XbarNumerics numerics() const;
    // Keys the crossbar holds at head dimension d (0 if d does not fit). Whether a whole job fits
    // is check_job's (tlm_interfaces/job_check.h).
    uint32_t xbar_capacity(uint32_t d) const;
    // Rows of row_bytes a buffer of `bytes` holds (the SRAM buffer's slots).
    static uint32_t rows_in(uint32_t bytes, uint32_t row_bytes) {
        return row_bytes ? bytes / row_bytes : 0;
    }
    // The units a `mode` row's keys are spread over (unit_org keys; else 1: whole queries or
    // blocks per unit): every unit in sprint mode; in dense-stream, and in dense with the online
    // softmax (`online`), when a head of n keys at dimension d fits the units' K and V buffers
    // together, so the units pool them and each row is fetched once per head (a longer head
    // streams better by whole queries or blocks: split by key, each unit would still fetch its
    // keys once per query or block, and dense's units would exchange partials every tile for
    // nothing). Dense with prob8 keeps blocks per unit: its two passes hold every score.
    uint32_t key_units(core::Mode mode, uint32_t n, uint32_t d, bool online = false) const {
        if (controller.unit_org != UnitOrg::Keys || units < 2) return 1;
        if (mode == core::Mode::Sprint) return units;
        const uint32_t rows = std::min(rows_in(sram.k_bytes, d), rows_in(sram.v_bytes, d));
        const bool pooled = (uint64_t(n) + units - 1) / units <= rows;
        const bool splits =
            mode == core::Mode::DenseStream || (mode == core::Mode::Dense && online);
        return splits && pooled ? units : 1;
    }
    // A job's options with what this configuration adds to its numerics (the online softmax's
    // tile, the key-interleaved units for its n keys of dimension d): what the IP computes with,
    // and the core's reference.
    core::JobOptions job_options(core::JobOptions o, uint32_t n, uint32_t d) const {
        o.softmax_tile = datapath.softmax_tile;
        o.key_units = key_units(o.mode, n, d, core::online_tile(o) != 0);
        return o;
    }
    // The score buffer holds the scores of one query's candidates: in sprint mode the keys the
    // comparators kept (checked per query: ErrorCode::ScoreOverflow), so SEQ_LEN may exceed it;
    // in the other modes every visible key (checked per job: SEQ_LEN, ErrorCode::SeqTooLong).
    bool scores_fit(uint64_t candidates) const { return candidates <= datapath.score_entries; }
};

}  // namespace sprint

#include "tlm_interfaces/ip_config.h"

#include <algorithm>
#include <limits>

namespace sprint {

void ControllerConfig::register_params(core::ParamRegistry& r, const std::string& p) {
    r.add_uint(p + ".csr_cycles", csr_cycles, "cycles", "register access latency [D]", 0, 1000);
    r.add_uint(p + ".job_setup_cycles", job_setup_cycles, "cycles", "latch and check a job [D]", 0,
               100000);
    r.add_uint(p + ".query_queue", query_queue, "queries",
               "evaluated queries the front end may run ahead of the fetch stage [D]", 1, 1024);
    r.add_uint(p + ".loads_in_flight", loads_in_flight, "commands",
               "LoadRows commands per buffer under way at once (latency hiding) [D]", 1, 64);
    r.add_uint(p + ".posted_writes", posted_writes, "rows",
               "output rows on their way to memory at once (write-back threads and queue) [D]", 1,
               1024);
    r.add_uint(p + ".q_rows_per_read", q_rows_per_read, "rows",
               "query rows the front stage reads in one memory request [D]", 1, 4096);
    r.add_uint(p + ".q_groups_ahead", q_groups_ahead, "groups",
               "groups of q_rows_per_read Q rows read ahead of need, each its own memory request "
               "under way while the crossbar evaluates (within the head, or the pass); 0 = each "
               "group read when its first query comes [D]",
               0, 64);
    r.add_uint(p + ".unit_run", unit_run, "queries",
               "queries dealt to one compute unit in a row before the next unit's turn (dense: "
               "whole query blocks, at least one); 1 = adjacent queries on different units (the "
               "paper); longer runs keep adjacent queries' shared keys in one unit's buffers "
               "(each unit then queues a run) [D]",
               1, 4096);
    r.add_enum(
        p + ".unit_org", unit_org,
        "sprint and dense-stream with several units: keys (key j in unit j mod units, each unit "
        "scores, fetches and holds only its keys' rows, the softmax combined across units; "
        "the paper's CORELETs) or queries (whole queries dealt out by unit_run, each unit "
        "fetching every kept key of its queries; for study) [F]",
        {{"keys", UnitOrg::Keys}, {"queries", UnitOrg::Queries}});
    r.add_uint(p + ".chunk_queue", chunk_queue, "chunks",
               "fetched chunks the fetch stage may run ahead of the datapath [D]", 1, 1024);
}

void XbarConfig::register_params(core::ParamRegistry& r, const std::string& p) {
    constexpr uint32_t U32 = std::numeric_limits<uint32_t>::max();
    r.add_uint(p + ".tile_rows", tile_rows, "cells", "wordlines per crossbar tile [X]", 1, 4096);
    r.add_uint(p + ".tile_cols", tile_cols, "cells", "bitlines (keys) per crossbar tile [X]", 1,
               4096);
    r.add_uint(p + ".tiles", tiles, "tiles", "crossbar tiles in the array [D]", 1, 65536);
    r.add_int(p + ".key_bits", key_bits, "bits", "key MSBs stored per cell [F]", 1, 8);
    r.add_int(p + ".query_bits", query_bits, "bits", "query bits driven by the DACs [F]", 1, 8);
    r.add_bool(p + ".midpoint", midpoint,
               "read every DAC code and stored key code as the middle of its interval (mid-rise "
               "DAC, reference shifted to match): unbiased in-memory scores; false = the floor "
               "mapping [D]");
    r.add_uint(p + ".evaluate_cycles", evaluate_cycles, "cycles",
               "one in-memory evaluation and threshold (wordlines driven, bitlines integrated, "
               "comparators decided), tAxTh: under 8 cycles [S]; 7, the most that is under 8",
               1, 100000);
    r.add_uint(p + ".readback_cycles", readback_cycles, "cycles",
               "K-MSB read-back: array time per key column sensed (its d cells at once) [D]", 0,
               100000);
    r.add_uint(p + ".query_copy_bytes_per_cycle", query_copy_bytes_per_cycle, "B/cycle",
               "query copy into the DAC input buffer, which the drivers latch when an evaluation "
               "starts: the next query's copy overlaps it [D]",
               1, 4096);
    r.add_double(p + ".write_pulse_ns", write_pulse_ns, "ns", "ReRAM set/reset pulse [X]", 0.0,
                 1e9);
    r.add_bool(p + ".k_resident", k_resident,
               "K's top bits are already in the array (written by the layer that produced K): "
               "programming takes no pulses, time or K reads (the model fills the cells through "
               "untimed debug reads); false = every head programs its keys [D]");
    r.add_double(p + ".endurance_writes", endurance_writes, "writes",
                 "set/reset cycles a cell survives, for the jobs-to-endurance figure [X] ReRAM "
                 "1e6 to 1e12; 1e6 conservative",
                 1.0, 1e18);
    r.add_uint(p + ".write_parallel_cells", write_parallel_cells, "cells",
               "cells written per pulse [D]", 1, U32);
    r.add_double(p + ".read_noise_sigma", read_noise_sigma, "raw units",
                 "bitline read noise std-dev [D]", 0.0, 1e9);
    r.add_double(p + ".cell_variation_sigma", cell_variation_sigma, "relative",
                 "programmed conductance variation std-dev [D]", 0.0, 10.0);
    r.add_double(p + ".stuck_at_zero_rate", stuck_at_zero_rate, "fraction",
                 "cells stuck at level 0 [D]", 0.0, 1.0);
    r.add_double(p + ".stuck_at_max_rate", stuck_at_max_rate, "fraction",
                 "cells stuck at the top level [D]", 0.0, 1.0);
}

void ComparatorConfig::register_params(core::ParamRegistry& r, const std::string& p) {
    constexpr uint32_t U32 = std::numeric_limits<uint32_t>::max();
    r.add_double(p + ".offset_sigma", offset_sigma, "raw units",
                 "comparator input offset std-dev [D]", 0.0, 1e9);
    r.add_uint(p + ".readout_bits_per_cycle", readout_bits_per_cycle, "bits/cycle",
               "keep-mask read-out width [D]", 1, U32);
    r.add_uint(p + ".wta_cycles", wta_cycles, "cycles",
               "max search for the empty-row policy 'max' [D]", 0, 100000);
    r.add_uint(p + ".mask_latches", mask_latches, "queries",
               "keep masks the bank holds until the controller reads them out (the read-out of "
               "one query overlaps the evaluation of the next; the front stage runs at most this "
               "many queries ahead of the read-out) [D]",
               3, 1024);
    r.add_choice(p + ".rule", rule,
                 "the keep rule: head = one threshold per head, on the margin (the paper's); "
                 "query-max = per query, the margin minus the query's largest margin against the "
                 "head's threshold (a max-tracking circuit on the bitlines: wta_cycles more per "
                 "query before the decisions, one comparison per column evaluated) [D]",
                 {"head", "query-max"});
    r.add_uint(p + ".adc_bits", adc_bits, "bits",
               "ADC read-out instead of the comparators (studies): each margin digitised to this "
               "many bits, decisions on the codes; 0 = analog comparators [D]",
               0, 16);
    r.add_double(p + ".adc_full_scale", adc_full_scale, "logits",
                 "ADC read-out: input range +- this many logits (clipped beyond) [D]", 1e-6, 1e6);
    r.add_uint(p + ".adc_topk", adc_topk, "keys",
               "ADC read-out: keep the k highest codes of each query instead of the threshold; "
               "0 = threshold [D]",
               0, 1u << 24);
    r.add_uint(p + ".adc_columns", adc_columns, "columns",
               "ADC read-out: columns sharing one ADC (converted one after another) [D]", 1,
               1u << 24);
    r.add_uint(p + ".adc_cycles", adc_cycles, "cycles", "ADC read-out: cycles per conversion [D]",
               1, 100000);
}

void FetcherConfig::register_params(core::ParamRegistry& r, const std::string& p) {
    r.add_uint(p + ".max_burst_bytes", max_burst_bytes, "B", "largest coalesced memory request [D]",
               1, 1u << 24);
    r.add_uint(p + ".max_outstanding", max_outstanding, "requests", "memory requests in flight [D]",
               1, 4096);
    r.add_uint(p + ".issue_cycles", issue_cycles, "cycles", "to issue one memory request [D]", 0,
               100000);
    r.add_bool(p + ".use_dmi", use_dmi,
               "use DMI pointers where the memory grants them (timing then from the DMI latency)");
    r.add_enum(p + ".mem_protocol", mem_protocol,
               "transport on the mem port: auto (b_transport in LT, 4-phase nb_transport in AT) or "
               "nb (always nb_transport, for memories without b_transport)",
               {{"auto", MemProtocol::Auto}, {"nb", MemProtocol::Nb}});
    r.add_enum(p + ".lt_path", lt_path,
               "LT: batched (a LoadRows's memory requests booked through timed DMI where the "
               "memory grants it, one read-back and one SRAM write per command) or per_request (a "
               "transaction per memory request, read-back run and SRAM run); same cycles, bytes "
               "and data, batched is faster [D]",
               {{"batched", LtPath::Batched}, {"per_request", LtPath::PerRequest}});
    r.add_uint(p + ".window_base", window_base, "address",
               "start of the address window the IP may access", 0,
               std::numeric_limits<uint64_t>::max());
    r.add_uint(p + ".window_size", window_size, "B",
               "size of that window; 0 = unlimited (the standalone platform: its DRAM region)", 0,
               std::numeric_limits<uint64_t>::max());
}

void SramConfig::register_params(core::ParamRegistry& r, const std::string& p) {
    r.add_uint(p + ".k_bytes", k_bytes, "B", "K buffer capacity of each unit [F]", 16, 1u << 20);
    r.add_uint(p + ".v_bytes", v_bytes, "B", "V buffer capacity of each unit [F]", 16, 1u << 20);
    r.add_uint(p + ".bytes_per_cycle", bytes_per_cycle, "B/cycle",
               "bandwidth of each buffer port [D]", 1, 1u << 20);
    r.add_uint(p + ".access_cycles", access_cycles, "cycles", "access latency [D]", 0, 100000);
    r.add_enum(p + ".replacement", replacement, "which resident row to evict [D]",
               {{"lru", Replacement::Lru}, {"fifo", Replacement::Fifo}});
}

void DatapathConfig::register_params(core::ParamRegistry& r, const std::string& p) {
    r.add_uint(p + ".qk_lanes", qk_lanes, "MAC/cycle", "int8 MACs per cycle, QK unit [D]", 1,
               1u << 20);
    r.add_uint(p + ".v_lanes", v_lanes, "MAC/cycle", "int8 MACs per cycle, V unit [D]", 1,
               1u << 20);
    r.add_uint(p + ".softmax_per_cycle", softmax_per_cycle, "elements/cycle",
               "softmax throughput [D]", 1, 1u << 20);
    r.add_uint(p + ".softmax_latency", softmax_latency, "cycles", "softmax pipeline depth [D]", 0,
               100000);
    r.add_uint(p + ".score_entries", score_entries, "entries",
               "score buffer: scores held at once, all contexts together [F]", 1, 1u << 24);
    r.add_uint(p + ".softmax_tile", softmax_tile, "keys",
               "dense mode's online softmax: keys per tile (running maximum and sum, one rescale "
               "per rise); each context holds at most one tile's scores [D]",
               1, 1u << 24);
    r.add_uint(p + ".contexts", contexts, "queries",
               "query contexts held at once (Q row, scores, accumulator): dense mode's query "
               "block [D]",
               1, 1024);
}

void IpConfig::register_params(core::ParamRegistry& r, const std::string& p) {
    r.add_double(p + ".clock_ns", clock_ns, "ns", "clock period of the IP [F] 1 GHz", 0.01, 1000.0);
    r.add_uint(p + ".seed", seed, "", "seed of the non-ideality random streams", 0,
               std::numeric_limits<uint64_t>::max());

    r.add_uint(p + ".units", units, "units",
               "compute units (CORELETs), each with its own K/V SRAM buffers (sram.*, per unit) "
               "and datapath; adjacent queries go to different units [F] S 1, M 2, L 4",
               1, 64);

    controller.register_params(r, p + ".controller");
    xbar.register_params(r, p + ".xbar");
    comparators.register_params(r, p + ".comparators");
    fetcher.register_params(r, p + ".fetcher");
    sram.register_params(r, p + ".sram");
    datapath.register_params(r, p + ".datapath");
}

namespace {

struct SizePreset {
    const char* name;
    uint32_t units;
};
// [F] S-SPRINT 1 CORELET with 16 KB, M 2 with 32 KB (16 KB K + 16 KB V), L 4 with 64 KB
// (docs/paper.md).
constexpr SizePreset kSizePresets[] = {{"S", 1}, {"M", 2}, {"L", 4}};
constexpr uint32_t kPresetUnitBufferBytes = 8192;  // K and V each, per unit [F]
constexpr uint32_t kPresetRequestsPerUnit = 16;    // fetcher request slots per unit [D]

}  // namespace

bool IpConfig::apply_size_preset(const std::string& name, IpConfig& cfg) {
    for (const SizePreset& p : kSizePresets) {
        if (name != p.name) continue;
        cfg.units = p.units;
        cfg.sram.k_bytes = cfg.sram.v_bytes = kPresetUnitBufferBytes;
        cfg.fetcher.max_outstanding = kPresetRequestsPerUnit * p.units;
        return true;
    }
    return false;
}

std::vector<std::string> IpConfig::size_preset_names() {
    std::vector<std::string> v;
    for (const SizePreset& p : kSizePresets) v.push_back(p.name);
    return v;
}

std::string IpConfig::validate() const {
    if (uint64_t(xbar.tile_cols) * xbar.tiles > (1u << 24))
        return "sprint.xbar.tile_cols x sprint.xbar.tiles exceeds 16777216 keys";
    if (comparators.rule == "query-max" && comparators.adc_bits)
        return "sprint.comparators.rule query-max is the comparator bank's: with the ADC "
               "read-out (sprint.comparators.adc_bits > 0) a per-query rule is "
               "sprint.comparators.adc_topk";
    if (datapath.softmax_tile > datapath.score_entries)
        return "sprint.datapath.softmax_tile (" + std::to_string(datapath.softmax_tile) +
               ") exceeds the score buffer (sprint.datapath.score_entries = " +
               std::to_string(datapath.score_entries) + ")";
    return "";
}

core::XbarNumerics IpConfig::numerics() const {
    core::XbarNumerics n;
    n.key_bits = xbar.key_bits;
    n.query_bits = xbar.query_bits;
    n.midpoint = xbar.midpoint;
    n.read_noise_sigma = xbar.read_noise_sigma;
    n.cell_variation_sigma = xbar.cell_variation_sigma;
    n.stuck_at_zero_rate = xbar.stuck_at_zero_rate;
    n.stuck_at_max_rate = xbar.stuck_at_max_rate;
    n.comparator_offset_sigma = comparators.offset_sigma;
    n.adc_bits = int(comparators.adc_bits);
    n.adc_full_scale = comparators.adc_full_scale;
    n.adc_topk = comparators.adc_topk;
    n.query_max = comparators.rule == "query-max";
    n.seed = seed;
    n.tile_rows = xbar.tile_rows;
    n.tile_cols = xbar.tile_cols;
    n.tiles = xbar.tiles;
    return n;
}

uint32_t IpConfig::xbar_capacity(uint32_t d) const {
    return numerics().capacity(d);
}

}  // namespace sprint

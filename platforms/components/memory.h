// Main memory of the platforms (LPDDR4, HBM2, DDR4 or ReRAM presets, each with its timing and its
// access energy): a sparse byte store.
// Socket: `target`, a TLM-2.0 base-protocol target (b_transport, transport_dbg, DMI).
// Counts: read/write transactions and bytes, debug bytes, DMI grants, error responses, busy time.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/peq_with_cb_and_phase.h>
#include <tlm_utils/simple_target_socket.h>

#include "core/energy.h"
#include "core/params.h"
#include "core/stats.h"
#include "tlm_interfaces/timed_dmi.h"

namespace sprint::platform {

// Timing and size of the memory. The defaults (the default constructor) are the lpddr4 preset.
// Presets and their sources are one table in memory.cpp.
struct MemoryConfig {
    std::string preset = "lpddr4";
    double latency_ns;        // read: request arrival to first data
    double write_latency_ns;  // write: request arrival to first data accepted
    double bandwidth_gbps;    // data-bus bandwidth of each channel, GB/s = 1e9 bytes/s
    uint32_t burst_bytes = 64;
    uint32_t channels = 1;            // independent data buses, addresses interleaved over them
    uint32_t interleave_bytes = 256;  // consecutive bytes on one channel before the next
    uint64_t size_mb = 1024;          // MiB
    bool dmi = true;
    // Approximately timed (nb_transport) only:
    uint32_t queue_depth = 16;  // requests accepted (END_REQ) and not yet answered [D]
    double jitter_ns = 0.0;     // extra latency per request, uniform in [0, jitter_ns), seeded [D]
    uint64_t seed = 1;          // of the jitter

    MemoryConfig();

    // <prefix>.preset, .latency_ns, .write_latency_ns, .bandwidth_gbps, .burst_bytes, .size_mb,
    // .dmi. The registry only records the preset's name: whoever parses the options applies
    // apply_preset(preset, cfg) first and the explicitly given timing options after it.
    void register_params(core::ParamRegistry& reg, const std::string& prefix);

    // Fills preset, latencies, bandwidth and burst size from the named preset (size and dmi are
    // left alone). Returns false, leaving `out` unchanged, for an unknown name. (Named apply_preset
    // because a member function cannot share the name of the data member `preset`.)
    static bool apply_preset(const std::string& name, MemoryConfig& out);
    static std::vector<std::string> preset_names();

    // The technology's access energy, pJ per bit moved on the bus, with its source: what the
    // cost model bills as dram.read and dram.write (docs/energy.md).
    struct MemoryEnergy {
        double read_pj_per_bit = 0.0, write_pj_per_bit = 0.0;
        std::string source;
    };
    static bool preset_energy(const std::string& name, MemoryEnergy& out);
    // The named preset's energies into `tech`'s dram.read and dram.write entries (value and
    // source); false for an unknown name (unchanged). A platform applies them when it picks its
    // memory, before any technology file or explicit tech.dram.* value.
    static bool apply_energy(const std::string& name, core::TechTable& tech);

    // "" if usable, else a sentence naming the field, its value and what is allowed.
    std::string validate() const;
};

// Loosely-timed timing contract (per channel one data bus, a resource timeline):
//   t_arrive   = sc_time_stamp() + delay
//   each piece of the access within one interleave_bytes block goes to channel
//   (offset / interleave_bytes) mod channels:
//   data_start = max(t_arrive + latency, bus_free[channel])      (write_latency_ns for writes)
//   transfer   = ceil(piece / burst_bytes) * burst_bytes / bandwidth
//   bus_free[channel] = data_start + transfer
//   data_end   = the last piece's end;  delay = data_end - sc_time_stamp()
// With one channel (the default) an access is one piece on the one bus.
// A burst of requests issued at one annotated time therefore costs one latency followed by the
// transfers back to back at the memory bandwidth; a request arriving while the bus is busy queues.
// Streaming (streaming_width < data_length) is not supported: TLM_BURST_ERROR_RESPONSE.
// Byte enables are honoured for reads and writes; a byte-enable array shorter than the data
// repeats. Unwritten memory reads as zero; storage is allocated in 1 MiB chunks on first write.
// Addresses are offsets 0 .. size-1 (a router subtracts the base).
//
// Approximately-timed contract (nb_transport_fw, 4-phase base protocol): a BEGIN_REQ is accepted
// (END_REQ) while fewer than queue_depth requests are accepted and unanswered, otherwise END_REQ
// is withheld until one completes (back-pressure). An accepted request moves its data at once and
// takes the data bus at max(acceptance + latency (+ jitter), bus free) for ceil(length / burst)
// bursts at the bandwidth: the outstanding requests share the bandwidth in arrival order. Its
// BEGIN_RESP is sent when the transfer ends, one response open at a time (later ones wait for
// END_RESP). b_transport and nb_transport share the same data bus.
//
// Timed DMI (tlm_interfaces/timed_dmi.h): a get_direct_mem_ptr whose payload carries a
// proto::TimingGrant gets this memory's loosely-timed model in it (book/predict below): an access
// moved through the DMI pointer and booked there takes the data bus and is counted exactly as the
// same b_transport would be.
class Memory : public sc_core::sc_module, public proto::AccessTiming {
  public:
    static constexpr uint64_t kChunkBytes = uint64_t(1) << 20;

    struct Counters {
        uint64_t read_transactions = 0, write_transactions = 0;
        uint64_t read_bytes = 0, write_bytes = 0;  // timed traffic (b_transport) only
        uint64_t debug_bytes = 0;                  // transport_dbg, both directions
        uint64_t dmi_grants = 0;
        uint64_t error_responses = 0;
        uint64_t busy_ps = 0;          // sum of data-bus transfer times, all channels
        uint64_t nb_requests = 0;      // requests that came by nb_transport
        uint64_t max_queued = 0;       // most accepted, unanswered nb requests
        uint64_t backpressure_ps = 0;  // time BEGIN_REQs waited for END_REQ
    };

    tlm_utils::simple_target_socket<Memory> target;

    explicit Memory(sc_core::sc_module_name name, const MemoryConfig& cfg = MemoryConfig());

    const MemoryConfig& config() const { return m_cfg; }
    uint64_t size_bytes() const { return m_size; }
    size_t allocated_chunks() const { return m_chunks.size(); }
    const Counters& counters() const { return m_count; }
    // Start a new observation window for the peak counters (max_queued).
    void reset_peaks() { m_count.max_queued = m_accepted; }
    const core::StatGroup& stats() const { return m_stats; }

    // Untimed host-side access (platform set-up, tests); not counted. A bad range or path throws
    // std::runtime_error naming the memory, the range or the path.
    void load(uint64_t offset, const void* src, uint64_t bytes);
    void dump(uint64_t offset, void* dst, uint64_t bytes) const;
    void load_file(const std::string& path, uint64_t offset);
    void dump_file(const std::string& path, uint64_t offset, uint64_t bytes) const;

    // Revokes every DMI pointer handed out (all initiators, whole address space).
    void invalidate_all_dmi();

    // proto::AccessTiming: the loosely-timed contract above for an access arriving at `arrive`
    // (absolute); book() also counts it as a timed transaction.
    sc_core::sc_time book(bool write, uint64_t addr, uint64_t bytes,
                          const sc_core::sc_time& arrive) override;
    sc_core::sc_time predict(bool write, uint64_t addr, uint64_t bytes,
                             const sc_core::sc_time& arrive) override;

  private:
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                       sc_core::sc_time& t);
    void peq_cb(tlm::tlm_generic_payload& trans, const tlm::tlm_phase& phase);
    void accept_waiting();
    void ready_cb(tlm::tlm_generic_payload& trans, const tlm::tlm_phase& phase);
    void respond_next();
    unsigned transport_dbg(tlm::tlm_generic_payload& trans);
    // Grants read/write DMI to the whole 1 MiB chunk holding the address. The DMI latencies are
    // those of one burst-sized access: latency (or write latency) + burst_bytes / bandwidth.
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);

    tlm::tlm_response_status check(const tlm::tlm_generic_payload& trans) const;
    sc_core::sc_time transfer_time(uint64_t bytes) const;
    sc_core::sc_time schedule(bool write, uint64_t addr, uint64_t bytes,
                              const sc_core::sc_time& delay);
    // The absolute end of an access arriving at `arrive`; with `commit` it books the data bus
    // (m_bus_free) and its busy time, without it only computes.
    sc_core::sc_time end_of(bool write, uint64_t addr, uint64_t bytes,
                            const sc_core::sc_time& arrive, bool commit);
    void copy_in(uint64_t addr, const uint8_t* src, uint64_t n, const uint8_t* be, unsigned be_len);
    void copy_out(uint64_t addr, uint8_t* dst, uint64_t n, const uint8_t* be,
                  unsigned be_len) const;
    uint8_t* chunk(uint64_t index);
    const uint8_t* find_chunk(uint64_t index) const;
    void check_range(const char* what, uint64_t offset, uint64_t bytes) const;

    MemoryConfig m_cfg;
    uint64_t m_size;
    sc_core::sc_time m_latency, m_write_latency;
    std::vector<sc_core::sc_time> m_bus_free;  // per channel
    // AT state.
    tlm_utils::peq_with_cb_and_phase<Memory> m_peq, m_done_peq;
    std::deque<std::pair<tlm::tlm_generic_payload*, sc_core::sc_time>> m_waiting;  // no END_REQ yet
    std::deque<tlm::tlm_generic_payload*> m_ready;  // transfer done, BEGIN_RESP not yet sent
    tlm::tlm_generic_payload* m_resp_open = nullptr;
    uint32_t m_accepted = 0;
    uint64_t m_jitter_count = 0;
    std::unordered_map<uint64_t, std::unique_ptr<uint8_t[]>> m_chunks;
    Counters m_count;
    core::StatGroup m_stats;
};

}  // namespace sprint::platform

// SramBuffer: the on-chip K and V row buffers (default 8 KB + 8 KB) and their resident tables
// ((head, token) -> slot), with pin counts (rows in use by a chunk in flight are never evicted) and
// a replacement policy chosen by configuration (lru | fifo).
// Sockets: from_controller (target: ResidencyCommand Reserve/Unreserve, the room chunks take),
// from_fetcher (target: row writes at SRAM addresses, RowScatter writes: runs of slots each
// written at its own time, ResidencyCommand
// Acquire/Release/Abandon/Flush), from_datapath (target: row reads, and RowGather reads: a list
// of slots streamed as one pipelined access). Address map: K at
// proto::kSramKBase, V at proto::kSramVBase. The buffer is the one owner of its capacity: slots,
// pins and reservations.
// Counts: bytes and accesses per port, acquires, hits, misses, evictions, peak occupancy.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>

#include "core/stats.h"
#include "modules/common/ports.h"
#include "modules/common/timing.h"
#include "tlm_interfaces/ip_config.h"
#include "tlm_interfaces/sprint_protocol.h"
#include "waveforms/trace_scheduler.h"

namespace sprint {

// Which resident row to give up when a slot is needed. Stamps are per slot.
class ReplacementPolicy {
  public:
    virtual ~ReplacementPolicy() = default;
    virtual void on_insert(uint64_t& stamp, uint64_t now) = 0;
    virtual void on_hit(uint64_t& stamp, uint64_t now) = 0;
    static std::unique_ptr<ReplacementPolicy> create(Replacement r);
};

// How many chunks in flight claim each (head, token) row: an open-addressing table (linear
// probing, backward-shift deletion), so claiming and releasing a row allocates nothing. It holds
// at most as many rows as the buffer has slots.
class ClaimCounts {
  public:
    // The count of `key` (0 when unclaimed).
    uint32_t count(uint64_t key) const;
    // Adds one claim; true when the row was unclaimed before.
    bool add(uint64_t key);
    // Removes one claim (none when unclaimed); true when it was the last.
    bool remove(uint64_t key);
    void clear();

  private:
    std::size_t home(uint64_t key) const;  // the cell its probe starts at
    std::size_t find(uint64_t key) const;  // its cell, or an empty one where it would go
    void grow();
    static constexpr uint64_t kEmpty = ~uint64_t(0);
    std::vector<uint64_t> m_keys;
    std::vector<uint32_t> m_counts;
    std::size_t m_size = 0;
};

class SramBuffer : public sc_core::sc_module {
  public:
    TargetPort from_controller;
    TargetPort from_fetcher;
    TargetPort from_datapath;
    sc_core::sc_signal<uint32_t> occupancy_k, occupancy_v;

    SramBuffer(const sc_core::sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer);
    const core::StatGroup& stats() const { return m_stats; }
    // A job's start (its buffers flushed): the occupancy peaks from zero.
    void reset_peaks() {
        m_peak_rows_k.set(0);
        m_peak_rows_v.set(0);
    }

  private:
    struct Table {
        uint32_t row_bytes = 0;
        std::vector<uint32_t> slot_token;  // ~0u = free
        std::vector<uint32_t> slot_head;
        std::vector<uint64_t> stamp;
        std::vector<uint32_t> pins;   // chunks in flight that use the slot
        std::vector<uint32_t> where;  // token -> slot of its newest head, ~0u = none (grows)
        uint64_t clock = 0;
        uint32_t valid = 0;
        uint32_t reserved = 0;  // rows reserved without tokens, by chunks not yet released
        // Reservations with tokens: how many chunks in flight claim each (head, token); a row
        // claimed by several takes one slot, so the room they hold is the number claimed.
        ClaimCounts claims;
        uint32_t claimed = 0;
    };

    void controller_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    void fetcher_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    bool reserve(proto::ResidencyCommand& cmd);
    void unreserve(const proto::ResidencyCommand& cmd);
    static uint64_t claim_key(const proto::ResidencyCommand& c, uint32_t i) {
        return (uint64_t(c.head) << 32) | c.tokens[i];
    }
    void datapath_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    bool gather(tlm::tlm_generic_payload& gp, const proto::RowGather& g, sc_core::sc_time& delay);
    bool scatter(tlm::tlm_generic_payload& gp, proto::RowScatter& s, sc_core::sc_time& delay);
    static bool whole_rows(tlm::tlm_generic_payload& gp);  // else the error status is set
    void port_access(uint64_t len, sc_core::sc_time& delay, ResourceTimeline& port,
                     core::Duration& busy);
    bool data_access(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay, ResourceTimeline& port,
                     core::Duration& busy_ns);
    bool acquire(proto::ResidencyCommand& cmd);
    bool unpin(const proto::ResidencyCommand& cmd);  // all or nothing
    bool release(proto::ResidencyCommand& cmd);
    bool abandon(proto::ResidencyCommand& cmd);
    void flush(Table& t);
    void reshape(Table& t, uint32_t bytes, uint32_t row_bytes);
    // Slots of `row_bytes` rows: reshapes the table when nothing is pinned or reserved.
    bool use_row_size(Table& t, uint32_t bytes, uint32_t row_bytes);
    Table& table(proto::Buffer b) { return b == proto::Buffer::K ? m_k : m_v; }
    // The head whose row the slot at buffer address `a` holds (per-head statistics: an access
    // always serves one head's chunk, so its first row names it).
    uint32_t head_at(uint64_t a) const;

    const IpConfig& m_cfg;
    sc_core::sc_time m_clock;
    TraceScheduler& m_tracer;
    std::unique_ptr<ReplacementPolicy> m_policy;
    std::vector<uint8_t> m_kmem, m_vmem;
    Table m_k, m_v;
    ResourceTimeline m_write_port, m_read_port;
    std::vector<std::pair<uint64_t, uint32_t>> m_victims;  // (rank, slot) scratch of acquire()
    core::StatGroup m_stats;
    core::HeadCounter m_read_bytes{m_stats, "read_bytes", "B", "bytes read by the datapath"};
    core::HeadCounter m_write_bytes{m_stats, "write_bytes", "B", "bytes written by the fetcher"};
    core::Counter m_reads{m_stats, "reads", "accesses", "read accesses"};
    core::Counter m_writes{m_stats, "writes", "accesses", "write accesses"};
    core::Counter m_acquires{m_stats, "acquires", "commands", "resident-table acquire commands"};
    core::Counter m_hits{m_stats, "hits", "rows", "rows requested that were already resident"};
    core::Counter m_misses{m_stats, "misses", "rows", "rows that needed a slot and a fetch"};
    core::Counter m_evictions{m_stats, "evictions", "rows", "resident rows given up for new ones"};
    core::Counter m_flushes{m_stats, "flushes", "commands", "resident tables invalidated"};
    core::Counter m_peak_rows_k{m_stats, "peak_rows_k", "rows", "most K rows resident at once"};
    core::Counter m_peak_rows_v{m_stats, "peak_rows_v", "rows", "most V rows resident at once"};
    core::Counter m_no_room{m_stats, "no_room", "commands",
                            "acquires that found too few unpinned slots and had to wait"};
    core::Counter m_releases{m_stats, "releases", "commands", "chunks unpinned after use"};
    core::Counter m_abandons{m_stats, "abandons", "commands",
                             "acquires undone after a memory error"};
    core::Duration m_write_port_busy_ns{m_stats, "write_port_busy_ns", "ns",
                                        "write port busy time"};
    core::Duration m_read_port_busy_ns{m_stats, "read_port_busy_ns", "ns", "read port busy time"};
};

}  // namespace sprint

// Fetcher: the DRAM-to-SRAM engine. Turns a list of kept rows into memory reads, skipping rows the
// SRAM already holds, coalescing address-adjacent rows into bursts (up to max_burst_bytes) with up
// to max_outstanding requests in flight, and writes the rows into the slots the SRAM assigned.
// Also carries the controller's plain reads (Q rows, head table, K tiles) and the output write-back.
// Sockets: from_controller (target: plain R/W at mem addresses, FetchCommand LoadRows/Flush),
// mem (initiator, to the IP boundary: ALL main-memory traffic), to_sram (initiator).
// Counts: bytes and transactions on mem, rows requested / resident / fetched per buffer, bursts,
// DMI accesses, memory errors, busy time; a per-command fetch log for analysis.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "core/stats.h"
#include "modules/common/timing.h"
#include "tlm_interfaces/ip_config.h"
#include "tlm_interfaces/sprint_protocol.h"
#include "waveforms/trace_scheduler.h"

namespace sprint {

class Fetcher : public sc_core::sc_module {
public:
    tlm_utils::simple_target_socket<Fetcher> from_controller;
    tlm_utils::simple_initiator_socket<Fetcher> mem;
    tlm_utils::simple_initiator_socket<Fetcher> to_sram;
    sc_core::sc_signal<bool> busy;
    sc_core::sc_signal<uint32_t> outstanding;

    Fetcher(const sc_core::sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer);
    const core::StatGroup& stats() const { return m_stats; }

    // One LoadRows command, as the fetcher saw it (for analysis and tests).
    struct LoadRecord {
        uint32_t head, query;
        proto::Buffer buffer;
        uint32_t requested, resident, fetched;
    };
    const std::vector<LoadRecord>& load_log() const { return m_log; }

    uint64_t mem_read_bytes = 0, mem_write_bytes = 0, mem_reads = 0, mem_writes = 0,
             rows_requested_k = 0, rows_requested_v = 0, rows_resident_k = 0, rows_resident_v = 0,
             rows_fetched_k = 0, rows_fetched_v = 0, dmi_accesses = 0, mem_errors = 0,
             max_in_flight = 0;
    double busy_ns = 0.0;

private:
    // Memory requests of one command, pipelined: request k issues when request k - O has
    // completed (O = max_outstanding), and never earlier than issue_cycles after request k - 1.
    class Window {
    public:
        Window(const Fetcher& f, const sc_core::sc_time& start);
        sc_core::sc_time next_issue() const;
        void completed(const sc_core::sc_time& issue, const sc_core::sc_time& done);
        sc_core::sc_time end() const { return m_end; }
        std::vector<std::pair<sc_core::sc_time, int>> events;  // +1 issue, -1 completion

    private:
        const Fetcher& m_f;
        std::vector<sc_core::sc_time> m_done;
        sc_core::sc_time m_last_issue, m_end;
        bool m_first = true;
    };

    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    void transfer(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    void load_rows(tlm::tlm_generic_payload& gp, proto::FetchCommand& cmd, sc_core::sc_time& delay);
    void flush(proto::FetchCommand& cmd, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    bool flush_buffer(proto::Buffer b, uint32_t head, sc_core::sc_time& delay);
    // One memory request issued at absolute time `issue`; returns its response status and sets
    // `done` to the absolute completion time.
    tlm::tlm_response_status mem_access(tlm::tlm_command cmd, uint64_t addr, uint8_t* data,
                                        uint32_t len, const sc_core::sc_time& issue,
                                        sc_core::sc_time& done);
    bool dmi_lookup(uint64_t addr, uint32_t len, bool write, tlm::tlm_dmi*& out);
    void invalidate_dmi(sc_dt::uint64 start, sc_dt::uint64 end);
    bool sram_write(proto::Buffer b, uint32_t slot, uint32_t rows, uint32_t row_bytes,
                    const uint8_t* data, sc_core::sc_time& at);
    void trace_command(const sc_core::sc_time& start, const sc_core::sc_time& end, Window& w);

    const IpConfig& m_cfg;
    sc_core::sc_time m_clock;
    TraceScheduler& m_tracer;
    std::vector<tlm::tlm_dmi> m_dmi;
    tlm::tlm_generic_payload m_mem_gp, m_sram_gp;
    std::vector<uint8_t> m_stage;
    std::vector<uint32_t> m_slots;
    std::vector<uint8_t> m_hit;
    std::vector<LoadRecord> m_log;
    core::StatGroup m_stats;
};

}  // namespace sprint

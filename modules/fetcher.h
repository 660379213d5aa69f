// Fetcher: the DRAM-to-SRAM engine. Turns a list of kept rows into memory reads, skipping rows the
// SRAM already holds, coalescing address-adjacent rows into bursts (up to max_burst_bytes) with up
// to max_outstanding requests in flight, and writes the rows into the slots the SRAM assigned.
// Also carries the controller's plain reads (Q rows, head table, K tiles) and the output
// write-back. Sockets: from_controller (target: plain R/W at mem addresses, FetchCommand
// LoadRows/ReleaseRows/Flush; as many workers as the controller can have commands under way:
// both buffers' loads, the posted writes and one plain read or release, see command_slots()),
// mem (initiator, to the IP boundary: ALL main-memory traffic), to_sram[u] (initiators, one per
// compute unit: a command's unit field says whose buffers). One fetcher serves every unit: it is
// the IP's DMA engine, and max_outstanding limits all units' requests together. to_xbar
// (initiator): with K-MSB read-back a K row's top bits are read back from the crossbar (a
// ReadBack per run of rows) and joined with the low bits fetched from memory.
// Counts: bytes and transactions on mem, rows requested / resident / fetched per buffer,
// DMI accesses, memory errors, requests in flight, busy time; a per-command fetch log.
//
// Timing: LT issues a command's memory requests with annotated times through a window of
// max_outstanding; AT hands them to max_outstanding request threads that each run one 4-phase
// transaction at a time, so the limit on requests in flight is real and back-pressure from the
// memory (END_REQ withheld) holds the issuing thread.
// LT paths (FetcherConfig::lt_path): per_request sends a transaction per memory request, and per
// run of rows a ReadBack and SRAM writes as each run arrives. batched (the default) moves each
// request through DMI and books it on the memory's own timing model where the path grants timed
// DMI (tlm_interfaces/timed_dmi.h; checked against one real transaction per DMI region first),
// then sends one ReadBack and one RowScatter SRAM write for the whole command. Every resource
// (memory bus, crossbar, SRAM port) sees the same bookings in the same order either way, so
// cycles, bytes and data are the same (the diff set checks it), provided the memory's
// b_transport does not wait (the project's Memory never does): a memory that waits inside it
// lets other commands book the crossbar and SRAM in between, at other points on each path. Files:
// fetcher.cpp (commands), fetcher_load.cpp (LoadRows), fetcher_memory.cpp (memory requests, DMI).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>

#include "core/stats.h"
#include "modules/common/ports.h"
#include "modules/common/timing.h"
#include "tlm_interfaces/ip_config.h"
#include "tlm_interfaces/payload_pool.h"
#include "tlm_interfaces/sprint_protocol.h"
#include "tlm_interfaces/timed_dmi.h"
#include "waveforms/trace_scheduler.h"

namespace sprint {

class Fetcher : public sc_core::sc_module {
  public:
    TargetPort from_controller;
    InitiatorPort mem;
    sc_core::sc_vector<InitiatorPort> to_sram;  // one per compute unit
    InitiatorPort to_xbar;                      // K-MSB read-back of the rows it loads
    sc_core::sc_signal<bool> busy;
    sc_core::sc_signal<uint32_t> outstanding;

    Fetcher(const sc_core::sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer);
    ~Fetcher() override;
    const core::StatGroup& stats() const { return m_stats; }

    // One LoadRows command, as the fetcher saw it (for analysis and tests). Kept only when asked:
    // a dense job issues ~N^2 / 256 loads a head (default buffers): the log would grow with N^2.
    struct LoadRecord {
        uint32_t head, query;
        proto::Buffer buffer;
        uint32_t requested, resident, fetched;
    };
    void record_loads(bool on) { m_record_loads = on; }
    const std::vector<LoadRecord>& load_log() const { return m_log; }
    // Start a new observation window for the peak counters (max_in_flight).
    void reset_peaks() { m_max_in_flight.set(m_in_flight); }

  private:
    static unsigned command_slots(const IpConfig& cfg);
    BusyUnion m_busy;
    bool m_batched;    // LT: load rows with one read-back and one SRAM write per command
    bool m_timed_dmi;  // LT: memory requests through timed DMI where granted
    // One memory request of a command.
    struct MemReq {
        tlm::tlm_command cmd;
        uint64_t addr;
        uint8_t* data;
        uint32_t len;
        tlm::tlm_response_status status = tlm::TLM_INCOMPLETE_RESPONSE;
        sc_core::sc_time issue = sc_core::SC_ZERO_TIME, done = sc_core::SC_ZERO_TIME;
        uint32_t head = 0;  // the head and query it serves (per-head and per-query counts)
        uint32_t query = core::kNoQuery;
        MemReq(tlm::tlm_command c, uint64_t a, uint8_t* d, uint32_t l, uint32_t h, uint32_t q)
            : cmd(c), addr(a), data(d), len(l), head(h), query(q) {}
    };
    // Requests of one command that the AT request threads work on.
    struct Batch {
        std::deque<MemReq*> finished;
        sc_core::sc_event ev;
    };
    // LT: a command's request k issues no earlier than issue_cycles after its request k - 1, and
    // when max_outstanding requests (of every command: the fetcher's own limit) are in flight,
    // when the first of them completes.
    class Window {
      public:
        Window(Fetcher& f, const sc_core::sc_time& start);
        sc_core::sc_time next_issue() const;
        void completed(const sc_core::sc_time& issue, const sc_core::sc_time& done);

      private:
        Fetcher& m_f;
        sc_core::sc_time m_last_issue;
        bool m_first = true;
    };
    // LT: the fetcher's requests in flight, (issue, done), of all commands; pruned of those that
    // ended before simulated time.
    // As raw time values (sc_time::value): (issue, done) pairs sorted by done from index `lo`
    // (those before it are pruned), and the issue times sorted on their own, including `dead` of
    // pruned requests, so the count in flight at any t >= now is two binary searches.
    struct Flight {
        std::vector<uint64_t> issue, done;
        std::size_t lo = 0;
        std::vector<uint64_t> issue_sorted;
        std::size_t dead = 0;
        uint64_t max_issue = 0;  // of every request stored, pruned or not
    } m_lt_flight;

    void execute(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    void transfer(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    struct BurstPlan;
    class PlanLease;
    std::vector<std::unique_ptr<BurstPlan>> m_plans;  // free plans (LoadRows scratch)
    void load_rows(tlm::tlm_generic_payload& gp, proto::FetchCommand& cmd, sc_core::sc_time& delay);
    // A LoadRows's memory requests and the delivery of its rows (into the SRAM, with read-back
    // joined) on either LT path; `end` is when the last request or SRAM write ended.
    struct Loaded {
        tlm::tlm_response_status status = tlm::TLM_OK_RESPONSE;
        sc_core::sc_time end;
        uint32_t fetched = 0;
        bool delivered = true;  // false: the crossbar or SRAM refused (an internal error)
    };
    Loaded load_per_request(proto::FetchCommand& cmd, BurstPlan& plan, uint32_t mrb,
                            const sc_core::sc_time& issue);
    Loaded load_batched(proto::FetchCommand& cmd, BurstPlan& plan, uint32_t mrb,
                        const sc_core::sc_time& issue);
    bool read_back_runs(const proto::FetchCommand& cmd, BurstPlan& plan, uint32_t runs,
                        uint32_t rows);
    bool scatter_runs(const proto::FetchCommand& cmd, BurstPlan& plan, uint32_t runs, uint32_t rows,
                      const uint8_t* data, sc_core::sc_time& end);
    bool acquire(proto::FetchCommand& cmd, std::vector<uint8_t>& hit, sc_core::sc_time& t);
    void abandon(const proto::FetchCommand& cmd, const std::vector<uint8_t>& filled,
                 const sc_core::sc_time& end);
    bool residency(uint32_t unit, proto::ResidencyCommand& rc, sc_core::sc_time& delay);
    // Run the requests from absolute time `start`; `done_fn` sees each completed one (in
    // completion order, at its completion time) and may issue follow-up work. Returns the time
    // everything ended and the first error response.
    tlm::tlm_response_status run(std::vector<MemReq>& reqs, const sc_core::sc_time& start,
                                 const std::function<bool(MemReq&)>& done_fn,
                                 sc_core::sc_time& end);
    tlm::tlm_response_status mem_access(MemReq& r);
    // LT, timed DMI: the request through the DMI pointer, booked on the path's timing model; the
    // first request of a region is a real transaction that checks the model's prediction.
    tlm::tlm_response_status timed_access(MemReq& r);
    struct TimedRegion {
        tlm::tlm_dmi dmi;
        proto::AccessTiming* timing;
        bool checked = false;  // one transaction ended when the model said it would
    };
    TimedRegion* timed_region(uint64_t addr, uint32_t len);
    void drop_timed(uint64_t start, uint64_t end);
    // The bytes of the requests the memory completed with TLM_OK_RESPONSE, also of a run that
    // failed (those before the error, and in AT those in flight when it came).
    static uint64_t delivered(const std::vector<MemReq>& reqs);
    void request_thread();
    bool dmi_lookup(uint64_t addr, uint32_t len, bool write, tlm::tlm_dmi*& out);
    void invalidate_dmi(sc_dt::uint64 start, sc_dt::uint64 end);
    bool read_back(const proto::FetchCommand& cmd, proto::ReadBackRun* runs, uint32_t n,
                   uint32_t rows, const uint8_t* lsb, uint8_t* full, std::vector<int8_t>& msb);
    // `rows` rows of cmd's buffer from `slot` on, tagged with cmd's head and query.
    bool sram_write(const proto::FetchCommand& cmd, uint32_t slot, uint32_t rows, uint8_t* data,
                    sc_core::sc_time& at);
    void trace_in_flight(int change, const sc_core::sc_time& at);

    const IpConfig& m_cfg;
    sc_core::sc_time m_clock;
    TraceScheduler& m_tracer;
    bool m_at;
    std::vector<tlm::tlm_dmi> m_dmi;
    std::vector<TimedRegion> m_timed;
    std::vector<std::pair<uint64_t, uint64_t>> m_untimed;  // ranges without timed DMI
    std::deque<std::pair<MemReq*, Batch*>> m_queue;  // AT: requests waiting for a request thread
    sc_core::sc_event m_queue_ev;
    uint32_t m_in_flight = 0;
    bool m_record_loads = false;
    std::vector<LoadRecord> m_log;
    proto::PayloadPool m_pool;
    core::StatGroup m_stats;
    core::HeadCounter m_mem_read_bytes{m_stats, "mem_read_bytes", "B",
                                       "bytes read on the mem port"};
    core::HeadCounter m_mem_write_bytes{m_stats, "mem_write_bytes", "B",
                                        "bytes written on the mem port"};
    core::HeadCounter m_mem_reads{m_stats, "mem_reads", "transactions",
                                  "read requests on the mem port"};
    core::HeadCounter m_mem_writes{m_stats, "mem_writes", "transactions",
                                   "write requests on the mem port"};
    core::Counter m_rows_requested_k{m_stats, "rows_requested_k", "rows",
                                     "K rows the datapath needed"};
    core::Counter m_rows_requested_v{m_stats, "rows_requested_v", "rows",
                                     "V rows the datapath needed"};
    core::Counter m_rows_resident_k{m_stats, "rows_resident_k", "rows",
                                    "K rows found resident (re-used)"};
    core::Counter m_rows_resident_v{m_stats, "rows_resident_v", "rows",
                                    "V rows found resident (re-used)"};
    core::Counter m_rows_fetched_k{m_stats, "rows_fetched_k", "rows", "K rows fetched from memory"};
    core::Counter m_rows_fetched_v{m_stats, "rows_fetched_v", "rows", "V rows fetched from memory"};
    core::Counter m_readback_rows{m_stats, "readback_rows", "rows",
                                  "K rows whose top bits came from the crossbar"};
    core::Counter m_dmi_accesses{m_stats, "dmi_accesses", "accesses",
                                 "accesses served through DMI pointers"};
    core::Counter m_mem_errors{m_stats, "mem_errors", "responses", "error responses from memory"};
    core::Counter m_max_in_flight{m_stats, "max_in_flight", "requests",
                                  "most memory requests in flight"};
    core::Duration m_busy_ns{m_stats, "busy_ns", "ns", "time with a command in progress"};
};

}  // namespace sprint

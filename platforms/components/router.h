// Platform interconnect: a TLM-2.0 base-protocol router with an address map (LT and AT).
// Sockets: `targets` (initiators bind here), `initiators` (bound to the mapped targets).
// Counts per mapped region: transactions, bytes, address errors; plus unmapped accesses.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include "core/params.h"
#include "core/stats.h"
#include "tlm_interfaces/timed_dmi.h"

namespace sprint::platform {

struct RouterConfig {
    double latency_ns = 1.0;  // decode + arbitration per request [D]

    // <prefix>.latency_ns
    void register_params(core::ParamRegistry& reg, const std::string& prefix);
};

// Decoding: a region [base, base + size) maps onto initiators[index] at offset 0; the target sees
// address - base and the initiator gets its address back on return. An access that is unmapped or
// runs past the end of its region gets TLM_ADDRESS_ERROR_RESPONSE and is not forwarded (debug
// transport is truncated at the region end instead). Every request adds latency_ns to its delay.
// DMI ranges and invalidations are translated to global addresses and clamped to the region.
//
// Approximately timed (nb_transport): the router is a 4-phase base-protocol hop on both sides. It
// remembers which targets[] socket each transaction came from, keeps the target's address until the
// response is handed back, and enforces the exclusion rules per hop: one BEGIN_REQ outstanding
// per target (later requests wait in order, their END_REQ withheld), one BEGIN_RESP outstanding
// per initiator (later responses wait; the initiator gets END_REQ meanwhile). A target that
// completes a waiting request early (TLM_COMPLETED) still gets its response delivered by the
// router, which then absorbs the initiator's END_RESP.
class Router : public sc_core::sc_module {
  public:
    SC_HAS_PROCESS(Router);

    tlm_utils::multi_passthrough_target_socket<Router> targets;
    tlm_utils::multi_passthrough_initiator_socket<Router> initiators;

    explicit Router(sc_core::sc_module_name name, const RouterConfig& cfg = RouterConfig());

    // Places initiators[initiator_index] at [base, base + size). A zero size, a wrap past 2^64, an
    // overlap or a repeated name is an SC_REPORT_ERROR (which throws by default) and the map is
    // left unchanged. Only during elaboration (an error afterwards).
    void map(unsigned initiator_index, uint64_t base, uint64_t size, const std::string& name);
    // The check map() applies: "" if the region could be added, else why not.
    std::string check_map(uint64_t base, uint64_t size, const std::string& name) const;
    // One line per region: "name [base, end] -> initiators[i]" (hex).
    std::string describe_map() const;

    size_t pending() const { return m_txns.size(); }  // nb transactions in flight
    const core::StatGroup& stats() const { return m_stats; }

  private:
    struct Region;
    // Timed DMI through the router: the target's model behind the routing latency, at the
    // region's addresses, counting each access as b_transport does.
    class RegionTiming : public proto::AccessTiming {
      public:
        RegionTiming(const Router& router, Region& region) : m_router(router), m_region(region) {}
        AccessTiming* inner = nullptr;
        sc_core::sc_time book(bool write, uint64_t addr, uint64_t bytes,
                              const sc_core::sc_time& arrive) override;
        sc_core::sc_time predict(bool write, uint64_t addr, uint64_t bytes,
                                 const sc_core::sc_time& arrive) override;

      private:
        const Router& m_router;
        Region& m_region;
    };
    struct Region {
        std::string name;
        unsigned index;
        uint64_t base, size;
        uint64_t transactions = 0, bytes = 0, address_errors = 0;
        std::unique_ptr<RegionTiming> timing;
        uint64_t end() const { return base + (size - 1); }
    };
    struct Txn {
        unsigned from;  // targets[] index the transaction came in on
        Region* region;
        uint64_t address;          // the initiator's (global) address
        bool req_ended = false;    // the initiator has seen END_REQ (or a response)
        bool target_done = false;  // the target finished early; the router absorbs END_RESP
    };
    struct Waiting {
        tlm::tlm_generic_payload* trans;
        sc_core::sc_time ready;
    };

    void end_of_elaboration() override;

    void b_transport(int from, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    unsigned transport_dbg(int from, tlm::tlm_generic_payload& trans);
    bool get_direct_mem_ptr(int from, tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
    void invalidate_direct_mem_ptr(int to, sc_dt::uint64 start, sc_dt::uint64 end);
    tlm::tlm_sync_enum nb_transport_fw(int from, tlm::tlm_generic_payload& trans,
                                       tlm::tlm_phase& phase, sc_core::sc_time& delay);
    tlm::tlm_sync_enum nb_transport_bw(int to, tlm::tlm_generic_payload& trans,
                                       tlm::tlm_phase& phase, sc_core::sc_time& delay);

    Region* find(uint64_t addr) const;
    // Decodes a timed access; sets the error status and counts it when it cannot be forwarded.
    Region* decode(tlm::tlm_generic_payload& trans);

    // AT helpers (see the class comment).
    tlm::tlm_sync_enum begin_request(int from, tlm::tlm_generic_payload& trans,
                                     tlm::tlm_phase& phase, sc_core::sc_time& delay);
    tlm::tlm_sync_enum forward_request(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                       sc_core::sc_time& delay, bool initiator_in_call);
    // Each returns true when the initiator finished the response within the call.
    bool deliver_response(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    bool send_response(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    void finish_target_side(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    void send_end_request(tlm::tlm_generic_payload& trans, const sc_core::sc_time& delay);
    void retire(tlm::tlm_generic_payload& trans);
    void release_request_hop(unsigned to, const tlm::tlm_generic_payload* trans,
                             const sc_core::sc_time& delay);
    void release_response_hop(unsigned from, const tlm::tlm_generic_payload* trans,
                              const sc_core::sc_time& delay);
    void dispatch();

    RouterConfig m_cfg;
    sc_core::sc_time m_latency;
    std::vector<std::unique_ptr<Region>> m_regions;
    std::map<uint64_t, Region*> m_by_base;
    std::unordered_map<tlm::tlm_generic_payload*, Txn> m_txns;
    // Request hop to each target (per initiators[] index) and response hop to each initiator
    // (per targets[] index): the payload occupying it, when it was released, who waits for it.
    std::vector<tlm::tlm_generic_payload*> m_req_busy, m_resp_busy;
    std::vector<sc_core::sc_time> m_req_free_at, m_resp_free_at;
    std::vector<std::deque<Waiting>> m_req_queue, m_resp_queue;
    sc_core::sc_event m_dispatch;
    bool m_elaborated = false;
    uint64_t m_unmapped = 0;
    core::StatGroup m_stats;
};

}  // namespace sprint::platform

// TransactionTracer: a pass-through for any TLM-2.0 base-protocol link (initiator ->
// tracer.target, tracer.initiator -> target) that reports every transaction crossing it once it
// has ended: its link name, transport (b_transport or the 4-phase nb_transport), command,
// address, length, response status and the time of each phase (absolute simulated time, the
// initiator's local time included: now + annotation). Traffic, DMI requests and invalidations,
// and debug transport are forwarded unchanged, except a timed-DMI grant (timed_dmi.h), which it
// clears, so that an initiator that would book accesses through it sends transactions instead;
// debug transport and accesses through a DMI pointer are not transactions on the link and are not
// reported. Counts: transactions reported.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <systemc>
#include <tlm>

namespace sprint {

struct TransactionRecord {
    const char* link;  // the tracer's label
    bool nb = false;   // nb_transport (else b_transport)
    tlm::tlm_command command = tlm::TLM_IGNORE_COMMAND;
    uint64_t address = 0;
    uint32_t length = 0;
    tlm::tlm_response_status response = tlm::TLM_INCOMPLETE_RESPONSE;
    // Picoseconds; -1 where the transport has no such phase. b_transport: begin_req = the
    // initiator's local time at the call, end_resp = at the return.
    double begin_req_ps = -1, end_req_ps = -1, begin_resp_ps = -1, end_resp_ps = -1;
};

class TransactionTracer : public sc_core::sc_module,
                          public tlm::tlm_fw_transport_if<>,
                          public tlm::tlm_bw_transport_if<> {
  public:
    using Sink = std::function<void(const TransactionRecord&)>;

    tlm::tlm_target_socket<32> target;        // the initiator side binds here
    tlm::tlm_initiator_socket<32> initiator;  // bind this to the target side

    TransactionTracer(const sc_core::sc_module_name& name, std::string label, Sink sink);

    uint64_t transactions = 0;

    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) override;
    tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& gp, tlm::tlm_phase& phase,
                                       sc_core::sc_time& t) override;
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi) override;
    unsigned int transport_dbg(tlm::tlm_generic_payload& gp) override;
    tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& gp, tlm::tlm_phase& phase,
                                       sc_core::sc_time& t) override;
    void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) override;

  private:
    // A phase seen at absolute time `at`; the transaction is reported when it ends.
    void phase_seen(tlm::tlm_generic_payload& gp, const tlm::tlm_phase& phase, double at_ps);
    void returned(tlm::tlm_generic_payload& gp, tlm::tlm_sync_enum s, const tlm::tlm_phase& phase,
                  double at_ps);
    void report(tlm::tlm_generic_payload& gp);

    std::string m_label;
    Sink m_sink;
    std::map<tlm::tlm_generic_payload*, TransactionRecord> m_open;
};

// The text of a response status as trace files give it (ok, address_error, ...).
const char* response_name(tlm::tlm_response_status s);

}  // namespace sprint

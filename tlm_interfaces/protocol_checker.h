// ProtocolChecker: a pass-through that can be inserted on any TLM-2.0 base-protocol link
// (initiator -> checker.target, checker.initiator -> target) and checks what crosses it:
//   * request attributes: a known command; for reads and writes a data pointer, a data length and
//     a streaming width above zero; byte-enable length above zero when a byte-enable pointer is
//     set; the response status INCOMPLETE and the DMI hint cleared when a request starts;
//   * b_transport: the target set a response status; the local time (time stamp + annotation)
//     did not go backwards (a target may wait inside and return a smaller annotation);
//   * nb_transport, per transaction: phases in order (BEGIN_REQ, END_REQ, BEGIN_RESP, END_RESP,
//     with END_REQ implied by BEGIN_RESP and any phase ended by TLM_COMPLETED), each on its
//     proper path; at most one BEGIN_REQ awaiting END_REQ and one BEGIN_RESP awaiting END_RESP on
//     the link at a time; the response status set before the response; the absolute time of every
//     phase (now + annotation) never earlier than the previous phase of the transaction;
//     no b_transport of a payload while it is in an nb transaction;
//   * DMI: a granted region contains the requested address, has a pointer, allows the access
//     asked for and has start <= end; invalidation ranges have start <= end.
// Violations are recorded (and reported as SC_REPORT_WARNING "sprint/protocol"); the traffic is
// forwarded unchanged either way. Counts: transactions and phases checked, violations.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>

namespace sprint {

class ProtocolChecker : public sc_core::sc_module,
                        public tlm::tlm_fw_transport_if<>,
                        public tlm::tlm_bw_transport_if<> {
  public:
    tlm::tlm_target_socket<32> target;        // the initiator side binds here
    tlm::tlm_initiator_socket<32> initiator;  // bind this to the target side

    explicit ProtocolChecker(const sc_core::sc_module_name& name);

    const std::vector<std::string>& violations() const { return m_violations; }
    uint64_t transactions = 0, phases = 0;

    // fw
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) override;
    tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& gp, tlm::tlm_phase& phase,
                                       sc_core::sc_time& t) override;
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi) override;
    unsigned int transport_dbg(tlm::tlm_generic_payload& gp) override;
    // bw
    tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& gp, tlm::tlm_phase& phase,
                                       sc_core::sc_time& t) override;
    void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) override;

  private:
    enum class State { Request, RequestEnded, Response };
    struct Txn {
        State state;
        sc_core::sc_time last;
    };
    void violation(const std::string& what, const tlm::tlm_generic_payload* gp = nullptr);
    void check_request(const tlm::tlm_generic_payload& gp, const char* where);
    void phase_time(Txn& t, const sc_core::sc_time& annotation, const tlm::tlm_generic_payload& gp,
                    const char* what);
    // Apply a phase seen on the link (fw = forward path); returns false if the transaction ended.
    void apply(tlm::tlm_generic_payload& gp, const tlm::tlm_phase& phase, bool fw,
               const sc_core::sc_time& t);
    void apply_return(tlm::tlm_generic_payload& gp, tlm::tlm_sync_enum s,
                      const tlm::tlm_phase& phase, bool fw, const sc_core::sc_time& t);
    void end(tlm::tlm_generic_payload& gp);

    std::map<tlm::tlm_generic_payload*, Txn> m_txns;
    tlm::tlm_generic_payload* m_req_open = nullptr;   // BEGIN_REQ awaiting END_REQ
    tlm::tlm_generic_payload* m_resp_open = nullptr;  // BEGIN_RESP awaiting END_RESP
    std::vector<std::string> m_violations;
};

}  // namespace sprint

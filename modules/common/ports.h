// The two ends of every link inside the IP, so that each module is written once and serves both
// timing modes (no second copy of any module):
//
//   InitiatorPort::transport(gp, delay) - a transaction on behalf of the calling thread.
//     LT: b_transport with the caller's annotated delay.
//     AT: the 4-phase base protocol on nb_transport_fw/bw: the caller's annotated time is
//         caught up (wait), BEGIN_REQ waits until the previous request got END_REQ
//         (back-pressure), the thread then waits for BEGIN_RESP and answers END_RESP;
//         the delay returns zero because the time has passed. Several threads may use one port:
//         their transactions are pipelined (one BEGIN_REQ open at a time, any number awaiting
//         responses).
//   TargetPort - a target socket that runs the module's execute(gp, delay) function.
//     b_transport: execute with the annotated delay (LT).
//     nb_transport_fw: a payload event queue takes BEGIN_REQ; END_REQ is sent when one of the
//         port's workers is free (otherwise withheld: back-pressure); the worker runs execute,
//         waits the time it returned and sends BEGIN_RESP, one response open at a time
//         (later ones wait for END_RESP).
//
// Both count what they did (transactions, busy and stall time) for the statistics.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>

#include <systemc>
#include <tlm>
#include <tlm_utils/peq_with_cb_and_phase.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "tlm_interfaces/timing_mode.h"

namespace sprint {

class TargetPort;

class InitiatorPort : public sc_core::sc_module {
  public:
    tlm_utils::simple_initiator_socket<InitiatorPort> socket;

    // `nonblocking` forces the 4-phase protocol even in LT (for targets that have no b_transport).
    InitiatorPort(const sc_core::sc_module_name& name, TimingMode mode, bool nonblocking = false);

    void transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    bool nonblocking() const { return m_nb; }
    void bind(TargetPort& target);
    template <class Socket>
    void bind(Socket& s) {
        socket.bind(s);
    }
    // Called when the target invalidates DMI pointers.
    std::function<void(sc_dt::uint64, sc_dt::uint64)> on_invalidate;

    uint64_t transactions = 0, max_in_flight = 0;
    sc_core::sc_time request_stall;  // AT: time waiting to send BEGIN_REQ or for END_REQ

  private:
    struct Txn {
        sc_core::sc_event done;
        bool end_req = false, completed = false;
        sc_core::sc_time asked;
    };
    tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& gp, tlm::tlm_phase& phase,
                                       sc_core::sc_time& t);
    void peq_cb(tlm::tlm_generic_payload& gp, const tlm::tlm_phase& phase);
    void invalidate(sc_dt::uint64 start, sc_dt::uint64 end);
    void end_request(Txn& t);

    bool m_nb;
    tlm_utils::peq_with_cb_and_phase<InitiatorPort> m_peq;
    std::map<tlm::tlm_generic_payload*, Txn*> m_txns;
    // The request channel (one BEGIN_REQ awaiting END_REQ at a time) goes to the callers in the
    // order they asked for it: tickets, not whichever waiting thread the kernel resumes first.
    // (Order matters: a LoadRows acquires its SRAM slots when it is served.)
    bool m_req_open = false;
    uint64_t m_next_ticket = 0, m_serving = 0;
    sc_core::sc_event m_req_free;
};

class TargetPort : public sc_core::sc_module {
  public:
    tlm_utils::simple_target_socket<TargetPort> socket;
    using Execute = std::function<void(tlm::tlm_generic_payload&, sc_core::sc_time&)>;

    TargetPort(const sc_core::sc_module_name& name, unsigned workers, Execute execute);

    uint64_t transactions = 0;
    sc_core::sc_time busy;          // AT: time some worker was executing
    sc_core::sc_time accept_stall;  // AT: time BEGIN_REQs waited for END_REQ

  private:
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
    tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& gp, tlm::tlm_phase& phase,
                                       sc_core::sc_time& t);
    void peq_cb(tlm::tlm_generic_payload& gp, const tlm::tlm_phase& phase);
    void worker();
    void try_accept();
    void try_respond();

    Execute m_execute;
    unsigned m_workers, m_idle;
    tlm_utils::peq_with_cb_and_phase<TargetPort> m_peq;
    std::deque<std::pair<tlm::tlm_generic_payload*, sc_core::sc_time>> m_waiting;  // no END_REQ yet
    std::deque<tlm::tlm_generic_payload*> m_work, m_responses;
    sc_core::sc_event m_work_ev;
    tlm::tlm_generic_payload* m_resp_open = nullptr;  // BEGIN_RESP sent, END_RESP not yet
};

}  // namespace sprint

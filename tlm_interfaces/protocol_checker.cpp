#include "tlm_interfaces/protocol_checker.h"

#include <sstream>

namespace sprint {

using namespace sc_core;
using namespace tlm;

namespace {

const char* phase_name(const tlm_phase& p) {
    if (p == BEGIN_REQ) return "BEGIN_REQ";
    if (p == END_REQ) return "END_REQ";
    if (p == BEGIN_RESP) return "BEGIN_RESP";
    if (p == END_RESP) return "END_RESP";
    return "an unknown phase";
}

}  // namespace

ProtocolChecker::ProtocolChecker(const sc_module_name& name)
    : sc_module(name), target("target"), initiator("initiator") {
    target.bind(*this);
    initiator.bind(*this);
}

void ProtocolChecker::violation(const std::string& what, const tlm_generic_payload* gp) {
    std::ostringstream os;
    os << name() << ": " << what;
    if (gp) os << " (address 0x" << std::hex << gp->get_address() << ")";
    os << " at " << sc_time_stamp();
    m_violations.push_back(os.str());
    SC_REPORT_WARNING("sprint/protocol", m_violations.back().c_str());
}

void ProtocolChecker::check_request(const tlm_generic_payload& gp, const char* where) {
    const tlm_command c = gp.get_command();
    if (c != TLM_READ_COMMAND && c != TLM_WRITE_COMMAND && c != TLM_IGNORE_COMMAND)
        violation(std::string(where) + ": unknown command", &gp);
    if (c != TLM_IGNORE_COMMAND) {
        if (gp.get_data_length() == 0)
            violation(std::string(where) + ": data length 0 for a read or write", &gp);
        if (!gp.get_data_ptr())
            violation(std::string(where) + ": no data pointer for a read or write", &gp);
        if (gp.get_streaming_width() == 0)
            violation(std::string(where) + ": streaming width 0", &gp);
    }
    if (gp.get_byte_enable_ptr() && gp.get_byte_enable_length() == 0)
        violation(std::string(where) + ": byte-enable pointer with byte-enable length 0", &gp);
    if (gp.get_response_status() != TLM_INCOMPLETE_RESPONSE)
        violation(std::string(where) + ": response status not INCOMPLETE when the request starts",
                  &gp);
    if (gp.is_dmi_allowed()) violation(std::string(where) + ": DMI hint set by the initiator", &gp);
}

void ProtocolChecker::b_transport(tlm_generic_payload& gp, sc_time& delay) {
    ++transactions;
    if (m_txns.count(&gp))
        violation("b_transport of a payload that is in an nb_transport transaction", &gp);
    check_request(gp, "b_transport");
    // A target may wait inside b_transport and return a smaller annotation (the time it waited
    // is then already part of sc_time_stamp()): what must not go back is time stamp + delay.
    const sc_time before = sc_time_stamp() + delay;
    initiator->b_transport(gp, delay);
    if (gp.get_response_status() == TLM_INCOMPLETE_RESPONSE)
        violation("b_transport returned without a response status", &gp);
    if (sc_time_stamp() + delay < before)
        violation(
            "b_transport: it returned at an earlier time than it was called (time stamp + "
            "annotation)",
            &gp);
}

void ProtocolChecker::phase_time(Txn& t, const sc_time& annotation, const tlm_generic_payload& gp,
                                 const char* what) {
    const sc_time at = sc_time_stamp() + annotation;
    if (at < t.last)
        violation(std::string(what) + " annotated earlier than the previous phase", &gp);
    t.last = at;
}

void ProtocolChecker::end(tlm_generic_payload& gp) {
    if (m_req_open == &gp) m_req_open = nullptr;
    if (m_resp_open == &gp) m_resp_open = nullptr;
    m_txns.erase(&gp);
}

void ProtocolChecker::apply(tlm_generic_payload& gp, const tlm_phase& phase, bool fw,
                            const sc_time& t) {
    ++phases;
    const std::string path = fw ? "forward path" : "backward path";
    auto it = m_txns.find(&gp);
    if (phase == BEGIN_REQ) {
        if (!fw) return violation("BEGIN_REQ on the backward path", &gp);
        if (it != m_txns.end())
            return violation("BEGIN_REQ for a transaction already under way", &gp);
        ++transactions;
        check_request(gp, "BEGIN_REQ");
        if (m_req_open) violation("BEGIN_REQ while another BEGIN_REQ awaits END_REQ", &gp);
        m_req_open = &gp;
        m_txns[&gp] = {State::Request, sc_time_stamp() + t};
        return;
    }
    if (it == m_txns.end())
        return violation(std::string(phase_name(phase)) + " for no transaction under way", &gp);
    Txn& x = it->second;
    if (phase == END_REQ) {
        if (fw) return violation("END_REQ on the forward path", &gp);
        if (x.state != State::Request)
            return violation("END_REQ after the request phase ended", &gp);
        phase_time(x, t, gp, "END_REQ");
        x.state = State::RequestEnded;
        if (m_req_open == &gp) m_req_open = nullptr;
    } else if (phase == BEGIN_RESP) {
        if (fw) return violation("BEGIN_RESP on the forward path", &gp);
        if (x.state == State::Response) return violation("BEGIN_RESP twice", &gp);
        if (m_resp_open && m_resp_open != &gp)
            violation("BEGIN_RESP while another BEGIN_RESP awaits END_RESP", &gp);
        if (gp.get_response_status() == TLM_INCOMPLETE_RESPONSE)
            violation("BEGIN_RESP without a response status", &gp);
        phase_time(x, t, gp, "BEGIN_RESP");
        if (m_req_open == &gp) m_req_open = nullptr;  // BEGIN_RESP implies END_REQ
        x.state = State::Response;
        m_resp_open = &gp;
    } else if (phase == END_RESP) {
        if (!fw) return violation("END_RESP on the backward path", &gp);
        if (x.state != State::Response) return violation("END_RESP before BEGIN_RESP", &gp);
        phase_time(x, t, gp, "END_RESP");
        end(gp);
    } else {
        violation("an unknown phase on the " + path, &gp);
    }
}

void ProtocolChecker::apply_return(tlm_generic_payload& gp, tlm_sync_enum s, const tlm_phase& phase,
                                   bool fw, const sc_time& t) {
    if (s == TLM_ACCEPTED) return;
    if (s == TLM_UPDATED) {
        // The callee moved the transaction on: the phase now travels the other way.
        apply(gp, phase, !fw, t);
        return;
    }
    // TLM_COMPLETED: the transaction is over; a response must be there.
    ++phases;
    if (gp.get_response_status() == TLM_INCOMPLETE_RESPONSE)
        violation("TLM_COMPLETED without a response status", &gp);
    auto it = m_txns.find(&gp);
    if (it != m_txns.end()) phase_time(it->second, t, gp, "TLM_COMPLETED");
    end(gp);
}

tlm_sync_enum ProtocolChecker::nb_transport_fw(tlm_generic_payload& gp, tlm_phase& phase,
                                               sc_time& t) {
    apply(gp, phase, true, t);
    const tlm_sync_enum s = initiator->nb_transport_fw(gp, phase, t);
    apply_return(gp, s, phase, true, t);
    return s;
}

tlm_sync_enum ProtocolChecker::nb_transport_bw(tlm_generic_payload& gp, tlm_phase& phase,
                                               sc_time& t) {
    apply(gp, phase, false, t);
    const tlm_sync_enum s = target->nb_transport_bw(gp, phase, t);
    apply_return(gp, s, phase, false, t);
    return s;
}

bool ProtocolChecker::get_direct_mem_ptr(tlm_generic_payload& gp, tlm_dmi& dmi) {
    const uint64_t addr = gp.get_address();
    const bool granted = initiator->get_direct_mem_ptr(gp, dmi);
    if (dmi.get_start_address() > dmi.get_end_address())
        violation("DMI region with start above end", &gp);
    if (granted) {
        if (addr < dmi.get_start_address() || addr > dmi.get_end_address())
            violation("DMI region granted that does not contain the requested address", &gp);
        if (!dmi.get_dmi_ptr()) violation("DMI granted without a pointer", &gp);
        if (gp.is_read() && !dmi.is_read_allowed())
            violation("DMI granted for a read without read access", &gp);
        if (gp.is_write() && !dmi.is_write_allowed())
            violation("DMI granted for a write without write access", &gp);
    }
    return granted;
}

unsigned int ProtocolChecker::transport_dbg(tlm_generic_payload& gp) {
    if (gp.get_command() != TLM_IGNORE_COMMAND && gp.get_data_length() && !gp.get_data_ptr())
        violation("transport_dbg without a data pointer", &gp);
    const unsigned n = initiator->transport_dbg(gp);
    if (n > gp.get_data_length()) violation("transport_dbg moved more bytes than asked for", &gp);
    return n;
}

void ProtocolChecker::invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) {
    if (start > end) violation("DMI invalidation range with start above end");
    target->invalidate_direct_mem_ptr(start, end);
}

}  // namespace sprint

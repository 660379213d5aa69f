#include "tlm_interfaces/transaction_tracer.h"

#include "tlm_interfaces/timed_dmi.h"

namespace sprint {

using namespace tlm;
using sc_core::sc_time;

namespace {

double at_ps(const sc_time& annotation) {
    return (sc_core::sc_time_stamp() + annotation).to_seconds() * 1e12;
}

}  // namespace

const char* response_name(tlm_response_status s) {
    switch (s) {
        case TLM_OK_RESPONSE:
            return "ok";
        case TLM_INCOMPLETE_RESPONSE:
            return "incomplete";
        case TLM_GENERIC_ERROR_RESPONSE:
            return "generic_error";
        case TLM_ADDRESS_ERROR_RESPONSE:
            return "address_error";
        case TLM_COMMAND_ERROR_RESPONSE:
            return "command_error";
        case TLM_BURST_ERROR_RESPONSE:
            return "burst_error";
        case TLM_BYTE_ENABLE_ERROR_RESPONSE:
            return "byte_enable_error";
    }
    return "unknown";
}

TransactionTracer::TransactionTracer(const sc_core::sc_module_name& name, std::string label,
                                     Sink sink)
    : sc_module(name),
      target("target"),
      initiator("initiator"),
      m_label(std::move(label)),
      m_sink(std::move(sink)) {
    target.bind(*this);
    initiator.bind(*this);
}

void TransactionTracer::b_transport(tlm_generic_payload& gp, sc_time& delay) {
    TransactionRecord r;
    r.link = m_label.c_str();
    r.command = gp.get_command();
    r.address = gp.get_address();
    r.length = gp.get_data_length();
    r.begin_req_ps = at_ps(delay);
    initiator->b_transport(gp, delay);
    r.end_resp_ps = at_ps(delay);
    r.response = gp.get_response_status();
    ++transactions;
    if (m_sink) m_sink(r);
}

void TransactionTracer::phase_seen(tlm_generic_payload& gp, const tlm_phase& phase, double at) {
    auto it = m_open.find(&gp);
    if (phase == BEGIN_REQ) {
        TransactionRecord r;
        r.link = m_label.c_str();
        r.nb = true;
        r.command = gp.get_command();
        r.address = gp.get_address();
        r.length = gp.get_data_length();
        r.begin_req_ps = at;
        m_open[&gp] = r;
        return;
    }
    if (it == m_open.end()) return;  // not seen from its start: not this link's to report
    TransactionRecord& r = it->second;
    if (phase == END_REQ) r.end_req_ps = at;
    if (phase == BEGIN_RESP) {
        if (r.end_req_ps < 0) r.end_req_ps = at;  // END_REQ implied by BEGIN_RESP
        r.begin_resp_ps = at;
    }
    if (phase == END_RESP) {
        r.end_resp_ps = at;
        report(gp);
    }
}

void TransactionTracer::returned(tlm_generic_payload& gp, tlm_sync_enum s, const tlm_phase& phase,
                                 double at) {
    if (s == TLM_ACCEPTED) return;
    if (s == TLM_UPDATED) {
        phase_seen(gp, phase, at);
        return;
    }
    // TLM_COMPLETED: the transaction is over at the returned time.
    auto it = m_open.find(&gp);
    if (it == m_open.end()) return;
    TransactionRecord& r = it->second;
    if (r.end_req_ps < 0) r.end_req_ps = at;
    if (r.begin_resp_ps < 0) r.begin_resp_ps = at;
    r.end_resp_ps = at;
    report(gp);
}

void TransactionTracer::report(tlm_generic_payload& gp) {
    auto it = m_open.find(&gp);
    if (it == m_open.end()) return;
    TransactionRecord r = it->second;
    m_open.erase(it);
    r.response = gp.get_response_status();
    ++transactions;
    if (m_sink) m_sink(r);
}

tlm_sync_enum TransactionTracer::nb_transport_fw(tlm_generic_payload& gp, tlm_phase& phase,
                                                 sc_time& t) {
    phase_seen(gp, phase, at_ps(t));
    const tlm_sync_enum s = initiator->nb_transport_fw(gp, phase, t);
    returned(gp, s, phase, at_ps(t));
    return s;
}

tlm_sync_enum TransactionTracer::nb_transport_bw(tlm_generic_payload& gp, tlm_phase& phase,
                                                 sc_time& t) {
    phase_seen(gp, phase, at_ps(t));
    const tlm_sync_enum s = target->nb_transport_bw(gp, phase, t);
    returned(gp, s, phase, at_ps(t));
    return s;
}

bool TransactionTracer::get_direct_mem_ptr(tlm_generic_payload& gp, tlm_dmi& dmi) {
    const bool granted = initiator->get_direct_mem_ptr(gp, dmi);
    // No timed DMI past a tracer: the trace is of every timed access, so each stays a transaction.
    if (auto* grant = gp.get_extension<proto::TimingGrant>()) grant->timing = nullptr;
    return granted;
}

unsigned int TransactionTracer::transport_dbg(tlm_generic_payload& gp) {
    return initiator->transport_dbg(gp);
}

void TransactionTracer::invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) {
    target->invalidate_direct_mem_ptr(start, end);
}

}  // namespace sprint

#include "modules/common/ports.h"

#include <algorithm>

namespace sprint {

using namespace sc_core;
using namespace tlm;

// ---- InitiatorPort ----------------------------------------------------------------------------

InitiatorPort::InitiatorPort(const sc_module_name& name, TimingMode mode, bool nonblocking)
    : sc_module(name),
      socket("socket"),
      m_nb(mode == TimingMode::AT || nonblocking),
      m_peq(this, &InitiatorPort::peq_cb) {
    socket.register_nb_transport_bw(this, &InitiatorPort::nb_transport_bw);
    socket.register_invalidate_direct_mem_ptr(this, &InitiatorPort::invalidate);
}

void InitiatorPort::bind(TargetPort& target) {
    socket.bind(target.socket);
}

void InitiatorPort::invalidate(sc_dt::uint64 start, sc_dt::uint64 end) {
    if (on_invalidate) on_invalidate(start, end);
}

void InitiatorPort::transport(tlm_generic_payload& gp, sc_time& delay) {
    ++transactions;
    if (!m_nb) {
        socket->b_transport(gp, delay);
        return;
    }
    if (delay > SC_ZERO_TIME) {
        wait(delay);
        delay = SC_ZERO_TIME;
    }
    Txn t;
    t.asked = sc_time_stamp();
    const uint64_t ticket = m_next_ticket++;
    while (m_req_open || ticket != m_serving) wait(m_req_free);
    m_req_open = true;
    ++m_serving;
    m_txns[&gp] = &t;
    max_in_flight = std::max<uint64_t>(max_in_flight, m_txns.size());
    tlm_phase phase = BEGIN_REQ;
    sc_time d = SC_ZERO_TIME;
    switch (socket->nb_transport_fw(gp, phase, d)) {
        case TLM_ACCEPTED:
            break;  // END_REQ and BEGIN_RESP come on the backward path
        case TLM_UPDATED:
            m_peq.notify(gp, phase, d);  // END_REQ or BEGIN_RESP, at d
            break;
        case TLM_COMPLETED:
            t.completed = true;
            m_peq.notify(gp, BEGIN_RESP, d);
            break;
    }
    wait(t.done);
    m_txns.erase(&gp);
}

void InitiatorPort::end_request(Txn& t) {
    if (t.end_req) return;
    t.end_req = true;
    request_stall += sc_time_stamp() - t.asked;
    m_req_open = false;
    m_req_free.notify();
}

tlm_sync_enum InitiatorPort::nb_transport_bw(tlm_generic_payload& gp, tlm_phase& phase,
                                             sc_time& t) {
    m_peq.notify(gp, phase, t);
    return TLM_ACCEPTED;
}

void InitiatorPort::peq_cb(tlm_generic_payload& gp, const tlm_phase& phase) {
    auto it = m_txns.find(&gp);
    if (it == m_txns.end()) {
        SC_REPORT_ERROR("sprint/port", "response for a transaction this port did not start");
        return;
    }
    Txn& t = *it->second;
    if (phase == END_REQ) {
        end_request(t);
        return;
    }
    if (phase != BEGIN_RESP) {
        SC_REPORT_ERROR("sprint/port", "unexpected phase on the backward path");
        return;
    }
    end_request(t);  // BEGIN_RESP implies END_REQ
    if (!t.completed) {
        tlm_phase p = END_RESP;
        sc_time d = SC_ZERO_TIME;
        socket->nb_transport_fw(gp, p, d);
    }
    t.done.notify();
}

// ---- TargetPort -------------------------------------------------------------------------------

TargetPort::TargetPort(const sc_module_name& name, unsigned workers, Execute execute)
    : sc_module(name),
      socket("socket"),
      m_execute(std::move(execute)),
      m_workers(std::max(1u, workers)),
      m_idle(m_workers),
      m_peq(this, &TargetPort::peq_cb) {
    socket.register_b_transport(this, &TargetPort::b_transport);
    socket.register_nb_transport_fw(this, &TargetPort::nb_transport_fw);
    for (unsigned i = 0; i < m_workers; ++i)
        sc_spawn(sc_bind(&TargetPort::worker, this), sc_gen_unique_name("worker"));
}

void TargetPort::b_transport(tlm_generic_payload& gp, sc_time& delay) {
    ++transactions;
    m_execute(gp, delay);
}

tlm_sync_enum TargetPort::nb_transport_fw(tlm_generic_payload& gp, tlm_phase& phase, sc_time& t) {
    if (phase == BEGIN_REQ) {
        m_peq.notify(gp, phase, t);
        return TLM_ACCEPTED;
    }
    if (phase == END_RESP) {
        m_peq.notify(gp, phase, t);
        return TLM_COMPLETED;  // the transaction is over
    }
    SC_REPORT_ERROR("sprint/port", "unexpected phase on the forward path");
    return TLM_COMPLETED;
}

void TargetPort::peq_cb(tlm_generic_payload& gp, const tlm_phase& phase) {
    if (phase == BEGIN_REQ) {
        if (gp.has_mm()) gp.acquire();
        ++transactions;
        m_waiting.emplace_back(&gp, sc_time_stamp());
        try_accept();
    } else {  // END_RESP
        if (m_resp_open && m_resp_open->has_mm()) m_resp_open->release();
        m_resp_open = nullptr;
        try_respond();
    }
}

void TargetPort::try_accept() {
    while (m_idle > 0 && !m_waiting.empty()) {
        auto [gp, since] = m_waiting.front();
        m_waiting.pop_front();
        accept_stall += sc_time_stamp() - since;
        --m_idle;
        m_work.push_back(gp);
        m_work_ev.notify();
        tlm_phase p = END_REQ;
        sc_time d = SC_ZERO_TIME;
        socket->nb_transport_bw(*gp, p, d);
    }
}

void TargetPort::worker() {
    for (;;) {
        while (m_work.empty()) wait(m_work_ev);
        tlm_generic_payload* gp = m_work.front();
        m_work.pop_front();
        const sc_time start = sc_time_stamp();
        sc_time d = SC_ZERO_TIME;
        m_execute(*gp, d);
        wait(d);
        busy += sc_time_stamp() - start;
        m_responses.push_back(gp);
        try_respond();
        ++m_idle;
        try_accept();
    }
}

void TargetPort::try_respond() {
    while (!m_resp_open && !m_responses.empty()) {
        tlm_generic_payload* gp = m_responses.front();
        m_responses.pop_front();
        m_resp_open = gp;
        tlm_phase p = BEGIN_RESP;
        sc_time d = SC_ZERO_TIME;
        const tlm_sync_enum s = socket->nb_transport_bw(*gp, p, d);
        if (s == TLM_COMPLETED || (s == TLM_UPDATED && p == END_RESP)) {
            m_resp_open = nullptr;
            if (gp->has_mm()) gp->release();
        }
    }
}

}  // namespace sprint

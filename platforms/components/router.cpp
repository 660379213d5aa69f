#include "platforms/components/router.h"

#include <algorithm>
#include <iterator>
#include <sstream>

namespace sprint::platform {

using sc_core::sc_time;
using tlm::tlm_generic_payload;
using tlm::tlm_phase;
using tlm::tlm_sync_enum;

namespace {

constexpr const char* kMsgType = "sprint/router";

std::string hex(uint64_t v) {
    std::ostringstream os;
    os << "0x" << std::hex << v;
    return os.str();
}

}  // namespace

void RouterConfig::register_params(core::ParamRegistry& reg, const std::string& prefix) {
    reg.add_double(prefix + ".latency_ns", latency_ns, "ns",
                   "routing latency added to every request [D]", 0.0, 1e6);
}

Router::Router(sc_core::sc_module_name name, const RouterConfig& cfg)
    : sc_core::sc_module(name),
      targets("targets"),
      initiators("initiators"),
      m_cfg(cfg),
      m_latency(cfg.latency_ns, sc_core::SC_NS),
      m_stats(basename(), "address-decoding interconnect") {
    targets.register_b_transport(this, &Router::b_transport);
    targets.register_transport_dbg(this, &Router::transport_dbg);
    targets.register_get_direct_mem_ptr(this, &Router::get_direct_mem_ptr);
    targets.register_nb_transport_fw(this, &Router::nb_transport_fw);
    initiators.register_nb_transport_bw(this, &Router::nb_transport_bw);
    initiators.register_invalidate_direct_mem_ptr(this, &Router::invalidate_direct_mem_ptr);
    m_stats.add("unmapped_errors", &m_unmapped, "", "accesses to no mapped region");

    SC_METHOD(dispatch);
    sensitive << m_dispatch;
    dont_initialize();
}

// ---- address map --------------------------------------------------------------------------------

std::string Router::check_map(uint64_t base, uint64_t size, const std::string& name) const {
    const std::string what = "region '" + name + "' [" + hex(base) + ", +" + hex(size) + ")";
    if (name.empty()) return what + " needs a name";
    if (size == 0) return what + " has zero size";
    if (base + (size - 1) < base) return what + " wraps past the end of the address space";
    for (const auto& r : m_regions) {
        if (r->name == name) return what + ": the name is already mapped";
        if (base <= r->end() && r->base <= base + (size - 1))
            return what + " overlaps region '" + r->name + "' [" + hex(r->base) + ", " +
                   hex(r->end()) + "]";
    }
    return "";
}

void Router::map(unsigned initiator_index, uint64_t base, uint64_t size, const std::string& name) {
    std::string err = check_map(base, size, name);
    if (m_elaborated) err = "map() of region '" + name + "' after elaboration";
    if (!err.empty()) {
        SC_REPORT_ERROR(kMsgType, (std::string(this->name()) + ": " + err).c_str());
        return;
    }
    auto region = std::make_unique<Region>();
    region->name = name;
    region->index = initiator_index;
    region->base = base;
    region->size = size;
    core::StatGroup& g = m_stats.group(name, "accesses routed to " + name);
    g.add("transactions", &region->transactions, "", "requests forwarded");
    g.add("bytes", &region->bytes, "B", "data bytes of the forwarded requests");
    g.add("address_errors", &region->address_errors, "", "requests running past the region end");
    m_by_base[base] = region.get();
    m_regions.push_back(std::move(region));
}

std::string Router::describe_map() const {
    std::ostringstream os;
    for (const auto& [base, r] : m_by_base)
        os << r->name << " [" << hex(base) << ", " << hex(r->end()) << "] -> initiators["
           << r->index << "]\n";
    return os.str();
}

void Router::end_of_elaboration() {
    const unsigned n_targets = initiators.size(), n_initiators = targets.size();
    for (const auto& r : m_regions)
        if (r->index >= n_targets)
            SC_REPORT_ERROR(
                kMsgType, (std::string(name()) + ": region '" + r->name +
                           "' is mapped to initiators[" + std::to_string(r->index) + "] but only " +
                           std::to_string(n_targets) + " targets are bound")
                              .c_str());
    m_req_busy.assign(n_targets, nullptr);
    m_req_free_at.assign(n_targets, sc_core::SC_ZERO_TIME);
    m_req_queue.assign(n_targets, {});
    m_resp_busy.assign(n_initiators, nullptr);
    m_resp_free_at.assign(n_initiators, sc_core::SC_ZERO_TIME);
    m_resp_queue.assign(n_initiators, {});
    m_elaborated = true;
}

Router::Region* Router::find(uint64_t addr) const {
    auto it = m_by_base.upper_bound(addr);
    if (it == m_by_base.begin()) return nullptr;
    Region* r = std::prev(it)->second;
    return addr - r->base < r->size ? r : nullptr;
}

Router::Region* Router::decode(tlm_generic_payload& trans) {
    const uint64_t addr = trans.get_address();
    Region* r = find(addr);
    if (!r) {
        ++m_unmapped;
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return nullptr;
    }
    // With streaming, the target sees only streaming_width consecutive addresses.
    const uint64_t len = trans.get_data_length(), width = trans.get_streaming_width();
    const uint64_t extent = (width != 0 && width < len) ? width : len;
    if (extent > r->size - (addr - r->base)) {
        ++r->address_errors;
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return nullptr;
    }
    ++r->transactions;
    r->bytes += len;
    return r;
}

// ---- loosely timed, debug, DMI ------------------------------------------------------------------

void Router::b_transport(int, tlm_generic_payload& trans, sc_time& delay) {
    delay += m_latency;
    Region* r = decode(trans);
    if (!r) return;
    const uint64_t addr = trans.get_address();
    trans.set_address(addr - r->base);
    initiators[r->index]->b_transport(trans, delay);
    trans.set_address(addr);
}

unsigned Router::transport_dbg(int, tlm_generic_payload& trans) {
    const uint64_t addr = trans.get_address();
    Region* r = find(addr);
    if (!r) return 0;
    const unsigned len = trans.get_data_length();
    const unsigned n = unsigned(std::min<uint64_t>(len, r->size - (addr - r->base)));
    trans.set_address(addr - r->base);
    trans.set_data_length(n);
    const unsigned done = initiators[r->index]->transport_dbg(trans);
    trans.set_address(addr);
    trans.set_data_length(len);
    return done;
}

bool Router::get_direct_mem_ptr(int, tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
    const uint64_t addr = trans.get_address();
    Region* r = find(addr);
    if (!r) {
        // Deny the whole hole around the address so the initiator need not ask again.
        uint64_t lo = 0, hi = ~uint64_t(0);
        const auto next = m_by_base.upper_bound(addr);
        if (next != m_by_base.end()) hi = next->first - 1;
        if (next != m_by_base.begin()) lo = std::prev(next)->second->end() + 1;
        dmi.set_start_address(lo);
        dmi.set_end_address(hi);
        dmi.set_granted_access(tlm::tlm_dmi::DMI_ACCESS_NONE);
        return false;
    }
    trans.set_address(addr - r->base);
    const bool granted = initiators[r->index]->get_direct_mem_ptr(trans, dmi);
    trans.set_address(addr);
    const uint64_t last = r->size - 1;
    dmi.set_start_address(r->base + std::min<uint64_t>(dmi.get_start_address(), last));
    dmi.set_end_address(r->base + std::min<uint64_t>(dmi.get_end_address(), last));
    // A timing model granted behind the router is handed on wrapped in the region's own.
    auto* grant = trans.get_extension<proto::TimingGrant>();
    if (granted && grant && grant->timing) {
        if (!r->timing) r->timing = std::make_unique<RegionTiming>(*this, *r);
        r->timing->inner = grant->timing;
        grant->timing = r->timing.get();
    } else if (grant) {
        grant->timing = nullptr;
    }
    return granted;
}

sc_time Router::RegionTiming::book(bool write, uint64_t addr, uint64_t bytes,
                                   const sc_time& arrive) {
    ++m_region.transactions;
    m_region.bytes += bytes;
    return inner->book(write, addr - m_region.base, bytes, arrive + m_router.m_latency);
}

sc_time Router::RegionTiming::predict(bool write, uint64_t addr, uint64_t bytes,
                                      const sc_time& arrive) {
    return inner->predict(write, addr - m_region.base, bytes, arrive + m_router.m_latency);
}

void Router::invalidate_direct_mem_ptr(int to, sc_dt::uint64 start, sc_dt::uint64 end) {
    for (const auto& r : m_regions) {
        if (r->index != unsigned(to) || start > end || start > r->size - 1) continue;
        const uint64_t lo = r->base + start, hi = r->base + std::min<uint64_t>(end, r->size - 1);
        for (unsigned i = 0; i < targets.size(); ++i) targets[i]->invalidate_direct_mem_ptr(lo, hi);
    }
}

// ---- approximately timed ------------------------------------------------------------------------

tlm_sync_enum Router::nb_transport_fw(int from, tlm_generic_payload& trans, tlm_phase& phase,
                                      sc_time& delay) {
    if (phase == tlm::BEGIN_REQ) return begin_request(from, trans, phase, delay);
    const auto it = m_txns.find(&trans);
    if (it == m_txns.end()) {
        SC_REPORT_ERROR(kMsgType, (std::string(name()) + ": nb_transport_fw phase " +
                                   phase.get_name() + " for a transaction not in flight")
                                      .c_str());
        return tlm::TLM_COMPLETED;
    }
    if (phase == tlm::END_RESP) {
        release_response_hop(it->second.from, &trans, delay);
        finish_target_side(trans, delay);
        return tlm::TLM_COMPLETED;
    }
    // Ignorable (extension) phases pass through.
    return initiators[it->second.region->index]->nb_transport_fw(trans, phase, delay);
}

tlm_sync_enum Router::nb_transport_bw(int to, tlm_generic_payload& trans, tlm_phase& phase,
                                      sc_time& delay) {
    const auto it = m_txns.find(&trans);
    if (it == m_txns.end()) {
        SC_REPORT_ERROR(kMsgType, (std::string(name()) + ": nb_transport_bw phase " +
                                   phase.get_name() + " for a transaction not in flight")
                                      .c_str());
        return tlm::TLM_COMPLETED;
    }
    Txn& t = it->second;
    if (phase == tlm::END_REQ) {
        release_request_hop(unsigned(to), &trans, delay);
        if (t.req_ended) return tlm::TLM_ACCEPTED;
        t.req_ended = true;
        return targets[t.from]->nb_transport_bw(trans, phase, delay);
    }
    if (phase == tlm::BEGIN_RESP) {
        release_request_hop(unsigned(to), &trans, delay);  // BEGIN_RESP implies END_REQ
        if (!deliver_response(trans, delay)) return tlm::TLM_ACCEPTED;
        retire(trans);
        return tlm::TLM_COMPLETED;
    }
    return targets[t.from]->nb_transport_bw(trans, phase, delay);
}

tlm_sync_enum Router::begin_request(int from, tlm_generic_payload& trans, tlm_phase& phase,
                                    sc_time& delay) {
    delay += m_latency;
    if (m_txns.count(&trans)) {
        SC_REPORT_ERROR(
            kMsgType,
            (std::string(name()) + ": BEGIN_REQ for a transaction already in flight").c_str());
        trans.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return tlm::TLM_COMPLETED;
    }
    Region* r = decode(trans);
    if (!r) return tlm::TLM_COMPLETED;  // the initiator may be answered at once
    m_txns.emplace(&trans, Txn{unsigned(from), r, trans.get_address()});
    if (trans.has_mm()) trans.acquire();  // the router may touch it after the initiator is done
    const unsigned to = r->index;
    const sc_time arrive = sc_core::sc_time_stamp() + delay;
    if (m_req_busy[to] || !m_req_queue[to].empty() || m_req_free_at[to] > arrive) {
        m_req_queue[to].push_back({&trans, arrive});
        m_dispatch.notify(sc_core::SC_ZERO_TIME);
        return tlm::TLM_ACCEPTED;  // END_REQ follows when the target takes it
    }
    return forward_request(trans, phase, delay, true);
}

tlm_sync_enum Router::forward_request(tlm_generic_payload& trans, tlm_phase& phase, sc_time& delay,
                                      bool initiator_in_call) {
    Txn& t = m_txns.at(&trans);
    const unsigned to = t.region->index;
    m_req_busy[to] = &trans;
    trans.set_address(t.address - t.region->base);
    phase = tlm::BEGIN_REQ;
    const tlm_sync_enum s = initiators[to]->nb_transport_fw(trans, phase, delay);
    if (s == tlm::TLM_ACCEPTED) return s;
    release_request_hop(to, &trans, delay);
    if (s == tlm::TLM_UPDATED && phase == tlm::END_REQ) {
        if (initiator_in_call)
            t.req_ended = true;
        else
            send_end_request(trans, delay);
        return s;
    }
    if (s == tlm::TLM_COMPLETED) {
        if (initiator_in_call) {
            trans.set_address(t.address);
            retire(trans);
            return s;
        }
        t.target_done = true;  // the initiator still expects END_REQ and a response
    } else if (phase != tlm::BEGIN_RESP) {
        SC_REPORT_ERROR(kMsgType, (std::string(name()) + ": target returned TLM_UPDATED with " +
                                   "phase " + phase.get_name() + " to BEGIN_REQ")
                                      .c_str());
        return s;
    }
    if (!initiator_in_call) {
        if (deliver_response(trans, delay)) finish_target_side(trans, delay);
        return s;
    }
    // BEGIN_RESP on the return path: hand it straight back if the response hop is free.
    t.req_ended = true;
    if (!m_resp_busy[t.from] && m_resp_queue[t.from].empty() &&
        m_resp_free_at[t.from] <= sc_core::sc_time_stamp() + delay) {
        trans.set_address(t.address);
        m_resp_busy[t.from] = &trans;
        return s;
    }
    m_resp_queue[t.from].push_back({&trans, sc_core::sc_time_stamp() + delay});
    m_dispatch.notify(sc_core::SC_ZERO_TIME);
    phase = tlm::END_REQ;
    return tlm::TLM_UPDATED;
}

bool Router::deliver_response(tlm_generic_payload& trans, sc_time& delay) {
    Txn& t = m_txns.at(&trans);
    const sc_time arrive = sc_core::sc_time_stamp() + delay;
    if (!m_resp_busy[t.from] && m_resp_queue[t.from].empty() && m_resp_free_at[t.from] <= arrive)
        return send_response(trans, delay);
    m_resp_queue[t.from].push_back({&trans, arrive});
    m_dispatch.notify(sc_core::SC_ZERO_TIME);
    if (!t.req_ended) send_end_request(trans, delay);  // let the initiator issue its next request
    return false;
}

bool Router::send_response(tlm_generic_payload& trans, sc_time& delay) {
    Txn& t = m_txns.at(&trans);
    trans.set_address(t.address);
    m_resp_busy[t.from] = &trans;
    t.req_ended = true;
    tlm_phase phase = tlm::BEGIN_RESP;
    const tlm_sync_enum s = targets[t.from]->nb_transport_bw(trans, phase, delay);
    if (s == tlm::TLM_COMPLETED || (s == tlm::TLM_UPDATED && phase == tlm::END_RESP)) {
        release_response_hop(t.from, &trans, delay);
        return true;
    }
    return false;
}

void Router::finish_target_side(tlm_generic_payload& trans, sc_time& delay) {
    Txn& t = m_txns.at(&trans);
    if (!t.target_done) {
        tlm_phase phase = tlm::END_RESP;
        initiators[t.region->index]->nb_transport_fw(trans, phase, delay);
    }
    retire(trans);
}

void Router::send_end_request(tlm_generic_payload& trans, const sc_time& delay) {
    Txn& t = m_txns.at(&trans);
    t.req_ended = true;
    tlm_phase phase = tlm::END_REQ;
    sc_time d = delay;
    targets[t.from]->nb_transport_bw(trans, phase, d);
}

void Router::retire(tlm_generic_payload& trans) {
    m_txns.erase(&trans);
    if (trans.has_mm()) trans.release();  // last touch: may return the payload to its pool
}

void Router::release_request_hop(unsigned to, const tlm_generic_payload* trans,
                                 const sc_time& delay) {
    if (m_req_busy[to] != trans) return;
    m_req_busy[to] = nullptr;
    m_req_free_at[to] = sc_core::sc_time_stamp() + delay;
    if (!m_req_queue[to].empty()) m_dispatch.notify(delay);
}

void Router::release_response_hop(unsigned from, const tlm_generic_payload* trans,
                                  const sc_time& delay) {
    if (m_resp_busy[from] != trans) return;
    m_resp_busy[from] = nullptr;
    m_resp_free_at[from] = sc_core::sc_time_stamp() + delay;
    if (!m_resp_queue[from].empty()) m_dispatch.notify(delay);
}

// Forwards waiting requests and responses whose hop is free; runs from m_dispatch.
void Router::dispatch() {
    const sc_time now = sc_core::sc_time_stamp();
    for (bool progress = true; progress;) {
        progress = false;
        for (unsigned to = 0; to < m_req_queue.size(); ++to) {
            auto& q = m_req_queue[to];
            if (m_req_busy[to] || q.empty()) continue;
            const sc_time at = std::max(q.front().ready, m_req_free_at[to]);
            if (at > now) {
                m_dispatch.notify(at - now);
                continue;
            }
            tlm_generic_payload& trans = *q.front().trans;
            q.pop_front();
            tlm_phase phase = tlm::BEGIN_REQ;
            sc_time delay = sc_core::SC_ZERO_TIME;
            forward_request(trans, phase, delay, false);
            progress = true;
        }
        for (unsigned from = 0; from < m_resp_queue.size(); ++from) {
            auto& q = m_resp_queue[from];
            if (m_resp_busy[from] || q.empty()) continue;
            const sc_time at = std::max(q.front().ready, m_resp_free_at[from]);
            if (at > now) {
                m_dispatch.notify(at - now);
                continue;
            }
            tlm_generic_payload& trans = *q.front().trans;
            q.pop_front();
            sc_time delay = sc_core::SC_ZERO_TIME;
            if (send_response(trans, delay)) finish_target_side(trans, delay);
            progress = true;
        }
    }
}

}  // namespace sprint::platform

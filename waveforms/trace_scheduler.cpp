#include "waveforms/trace_scheduler.h"

namespace sprint {

TraceScheduler::TraceScheduler(const sc_core::sc_module_name& name) : sc_core::sc_module(name) {
    SC_HAS_PROCESS(TraceScheduler);
    SC_METHOD(apply);
    sensitive << m_wake;
    dont_initialize();
}

void TraceScheduler::bound(const sc_core::sc_time& t0, const sc_core::sc_time& t1,
                           const std::set<uint32_t>& heads) {
    m_bounded = true;
    m_t0 = t0;
    m_t1 = t1;
    m_heads = heads;
    m_in_window = t0 == sc_core::SC_ZERO_TIME;
    // The window's edges as changes of the gate.
    if (!m_in_window) schedule(t0, nullptr, [this] { m_in_window = true; });
    if (t1 != sc_core::sc_max_time()) schedule(t1, nullptr, [this] { m_in_window = false; });
}

bool TraceScheduler::open() const {
    return !m_bounded || (m_in_window && (m_heads.empty() || !m_active.empty()));
}

void TraceScheduler::head_begin(uint32_t h, const sc_core::sc_time& offset) {
    if (!m_enabled || !m_bounded || m_heads.empty() || !m_heads.count(h)) return;
    schedule(offset, nullptr, [this, h] { ++m_active[h]; });
}

void TraceScheduler::head_end(uint32_t h, const sc_core::sc_time& offset) {
    if (!m_enabled || !m_bounded || m_heads.empty() || !m_heads.count(h)) return;
    schedule(offset, nullptr, [this, h] {
        auto it = m_active.find(h);
        if (it != m_active.end() && --it->second <= 0) m_active.erase(it);
    });
}

void TraceScheduler::heads_clear() {
    if (!m_enabled || !m_bounded || m_heads.empty()) return;
    schedule(sc_core::SC_ZERO_TIME, nullptr, [this] { m_active.clear(); });
}

void TraceScheduler::schedule(const sc_core::sc_time& offset, const void* signal,
                              std::function<void()> fn) {
    const sc_core::sc_time at = sc_core::sc_time_stamp() + offset;
    m_pending.emplace(at, Pending{signal, std::move(fn)});
    // An earlier notification replaces a later pending one.
    m_wake.notify(at - sc_core::sc_time_stamp());
}

void TraceScheduler::apply() {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    auto it = m_pending.begin();
    while (it != m_pending.end() && it->first <= now) {
        Pending& p = it->second;
        if (!p.signal) {  // the gate (or state traced values derive from) may change
            const bool was = open();
            p.fn();
            if (!was && open()) {
                for (auto& [sig, fn] : m_held) fn();
                m_held.clear();
            }
        } else if (open()) {
            p.fn();
        } else {
            m_held[p.signal] = std::move(p.fn);
        }
        it = m_pending.erase(it);
    }
    if (it != m_pending.end()) m_wake.notify(it->first - now);
}

}  // namespace sprint

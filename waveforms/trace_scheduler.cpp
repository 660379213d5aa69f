#include "waveforms/trace_scheduler.h"

namespace sprint {

TraceScheduler::TraceScheduler(const sc_core::sc_module_name& name) : sc_core::sc_module(name) {
    SC_HAS_PROCESS(TraceScheduler);
    SC_METHOD(apply);
    sensitive << m_wake;
    dont_initialize();
}

void TraceScheduler::schedule(const sc_core::sc_time& offset, std::function<void()> fn) {
    const sc_core::sc_time at = sc_core::sc_time_stamp() + offset;
    m_pending.emplace(at, std::move(fn));
    // An earlier notification replaces a later pending one.
    m_wake.notify(at - sc_core::sc_time_stamp());
}

void TraceScheduler::apply() {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    auto it = m_pending.begin();
    while (it != m_pending.end() && it->first <= now) {
        it->second();
        it = m_pending.erase(it);
    }
    if (it != m_pending.end()) m_wake.notify(it->first - now);
}

}  // namespace sprint

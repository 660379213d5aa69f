#include "waveforms/query_marker.h"

#include <algorithm>

namespace sprint {

void QueryMarker::trace_to(TraceScheduler& tracer, sc_core::sc_signal<uint32_t>& query,
                           sc_core::sc_signal<uint32_t>& in_flight) {
    m_tracer = &tracer;
    m_query = &query;
    m_in_flight = &in_flight;
}

void QueryMarker::take(uint32_t head, uint32_t query, const sc_core::sc_time& offset) {
    if (!m_tracer || !m_tracer->enabled()) return;
    m_tracer->change(offset, [this, k = key(head, query), query] {
        m_held.emplace_back(k, query);
        m_shown = m_held.front().second;
    });
    show(offset);
}

void QueryMarker::done(uint32_t head, uint32_t query, const sc_core::sc_time& offset) {
    if (!m_tracer || !m_tracer->enabled()) return;
    m_tracer->change(offset, [this, k = key(head, query)] {
        const auto it =
            std::find_if(m_held.begin(), m_held.end(), [k](const auto& h) { return h.first == k; });
        if (it != m_held.end()) m_held.erase(it);
        if (!m_held.empty()) m_shown = m_held.front().second;
    });
    show(offset);
}

void QueryMarker::clear(const sc_core::sc_time& offset) {
    if (!m_tracer || !m_tracer->enabled()) return;
    m_tracer->change(offset, [this] { m_held.clear(); });
    show(offset);
}

void QueryMarker::show(const sc_core::sc_time& offset) {
    m_tracer->write_derived(*m_query, offset, [this] { return m_shown; });
    m_tracer->write_derived(*m_in_flight, offset, [this] { return uint32_t(m_held.size()); });
}

}  // namespace sprint

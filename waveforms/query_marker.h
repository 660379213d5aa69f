// A pipeline stage's query marker in the waveforms: `query` holds the number of the query the
// stage works on from the moment it takes the query up until it hands the query's last part on
// (or writes its output row), and `in_flight` counts the queries the stage holds. A stage that
// holds several at once (the fetch stages' loads under way, the write-back's posted writes)
// shows the oldest, the one the next stage waits for; when it holds none, `query` keeps the last
// one (`in_flight` 0 and the stage's state tell). Several threads may share a marker (the
// write-back threads); each change lands at its annotated time (TraceScheduler::change).
#pragma once

#include <cstdint>
#include <deque>
#include <utility>

#include <systemc>

#include "waveforms/trace_scheduler.h"

namespace sprint {

class QueryMarker {
  public:
    void trace_to(TraceScheduler& tracer, sc_core::sc_signal<uint32_t>& query,
                  sc_core::sc_signal<uint32_t>& in_flight);
    // Query `query` of head `head` taken up / handed on at sc_time_stamp() + offset.
    void take(uint32_t head, uint32_t query, const sc_core::sc_time& offset);
    void done(uint32_t head, uint32_t query, const sc_core::sc_time& offset);
    // A new job at sc_time_stamp() + offset: none held (a failed job's are dropped).
    void clear(const sc_core::sc_time& offset);

  private:
    void show(const sc_core::sc_time& offset);
    static uint64_t key(uint32_t head, uint32_t query) { return uint64_t(head) << 32 | query; }

    TraceScheduler* m_tracer = nullptr;
    sc_core::sc_signal<uint32_t>* m_query = nullptr;
    sc_core::sc_signal<uint32_t>* m_in_flight = nullptr;
    std::deque<std::pair<uint64_t, uint32_t>> m_held;  // (key, query), oldest first
    uint32_t m_shown = 0;
};

}  // namespace sprint

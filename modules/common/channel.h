// A bounded FIFO between two SystemC threads of one module (the controller's pipeline queues):
// put() waits while it is full, get() while it is empty; close() ends the stream after what is
// queued; abort() wakes every waiter and makes every later call fail, so an erroring job drains.
#pragma once

#include <cstddef>
#include <deque>

#include <systemc>

namespace sprint {

template <class T>
class Channel {
  public:
    explicit Channel(std::size_t capacity) : m_cap(capacity) {}

    bool put(T v) {
        while (!m_aborted && m_q.size() >= m_cap) sc_core::wait(m_ev);
        if (m_aborted) return false;
        m_q.push_back(std::move(v));
        m_ev.notify(sc_core::SC_ZERO_TIME);
        return true;
    }
    // False when aborted, or closed and drained.
    bool get(T& v) {
        while (!m_aborted && m_q.empty() && !m_closed) sc_core::wait(m_ev);
        if (m_aborted || m_q.empty()) return false;
        v = std::move(m_q.front());
        m_q.pop_front();
        m_ev.notify(sc_core::SC_ZERO_TIME);
        return true;
    }
    void close() {
        m_closed = true;
        m_ev.notify(sc_core::SC_ZERO_TIME);
    }
    void abort() {
        m_aborted = true;
        m_ev.notify(sc_core::SC_ZERO_TIME);
    }
    // For the next job.
    void reset() {
        m_q.clear();
        m_closed = m_aborted = false;
    }
    bool empty() const { return m_q.empty(); }

  private:
    std::deque<T> m_q;
    std::size_t m_cap;
    bool m_closed = false, m_aborted = false;
    sc_core::sc_event m_ev;
};

}  // namespace sprint

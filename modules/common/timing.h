// Small timing helpers shared by the IP's modules (loosely-timed): clock cycles to sc_time, a
// resource timeline for ports that serialise accesses, and busy-time accounting.
#pragma once

#include <algorithm>
#include <cstdint>

#include <iterator>
#include <utility>
#include <vector>

#include <systemc>

namespace sprint {

inline uint64_t ceil_div(uint64_t a, uint64_t b) {
    return (a + b - 1) / b;
}

// A resource (an SRAM port, a compute unit) that serves one request at a time. Times are
// absolute: an access arriving at `arrive` starts when the resource is free and occupies it for
// `duration`; returns the absolute end time.
class ResourceTimeline {
  public:
    sc_core::sc_time occupy(const sc_core::sc_time& arrive, const sc_core::sc_time& duration) {
        const sc_core::sc_time start = std::max(arrive, m_free);
        m_free = start + duration;
        m_busy += duration;
        return m_free;
    }
    // The resource stays occupied until at least `t` (waiting on another resource).
    void extend_to(const sc_core::sc_time& t) { m_free = std::max(m_free, t); }
    const sc_core::sc_time& free_at() const { return m_free; }
    const sc_core::sc_time& busy() const { return m_busy; }

  private:
    sc_core::sc_time m_free = sc_core::SC_ZERO_TIME;
    sc_core::sc_time m_busy = sc_core::SC_ZERO_TIME;
};

// A resource that does one thing at a time and serves requests that may arrive out of time
// order (loosely-timed initiators run ahead of each other): each request takes the first gap of
// its length at or after its arrival, so a request is never held up by one that is booked later
// in time. In time order (AT) it behaves as ResourceTimeline. Bookings that ended before the
// current simulated time are dropped (no request can arrive before it).
class ResourceCalendar {
  public:
    // Books `duration` at the first free gap from `arrive`; returns the end, `start` the start.
    sc_core::sc_time occupy(const sc_core::sc_time& arrive, const sc_core::sc_time& duration,
                            sc_core::sc_time* start = nullptr) {
        const sc_core::sc_time now = sc_core::sc_time_stamp();
        while (m_lo < m_busy_at.size() && m_busy_at[m_lo].second <= now) ++m_lo;
        if (m_lo > 32 && 2 * m_lo > m_busy_at.size()) {  // drop the ended bookings in one go
            m_busy_at.erase(m_busy_at.begin(), m_busy_at.begin() + static_cast<long>(m_lo));
            m_lo = 0;
        }
        sc_core::sc_time t = arrive;
        auto it = std::upper_bound(
            m_busy_at.begin() + static_cast<long>(m_lo), m_busy_at.end(), t,
            [](const sc_core::sc_time& x, const Booking& b) { return x < b.first; });
        if (it != m_busy_at.begin() + static_cast<long>(m_lo) && std::prev(it)->second > t)
            t = std::prev(it)->second;
        for (; it != m_busy_at.end() && it->first < t + duration; ++it) t = std::max(t, it->second);
        if (start) *start = t;
        m_total += duration;
        // Every booking before `it` ends by t and the one at `it` starts at or after t + duration.
        if (duration > sc_core::SC_ZERO_TIME) m_busy_at.insert(it, Booking(t, t + duration));
        return t + duration;
    }
    const sc_core::sc_time& busy() const { return m_total; }

  private:
    using Booking = std::pair<sc_core::sc_time, sc_core::sc_time>;  // start, end
    std::vector<Booking> m_busy_at;  // in start order, disjoint; [0, m_lo) have ended
    size_t m_lo = 0;
    sc_core::sc_time m_total = sc_core::SC_ZERO_TIME;
};

// Busy time of a unit that can have several operations under way: the length of the union of
// their [start, end) intervals (exact when intervals arrive in start order, as they do per
// issuing thread).
class BusyUnion {
  public:
    void add(const sc_core::sc_time& start, const sc_core::sc_time& end) {
        if (end <= m_covered) return;
        const sc_core::sc_time from = std::max(start, m_covered);
        m_total += end - from;
        m_covered = end;
    }
    double ns() const { return m_total.to_seconds() * 1e9; }

  private:
    sc_core::sc_time m_covered = sc_core::SC_ZERO_TIME, m_total = sc_core::SC_ZERO_TIME;
};

// Absolute time of an annotated offset.
inline sc_core::sc_time abs_time(const sc_core::sc_time& offset) {
    return sc_core::sc_time_stamp() + offset;
}
// Offset (>= 0) of an absolute time.
inline sc_core::sc_time offset_of(const sc_core::sc_time& t) {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    return t > now ? t - now : sc_core::SC_ZERO_TIME;
}

}  // namespace sprint

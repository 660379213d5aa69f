#include "modules/fetcher.h"

#include <algorithm>
#include <cstring>

#include "tlm_interfaces/payload.h"

namespace sprint {

using namespace sc_core;
using namespace tlm;

// ---- LT request window -------------------------------------------------------------------------

Fetcher::Window::Window(Fetcher& f, const sc_time& start) : m_f(f), m_last_issue(start) {}

namespace {

// How many of the sorted values v are <= t: a binary search without branches on the data (the
// window asks several times per memory request, on comparisons that predict badly).
std::size_t count_le(const uint64_t* a, std::size_t n, uint64_t t) {
    if (n == 0) return 0;
    const uint64_t* b = a;
    while (n > 1) {
        const std::size_t h = n / 2;
        b = b[h] <= t ? b + h : b;
        n -= h;
    }
    return std::size_t(b - a) + (*b <= t ? 1 : 0);
}

}  // namespace

sc_time Fetcher::Window::next_issue() const {
    const sc_time t0 = m_first
                           ? m_last_issue
                           : m_last_issue + m_f.m_clock * double(m_f.m_cfg.fetcher.issue_cycles);
    // In flight at t: issued by t and not ended by t. Every request is issued before it ends,
    // so that is #{issue <= t} - #{done <= t}: two binary searches. While max_outstanding are in
    // flight at t, t moves to the first of them to end.
    const std::size_t o = m_f.m_cfg.fetcher.max_outstanding;
    const Flight& fl = m_f.m_lt_flight;
    const uint64_t* done = fl.done.data() + fl.lo;  // the requests not pruned, by end
    const uint64_t* issue = fl.issue.data() + fl.lo;
    const std::size_t n = fl.done.size() - fl.lo;
    uint64_t t = t0.value();
    // Issued no earlier than every request stored (the usual case: one command issuing in
    // order): every one counts as in flight until it ends, so the answer is t0 or the o-th
    // latest end, whichever is later. (Requests pruned away ended before now <= t0.)
    if (t >= fl.max_issue) return n < o ? t0 : sc_time::from_value(std::max(t, done[n - o]));
    // Fewer than o requests end after t: fewer than o can be in flight at t (one search).
    if (n - count_le(done, n, t) < o) return t0;
    // Pruned requests were issued before now <= t: they count in issue_sorted, less `dead`.
    auto in_flight = [&](uint64_t at) {
        return count_le(fl.issue_sorted.data(), fl.issue_sorted.size(), at) - fl.dead -
               count_le(done, n, at);
    };
    while (in_flight(t) >= o) {
        // Move t to the first of those in flight to end: by done, the first one after t that
        // was issued by t.
        std::size_t k = count_le(done, n, t);
        while (issue[k] > t) ++k;  // one exists: o >= 1 are in flight
        t = done[k];
    }
    return sc_time::from_value(t);
}

void Fetcher::Window::completed(const sc_time& issue, const sc_time& done) {
    m_first = false;
    m_last_issue = issue;
    Flight& fl = m_f.m_lt_flight;
    const auto at =
        std::upper_bound(fl.done.begin() + std::ptrdiff_t(fl.lo), fl.done.end(), done.value());
    fl.issue.insert(fl.issue.begin() + (at - fl.done.begin()), issue.value());
    fl.done.insert(at, done.value());
    fl.issue_sorted.insert(
        std::upper_bound(fl.issue_sorted.begin(), fl.issue_sorted.end(), issue.value()),
        issue.value());
    fl.max_issue = std::max<uint64_t>(fl.max_issue, issue.value());
    // Every issue time to come is at or after simulated time (a command starts at its caller's
    // local time, never before now): requests that ended before now cannot limit one. They are
    // pruned by moving `lo` past them; their issue times stay in issue_sorted, counted in `dead`.
    const std::size_t o = m_f.m_cfg.fetcher.max_outstanding;
    if (fl.done.size() - fl.lo <= 2 * o + 16) return;
    const std::size_t ended =
        count_le(fl.done.data() + fl.lo, fl.done.size() - fl.lo, sc_time_stamp().value());
    fl.lo += ended;
    fl.dead += ended;
    if (fl.lo > 4 * o + 64) {  // compact: drop the pruned requests for good
        fl.issue.erase(fl.issue.begin(), fl.issue.begin() + std::ptrdiff_t(fl.lo));
        fl.done.erase(fl.done.begin(), fl.done.begin() + std::ptrdiff_t(fl.lo));
        fl.lo = 0;
        // The `dead` lowest issue times are all before now: at least `dead` issue times are (the
        // pruned requests'), so any `dead` of the lowest can go in their place.
        fl.issue_sorted.erase(fl.issue_sorted.begin(),
                              fl.issue_sorted.begin() + std::ptrdiff_t(fl.dead));
        fl.dead = 0;
    }
}

// ---- memory requests ---------------------------------------------------------------------------

void Fetcher::trace_in_flight(int change, const sc_time& at) {
    m_in_flight = uint32_t(int(m_in_flight) + change);
    m_max_in_flight.record_max(m_in_flight);
    m_tracer.write(outstanding, m_in_flight, offset_of(at));
    if (m_in_flight == 0)
        m_tracer.write(busy, false, offset_of(at));
    else if (change > 0 && m_in_flight == 1)
        m_tracer.write(busy, true, offset_of(at));
}

tlm_response_status Fetcher::run(std::vector<MemReq>& reqs, const sc_time& start,
                                 const std::function<bool(MemReq&)>& done_fn, sc_time& end) {
    end = start;
    tlm_response_status first_error = TLM_OK_RESPONSE;
    if (!m_at) {
        // LT: sequential calls with annotated issue times through the window. The requests in
        // flight at once are traced from the issue and completion times.
        Window w(*this, start);
        // Its own list: with the 4-phase protocol on mem an LT run waits inside mem_access, and
        // another command's run may start meanwhile.
        std::vector<std::pair<sc_time, int>> events;
        events.reserve(2 * reqs.size());
        for (MemReq& r : reqs) {
            r.issue = w.next_issue();
            const tlm_response_status st = r.status = m_timed_dmi ? timed_access(r) : mem_access(r);
            w.completed(r.issue, r.done);
            events.emplace_back(r.issue, +1);
            events.emplace_back(r.done, -1);
            end = std::max(end, r.done);
            if (st != TLM_OK_RESPONSE) {
                first_error = st;
                break;
            }
            if (done_fn && !done_fn(r)) break;
        }
        std::stable_sort(events.begin(), events.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& e : events) trace_in_flight(e.second, e.first);
        return first_error;
    }
    // AT: the request threads run the transactions; completions come back in time order.
    if (start > sc_time_stamp()) wait(start - sc_time_stamp());
    Batch b;
    for (MemReq& r : reqs) m_queue.emplace_back(&r, &b);
    m_queue_ev.notify();
    bool stop = false;
    for (std::size_t handled = 0; handled < reqs.size();) {
        while (b.finished.empty()) wait(b.ev);
        MemReq& r = *b.finished.front();
        b.finished.pop_front();
        ++handled;
        end = std::max(end, r.done);
        if (stop) continue;
        if (r.status != TLM_OK_RESPONSE) {
            first_error = r.status;
            stop = true;
            // Requests not yet started are dropped; started ones still complete.
            auto before = m_queue.size();
            m_queue.erase(std::remove_if(m_queue.begin(), m_queue.end(),
                                         [&](const auto& q) { return q.second == &b; }),
                          m_queue.end());
            handled += before - m_queue.size();
            continue;
        }
        if (done_fn && !done_fn(r)) stop = true;
    }
    end = std::max(end, sc_time_stamp());
    return first_error;
}

void Fetcher::request_thread() {
    for (;;) {
        while (m_queue.empty()) wait(m_queue_ev);
        auto [r, batch] = m_queue.front();
        m_queue.pop_front();
        r->issue = sc_time_stamp();
        trace_in_flight(+1, r->issue);
        r->status = mem_access(*r);
        trace_in_flight(-1, r->done);
        batch->finished.push_back(r);
        batch->ev.notify();
        // Space issues: the next request of this thread starts no earlier than issue_cycles later.
        if (m_cfg.fetcher.issue_cycles) wait(m_clock * double(m_cfg.fetcher.issue_cycles));
    }
}

bool Fetcher::dmi_lookup(uint64_t addr, uint32_t len, bool write, tlm_dmi*& out) {
    for (auto& d : m_dmi) {
        if (addr >= d.get_start_address() && addr + len - 1 <= d.get_end_address() &&
            (write ? d.is_write_allowed() : d.is_read_allowed())) {
            out = &d;
            return true;
        }
    }
    return false;
}

void Fetcher::invalidate_dmi(sc_dt::uint64 start, sc_dt::uint64 end) {
    drop_timed(start, end);
    m_dmi.erase(std::remove_if(m_dmi.begin(), m_dmi.end(),
                               [&](const tlm_dmi& d) {
                                   return d.get_start_address() <= end &&
                                          d.get_end_address() >= start;
                               }),
                m_dmi.end());
}

tlm_response_status Fetcher::mem_access(MemReq& r) {
    const bool write = r.cmd == TLM_WRITE_COMMAND;
    tlm_dmi* dmi = nullptr;
    if (m_cfg.fetcher.use_dmi && dmi_lookup(r.addr, r.len, write, dmi)) {
        uint8_t* p = dmi->get_dmi_ptr() + (r.addr - dmi->get_start_address());
        if (write)
            std::memcpy(p, r.data, r.len);
        else
            std::memcpy(r.data, p, r.len);
        r.done = r.issue + (write ? dmi->get_write_latency() : dmi->get_read_latency());
        if (m_at) wait(r.done - sc_time_stamp());
        ++m_dmi_accesses;
    } else {
        proto::PooledPayload gp(m_pool);
        proto::prepare(*gp, r.cmd, r.addr, r.data, r.len);
        sc_time delay = offset_of(r.issue);
        mem.transport(*gp, delay);
        r.done = abs_time(delay);
        if (!gp->is_response_ok()) {
            ++m_mem_errors;
            return gp->get_response_status();
        }
        if (m_cfg.fetcher.use_dmi && gp->is_dmi_allowed()) {
            tlm_dmi d;
            if (mem.socket->get_direct_mem_ptr(*gp, d)) m_dmi.push_back(d);
        }
    }
    if (write) {
        m_mem_write_bytes.add(r.head, r.query, r.len);
        m_mem_writes.add(r.head, r.query, 1);
    } else {
        m_mem_read_bytes.add(r.head, r.query, r.len);
        m_mem_reads.add(r.head, r.query, 1);
    }
    return TLM_OK_RESPONSE;
}

// ---- timed DMI (LT) ----------------------------------------------------------------------------

void Fetcher::drop_timed(uint64_t start, uint64_t end) {
    auto overlaps = [&](uint64_t s, uint64_t e) { return s <= end && e >= start; };
    m_timed.erase(std::remove_if(m_timed.begin(), m_timed.end(),
                                 [&](const TimedRegion& t) {
                                     return overlaps(t.dmi.get_start_address(),
                                                     t.dmi.get_end_address());
                                 }),
                  m_timed.end());
    m_untimed.erase(std::remove_if(m_untimed.begin(), m_untimed.end(),
                                   [&](const auto& u) { return overlaps(u.first, u.second); }),
                    m_untimed.end());
}

// The timed-DMI region that holds [addr, addr + len), asking the path for one the first time an
// address is seen; null where the path grants none (remembered for the range it names).
Fetcher::TimedRegion* Fetcher::timed_region(uint64_t addr, uint32_t len) {
    auto holding = [this](uint64_t a) -> TimedRegion* {
        for (TimedRegion& t : m_timed)
            if (a >= t.dmi.get_start_address() && a <= t.dmi.get_end_address()) return &t;
        return nullptr;
    };
    TimedRegion* t = holding(addr);
    if (!t) {
        for (const auto& u : m_untimed)
            if (addr >= u.first && addr <= u.second) return nullptr;
        tlm_generic_payload gp;
        proto::prepare(gp, TLM_READ_COMMAND, addr, nullptr, 0);
        proto::TimingGrant grant;
        gp.set_extension(&grant);
        tlm_dmi dmi;
        const bool granted = mem.socket->get_direct_mem_ptr(gp, dmi);
        gp.clear_extension(&grant);
        const bool usable = granted && grant.timing && dmi.get_dmi_ptr() && dmi.is_read_allowed() &&
                            dmi.is_write_allowed() && addr >= dmi.get_start_address() &&
                            addr <= dmi.get_end_address();
        if (!usable) {
            m_untimed.emplace_back(std::min<uint64_t>(addr, dmi.get_start_address()),
                                   std::max<uint64_t>(addr, dmi.get_end_address()));
            return nullptr;
        }
        m_timed.push_back({dmi, grant.timing, false});
        t = &m_timed.back();
    }
    // An access past the region's end (across two DMI regions) stays a transaction.
    return addr + len - 1 <= t->dmi.get_end_address() ? t : nullptr;
}

tlm_response_status Fetcher::timed_access(MemReq& r) {
    TimedRegion* t = timed_region(r.addr, r.len);
    if (!t) return mem_access(r);
    const bool write = r.cmd == TLM_WRITE_COMMAND;
    if (!t->checked) {
        // The model must say what a real transaction does: a hop that does not know timed DMI
        // (latency, address translation, contention of its own) would make it say otherwise.
        const sc_time predicted = t->timing->predict(write, r.addr, r.len, r.issue);
        const tlm_dmi dmi = t->dmi;
        const tlm_response_status st = mem_access(r);
        if (st != TLM_OK_RESPONSE || r.done != predicted) {
            drop_timed(dmi.get_start_address(), dmi.get_end_address());
            m_untimed.emplace_back(dmi.get_start_address(), dmi.get_end_address());
            if (st == TLM_OK_RESPONSE)
                SC_REPORT_INFO("sprint/fetcher",
                               "timed DMI not used: the path's timing model disagreed with a "
                               "transaction (a hop between the IP and the memory that does not "
                               "take part); every request stays a transaction");
        } else {
            t = timed_region(r.addr, r.len);  // mem_access may have changed m_timed
            if (t) t->checked = true;
        }
        return st;
    }
    uint8_t* p = t->dmi.get_dmi_ptr() + (r.addr - t->dmi.get_start_address());
    if (write)
        std::memcpy(p, r.data, r.len);
    else
        std::memcpy(r.data, p, r.len);
    r.done = t->timing->book(write, r.addr, r.len, r.issue);
    ++m_dmi_accesses;
    (write ? m_mem_write_bytes : m_mem_read_bytes).add(r.head, r.query, r.len);
    (write ? m_mem_writes : m_mem_reads).add(r.head, r.query, 1);
    return TLM_OK_RESPONSE;
}

}  // namespace sprint

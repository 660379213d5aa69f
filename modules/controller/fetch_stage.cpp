// The fetch stages (one per buffer): every chunk of every query made resident by a LoadRows on a
// loader thread, its room reserved in the SRAM buffer first, in issue order; up to
// loads_in_flight loads under way at once, their chunks handed to the compute stage in order.
#include <algorithm>

#include "modules/controller/pipeline.h"

namespace sprint {

using namespace sc_core;
using regs::ErrorCode;

// The loads a fetch stage has under way, oldest first, with the markers (Begin, Softmax, End)
// between them: items reach the compute stage in this order.
class Pipeline::FetchFlight {
  public:
    FetchFlight(Pipeline& p, Stage& s, Channel<Item>& items) : m_p(p), m_s(s), m_items(items) {}

    unsigned loading = 0;  // loads (not markers) under way
    bool front_done() const { return !m_q.empty() && m_q.front()->done; }
    void push(const LoadPtr& l) {
        m_q.push_back(l);
        ++loading;
    }
    void marker(Item::Kind kind, const QueryPtr& q) {
        auto l = std::make_shared<Load>();
        l->item = Item(kind, q);
        m_q.push_back(l);
    }
    // Wait for the oldest to be done (busy time) and hand it over.
    ErrorCode deliver_front() {
        LoadPtr l = m_q.front();
        m_s.stall(
            l->ev, [&] { return l->done; }, m_s.times().busy);
        m_q.pop_front();
        if (l->item.kind == Item::KChunk || l->item.kind == Item::VChunk) --loading;
        if (l->e != ErrorCode::None) return l->e;
        if (l->item.kind == Item::Softmax) m_p.k_fetched(*l->item.q);  // its K rows are loaded
        const QueryPtr q = l->item.q;
        const bool last = l->item.kind == Item::Softmax || l->item.kind == Item::End;
        if (!m_p.m_abort) m_s.put(m_items, std::move(l->item));
        if (last) m_s.done(q->head, q->index);  // the query's last part is the compute stage's
        return ErrorCode::None;
    }
    ErrorCode drain() {
        ErrorCode e = ErrorCode::None;
        while (!m_q.empty() && e == ErrorCode::None) e = deliver_front();
        return e;
    }
    // On an error, loads still running finish before the stage ends (they use this stage's data).
    void wait_all() {
        for (auto& l : m_q)
            m_s.stall(
                l->ev, [&] { return l->done; }, m_s.times().blocked);
    }

  private:
    Pipeline& m_p;
    Stage& m_s;
    Channel<Item>& m_items;
    std::deque<LoadPtr> m_q;
};

ErrorCode Pipeline::run_fetch(Stage& s, Lane& lane, proto::Buffer b) {
    const bool k = b == proto::Buffer::K;
    bool granted = false;
    uint32_t slots = 0;  // rows the buffer holds at this head dimension: the SRAM buffer's to say
    ErrorCode e = reserve(lane, b, 0, nullptr, 0, s, granted, &slots);
    if (e != ErrorCode::None) return e;
    // On-chip pruning decides the V rows only after the softmax: the compute stage fetches them.
    const bool load = k || m_job.opt.mode != core::Mode::OnchipPrune;
    auto& queries = k ? lane.queries_k : lane.queries_v;
    FetchFlight flight(*this, s, k ? lane.k_items : lane.v_items);
    QueryPtr q;
    for (;;) {
        // Nothing more to issue until the next query arrives: hand over what is in flight first.
        if (queries.empty() && (e = flight.drain()) != ErrorCode::None) break;
        if (m_abort || !s.get(queries, q)) break;
        s.take(q->head, q->index);  // held until its closing marker is handed on
        if (k) flight.marker(Item::Begin, q);
        const auto& cand = q->candidates;
        // A query that fits the buffer is one chunk; one that does not goes in half-buffer chunks,
        // so the next chunk loads while the datapath works on the current one.
        const uint32_t cap = cand.size() <= slots ? slots : std::max(1u, slots / 2);
        for (uint32_t a = 0; load && a < cand.size() && !m_abort && e == ErrorCode::None;
             a += cap) {
            while (flight.loading >= m_cfg.controller.loads_in_flight && e == ErrorCode::None)
                e = flight.deliver_front();
            if (e != ErrorCode::None) break;
            auto l = std::make_shared<Load>();
            l->item = Item(k ? Item::KChunk : Item::VChunk, q, a,
                           uint32_t(std::min<std::size_t>(cap, cand.size() - a)));
            l->item.slots.resize(l->item.count);
            if ((e = reserve_in_order(s, lane, b, *q, &cand[a], l->item.count, flight)) !=
                    ErrorCode::None ||
                m_abort)
                break;
            l->done = false;
            flight.push(l);
            l->buffer = b;
            l->start = s.now();
            lane.load_tasks.push_back(l);
            lane.load_task_ev.notify();
        }
        if (e != ErrorCode::None) break;
        flight.marker(k ? Item::Softmax : Item::End, q);
    }
    if (e == ErrorCode::None) e = flight.drain();
    flight.wait_all();
    return e;
}

void Pipeline::k_fetched(const Query& q) {
    if (!readback_head(q.head) || m_k_left[q.head] == 0) return;
    if (--m_k_left[q.head] == 0) m_k_fetched_ev.notify(SC_ZERO_TIME);
}

// Room for a chunk, reserved here in issue order: loads under way at once never take each other's
// room (which could starve the oldest, the one the datapath waits for). While the buffer is full,
// what is ready is handed over: the datapath may need it before it can free room.
ErrorCode Pipeline::reserve_in_order(Stage& s, Lane& l, proto::Buffer b, const Query& q,
                                     const uint32_t* tokens, uint32_t need, FetchFlight& flight) {
    const sc_time t0 = s.now();
    auto counted = [&] {
        return s.times().busy.value() + s.times().starved.value() + s.times().blocked.value();
    };
    const double counted0 = counted();
    ErrorCode e = ErrorCode::None;
    bool granted = false;
    while (!m_abort && e == ErrorCode::None) {
        if ((e = reserve(l, b, q.head, tokens, need, s, granted)) != ErrorCode::None || granted)
            break;
        if (flight.front_done()) {
            e = flight.deliver_front();
            continue;
        }
        s.qk.sync();
        if ((e = reserve(l, b, q.head, tokens, need, s, granted)) != ErrorCode::None || granted)
            break;
        if (!m_abort && !flight.front_done()) wait(l.release_ev | l.load_ev);
    }
    // Waiting for room is blocked time, less what handing over items counted meanwhile.
    s.times().blocked += std::max(0.0, (s.now() - t0).to_seconds() * 1e9 - (counted() - counted0));
    return e;
}

}  // namespace sprint

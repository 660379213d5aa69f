// A pipeline stage of a module (the controller's front, fetch and compute stages): an SC_THREAD
// with its own local time (a tlm_quantumkeeper, so loosely-timed stages decouple) and three
// statistics: busy (issuing work and waiting for it), starved (waiting for input) and blocked
// (waiting for the next stage or for room). Transactions and waits go through it so that the
// three are counted the same way everywhere. Traces its state and, on a QueryMarker, the queries
// it takes up and hands on.
#pragma once

#include <functional>
#include <string>

#include <systemc>
#include <tlm>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "core/stats.h"
#include "modules/common/channel.h"
#include "modules/common/ports.h"
#include "waveforms/query_marker.h"
#include "waveforms/trace_scheduler.h"

namespace sprint {

// A stage's three times, in a statistics group of their own ("stage_<name>").
struct StageTimes {
    core::Duration busy, starved, blocked;
    explicit StageTimes(core::StatGroup& g);
};

// What a stage's `state` waveform shows (waveforms/filters/stage_state.txt names them).
enum StageState : uint32_t { StageIdle = 0, StageBusy = 1, StageStarved = 2, StageBlocked = 3 };

class Stage {
  public:
    explicit Stage(StageTimes& times) : m_times(&times) {}

    // Waveforms: the stage's state (StageState), written through `tracer` (nothing is written
    // while the tracer is off), and the queries it holds, on `marker` (several stages may share
    // one: the write-back threads).
    void trace_to(TraceScheduler& tracer, sc_core::sc_signal<uint32_t>& state) {
        m_tracer = &tracer;
        m_state = &state;
    }
    void mark_with(QueryMarker& marker) { m_marker = &marker; }
    void show(StageState st) {
        if (m_tracer && m_tracer->enabled()) m_tracer->write(*m_state, uint32_t(st), offset());
    }
    // The stage takes query `q` of head `h` up / hands its last part on, at its local time.
    void take(uint32_t h, uint32_t q) {
        if (m_marker) m_marker->take(h, q, offset());
    }
    void done(uint32_t h, uint32_t q) {
        if (m_marker) m_marker->done(h, q, offset());
    }

    tlm_utils::tlm_quantumkeeper qk;
    StageTimes& times() { return *m_times; }
    // The stage's local time: simulated time plus what it has annotated and not yet synchronised.
    sc_core::sc_time now() const { return sc_core::sc_time_stamp() + qk.get_local_time(); }

    // A transaction at the stage's local time (annotated in LT, waited for in AT), counted busy.
    bool call(InitiatorPort& port, tlm::tlm_generic_payload& gp);
    // Synchronise, then wait on `ev` until `ready()`, counting the time in `what`.
    void stall(sc_core::sc_event& ev, const std::function<bool()>& ready, core::Duration& what);
    // Hand over to / take from a queue at the stage's annotated time (blocked / starved time).
    template <class T>
    bool put(Channel<T>& ch, T v) {
        qk.sync();
        const sc_core::sc_time t0 = sc_core::sc_time_stamp();
        show(StageBlocked);
        const bool ok = ch.put(std::move(v));
        show(StageBusy);
        m_times->blocked += ns_since(t0);
        return ok;
    }
    template <class T>
    bool get(Channel<T>& ch, T& v) {
        qk.sync();
        const sc_core::sc_time t0 = sc_core::sc_time_stamp();
        show(StageStarved);
        const bool ok = ch.get(v);
        show(ok ? StageBusy : StageIdle);
        m_times->starved += ns_since(t0);
        return ok;
    }
    static double ns_since(const sc_core::sc_time& t0) {
        return (sc_core::sc_time_stamp() - t0).to_seconds() * 1e9;
    }

  private:
    sc_core::sc_time offset() const { return qk.get_local_time(); }
    StageTimes* m_times;
    TraceScheduler* m_tracer = nullptr;
    sc_core::sc_signal<uint32_t>* m_state = nullptr;
    QueryMarker* m_marker = nullptr;
};

}  // namespace sprint

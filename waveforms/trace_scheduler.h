// Waveform support for loosely-timed models. Under temporal decoupling a module knows the time of
// a state change only as sc_time_stamp() + its local offset, and an sc_signal can only be written
// "now". The TraceScheduler takes a (signal, value, offset) and writes the signal when simulated
// time reaches it, so VCD edges land at the annotated times without forcing a sync (tracing never
// changes timing). When disabled, writes are dropped at no cost.
//
// Bounding the file: a window [t0, t1) of simulated time and a set of heads. While the gate is
// shut (outside the window, or no listed head in the pipeline) writes are held, only the latest
// per signal; when it opens they are written at once, so every signal shows its true value from
// the first traced instant on. The controller reports when each head enters (head-table read) and
// leaves (its last output row written) the pipeline.
//
// Values derived from state several processes change (a stage's oldest query in flight,
// waveforms/query_marker.h): change() runs a change of that state at its annotated time, in time
// order with every other change and write whatever order the processes made them in, gate open
// or not; write_derived() then writes the signal with what the state gives at that time.
#pragma once

#include <functional>
#include <map>
#include <set>

#include <systemc>

namespace sprint {

class TraceScheduler : public sc_core::sc_module {
  public:
    explicit TraceScheduler(const sc_core::sc_module_name& name);

    void enable(bool on) { m_enabled = on; }
    bool enabled() const { return m_enabled; }
    // Before the simulation starts: trace only [t0, t1) and only while one of `heads` (every
    // head when empty) is in the pipeline.
    void bound(const sc_core::sc_time& t0, const sc_core::sc_time& t1,
               const std::set<uint32_t>& heads);

    template <class T>
    void write(sc_core::sc_signal<T>& sig, const T& value, const sc_core::sc_time& offset) {
        if (!m_enabled) return;
        schedule(offset, &sig, [&sig, value] { sig.write(value); });
    }
    // `fn` (a change of state traced values derive from) at sc_time_stamp() + offset.
    void change(const sc_core::sc_time& offset, std::function<void()> fn) {
        if (m_enabled) schedule(offset, nullptr, std::move(fn));
    }
    // `sig` written at sc_time_stamp() + offset with what `value()` gives then (held, like
    // write(), while the gate is shut: then `value()` is taken when it opens).
    template <class T, class F>
    void write_derived(sc_core::sc_signal<T>& sig, const sc_core::sc_time& offset, F value) {
        if (!m_enabled) return;
        schedule(offset, &sig, [&sig, value] { sig.write(value()); });
    }
    // Head `h` of a job enters / leaves the pipeline at sc_time_stamp() + offset.
    void head_begin(uint32_t h, const sc_core::sc_time& offset);
    void head_end(uint32_t h, const sc_core::sc_time& offset);
    // A new job: no head of the previous one (a failed job's) is in the pipeline any more.
    void heads_clear();

  private:
    struct Pending {
        const void* signal;  // nullptr: runs gate or not (a change of the gate or of state)
        std::function<void()> fn;
    };
    void schedule(const sc_core::sc_time& offset, const void* signal, std::function<void()> fn);
    void apply();
    bool open() const;

    bool m_enabled = false;
    bool m_bounded = false;
    sc_core::sc_time m_t0, m_t1;
    bool m_in_window = true;
    std::set<uint32_t> m_heads;                           // listed heads (empty: all)
    std::map<uint32_t, int> m_active;                     // listed heads in the pipeline
    std::map<const void*, std::function<void()>> m_held;  // latest write per signal, gate shut
    std::multimap<sc_core::sc_time, Pending> m_pending;
    sc_core::sc_event m_wake;
};

}  // namespace sprint

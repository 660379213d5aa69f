// Waveform support for loosely-timed models. Under temporal decoupling a module knows the time of
// a state change only as sc_time_stamp() + its local offset, and an sc_signal can only be written
// "now". The TraceScheduler takes a (signal, value, offset) and writes the signal when simulated
// time reaches it, so VCD edges land at the annotated times without forcing a sync (tracing never
// changes timing). When disabled, writes are dropped at no cost.
#pragma once

#include <functional>
#include <map>

#include <systemc>

namespace sprint {

class TraceScheduler : public sc_core::sc_module {
  public:
    explicit TraceScheduler(const sc_core::sc_module_name& name);

    void enable(bool on) { m_enabled = on; }
    bool enabled() const { return m_enabled; }

    template <class T>
    void write(sc_core::sc_signal<T>& sig, const T& value, const sc_core::sc_time& offset) {
        if (!m_enabled) return;
        schedule(offset, [&sig, value] { sig.write(value); });
    }

  private:
    void schedule(const sc_core::sc_time& offset, std::function<void()> fn);
    void apply();

    bool m_enabled = false;
    std::multimap<sc_core::sc_time, std::function<void()>> m_pending;
    sc_core::sc_event m_wake;
};

}  // namespace sprint

#include "modules/common/stage.h"

namespace sprint {

using namespace sc_core;

StageTimes::StageTimes(core::StatGroup& g)
    : busy(g, "busy_ns", "ns", "issuing work and waiting for its completion"),
      starved(g, "starved_ns", "ns", "waiting for input from the previous stage"),
      blocked(g, "blocked_ns", "ns", "waiting for the next stage or for SRAM room") {}

bool Stage::call(InitiatorPort& port, tlm::tlm_generic_payload& gp) {
    const sc_time before = now();
    sc_time d = qk.get_local_time();
    port.transport(gp, d);
    qk.set(d);
    m_times->busy += (now() - before).to_seconds() * 1e9;
    if (qk.need_sync()) qk.sync();
    return gp.is_response_ok();
}

void Stage::stall(sc_event& ev, const std::function<bool()>& ready, core::Duration& what) {
    qk.sync();  // may let time pass: check the condition only afterwards
    const sc_time t0 = sc_time_stamp();
    if (!ready()) {
        show(&what == &m_times->starved ? StageStarved : StageBlocked);
        while (!ready()) wait(ev);
        show(StageBusy);
    }
    what += ns_since(t0);
}

}  // namespace sprint

// Scaffold "after_run" of the docs' C++ examples (testbenches/doc_examples_test.sh): statements
// run after sc_start, given `sprint`, a SprintIp of the default configuration bound to `router`
// (scaffold.h). The example's #include lines go at @INCLUDES@ and its statements at @BODY@; a
// statistic path the IP does not have throws, and fails the example.
#include <systemc>

#include "modules/sprint_ip.h"
#include "scaffold.h"

// @INCLUDES@

int sc_main(int, char*[]) {
    doc_examples::Router router("router");
    sc_core::sc_signal<bool> irq_signal("irq_signal");
    sprint::SprintIp sprint("sprint", sprint::IpConfig{});
    router.initiator_socket[0].bind(sprint.csr);
    sprint.mem.bind(router.target_socket[0]);
    sprint.irq(irq_signal);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
    // @BODY@
    return 0;
}

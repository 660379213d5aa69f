// Scaffold "elaboration" of the docs' C++ examples (testbenches/doc_examples_test.sh): statements
// of a platform's elaboration, given `router` (scaffold.h), the socket indices `n` and `m`,
// `irq_signal` (an sc_signal<bool>) and `tf` (a trace file). The example's #include lines go at
// @INCLUDES@ and its statements at @BODY@; the platform is then elaborated and run for zero
// time, so an example that leaves a port unbound fails as well as one that does not compile.
#include <systemc>

#include "scaffold.h"

// @INCLUDES@

int sc_main(int, char*[]) {
    doc_examples::Router router("router");
    const unsigned n = 0, m = 0;
    sc_core::sc_signal<bool> irq_signal("irq_signal");
    sc_core::sc_trace_file* tf = sc_core::sc_create_vcd_trace_file("elaboration");
    // @BODY@
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
    sc_core::sc_close_vcd_trace_file(tf);
    return 0;
}

// sprint-sim: the standalone simulator of the SPRINT IP (see README.md and --help).
#include <cstdlib>
#include <iostream>

#include <systemc>

#include "platforms/sim/simulator.h"

int sc_main(int argc, char* argv[]) {
    return sprint::platform::run_simulator(argc, argv, std::cout, std::cerr);
}

// Our own entry point, so the kernel's banner is switched off before the kernel prints it into
// the middle of the tool's output; sc_elab_and_sim then calls sc_main as usual.
int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}

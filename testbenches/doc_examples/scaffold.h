// What the docs' C++ examples may take as given (testbenches/doc_examples_test.sh): the parts of
// a reader's platform that the sentence before an example names. `router` stands for the
// interconnect: initiator sockets towards targets (the IP's csr), target sockets from initiators
// (the IP's mem). It sends nothing; the examples run for zero time.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

namespace doc_examples {

struct Router : sc_core::sc_module {
    // One of each, so that an example that leaves the IP's csr or mem unbound leaves one of
    // these unbound too, and elaboration fails.
    sc_core::sc_vector<tlm_utils::simple_initiator_socket<Router, 32>> initiator_socket{
        "initiator_socket", 1};
    sc_core::sc_vector<tlm_utils::simple_target_socket<Router, 32>> target_socket{"target_socket",
                                                                                  1};
    explicit Router(const sc_core::sc_module_name& name) : sc_module(name) {}
};

}  // namespace doc_examples

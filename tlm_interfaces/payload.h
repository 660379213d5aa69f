// Setting up a generic payload for a new transaction on the IP's links: every attribute the base
// protocol requires an initiator to set, in one place.
#pragma once

#include <cstdint>

#include <tlm>

namespace sprint::proto {

// Command, address, data and length; streaming width = length; no byte enables; DMI hint cleared;
// response status INCOMPLETE. Extensions are left as they are.
inline void prepare(tlm::tlm_generic_payload& gp, tlm::tlm_command cmd, uint64_t addr, void* data,
                    unsigned len) {
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(static_cast<unsigned char*>(data));
    gp.set_data_length(len);
    gp.set_streaming_width(len);
    gp.set_byte_enable_ptr(nullptr);
    gp.set_byte_enable_length(0);
    gp.set_dmi_allowed(false);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
}

}  // namespace sprint::proto

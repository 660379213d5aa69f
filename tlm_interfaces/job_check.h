// Whether a job may run on a configuration: the one rule the IP applies at CTRL.START, the
// command line applies before simulating, and the capability registers are derived from
// (docs/registers.md, "When a job fails"). SystemC-free.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tlm_interfaces/ip_config.h"
#include "tlm_interfaces/register_map.h"

namespace sprint {

// The checks in their documented order; the first that fails gives the error code. `why`, when
// given, receives a sentence naming the limit and the parameter behind it.
regs::ErrorCode check_job(const IpConfig& cfg, const regs::JobRegs& job,
                          std::string* why = nullptr);

uint32_t capability_max_seq(const IpConfig& cfg);
uint32_t capability_max_dim(const IpConfig& cfg);
// The capability registers and their values in this configuration ({offset, value}): what the
// controller loads at reset and --dump-regmap shows.
std::vector<std::pair<uint32_t, uint32_t>> capability_registers(const IpConfig& cfg);

}  // namespace sprint

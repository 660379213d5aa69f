// Run metadata: the tool's version (the CMake project version) and the git commit it was built
// from (`git describe --always --dirty`, "unknown" outside a git checkout; written at every
// build), the host's name and the time, for the stats JSON, dumped configurations and sweeps.
#pragma once

#include <string>

namespace sprint::platform {

const char* tool_version();
const char* tool_commit();
std::string host_name();
// Now, UTC, as 2026-12-02T15:04:05Z.
std::string utc_timestamp();

}  // namespace sprint::platform

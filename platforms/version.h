// The tool's version (the CMake project version) and the git commit it was built from
// (`git describe --always --dirty`, "unknown" outside a git checkout), written at every build.
#pragma once

namespace sprint::platform {

const char* tool_version();
const char* tool_commit();

}  // namespace sprint::platform

// sprint-sim: build the workload, check it against the configuration, simulate the job (and the
// dense baseline) on the standalone platform, check the IP's output against the core's bit-exact
// reference, print the summary and write the requested files.
#pragma once

#include <iosfwd>

namespace sprint::platform {

// Exit codes.
constexpr int kExitOk = 0;
constexpr int kExitJobProblem = 1;  // a job failed or its output differs from the reference
constexpr int kExitBadInput = 2;    // bad option, parameter or file: nothing was simulated

int run_simulator(int argc, const char* const argv[], std::ostream& out, std::ostream& err);

}  // namespace sprint::platform

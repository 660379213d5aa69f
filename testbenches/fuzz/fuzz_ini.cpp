// Fuzz target: sprint-sim's INI config file (--config, platforms/sim/cli.h), read and checked the
// way `sprint-sim --config FILE` does before it simulates.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "platforms/sim/cli.h"
#include "testbenches/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static sprint::fuzz::InputFile file(".ini");
    const std::string& path = file.hold(data, size);
    const char* argv[] = {"sprint-sim", "--config", path.c_str()};
    try {
        sprint::platform::Arguments args;
        (void)args.parse(3, argv);
        (void)args.config_text();
    } catch (const std::runtime_error&) {
    }
    return 0;
}

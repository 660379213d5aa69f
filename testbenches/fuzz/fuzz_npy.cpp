// Fuzz target: the .npy reader (platforms/sim/npy_io.h): the header check alone, then the whole
// load.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "platforms/sim/npy_io.h"
#include "testbenches/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static sprint::fuzz::InputFile file(".npy");
    const std::string& path = file.hold(data, size);
    try {
        (void)sprint::platform::npy_shape(path);
    } catch (const std::runtime_error&) {
    }
    try {
        (void)sprint::platform::load_tensor_npy(path);
    } catch (const std::runtime_error&) {
    }
    return 0;
}

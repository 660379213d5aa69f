// Fuzz target: Accelergy ERT/ART tables (platforms/sim/accelergy.h, `--tech ERT.yaml`), read
// against the built-in table and laid over it as sprint-sim does.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/energy.h"
#include "platforms/sim/accelergy.h"
#include "testbenches/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    static sprint::fuzz::InputFile file(".yaml");
    const std::string& path = file.hold(data, size);
    try {
        sprint::core::TechTable table = sprint::core::TechTable::defaults();
        std::vector<std::string> ignored;
        table.apply(sprint::tech_from_accelergy(path, table, 1.0, ignored));
        (void)table.to_json().dump();
    } catch (const std::runtime_error&) {
    }
    return 0;
}

// Fuzz target: sweep specs (platforms/sweep/spec.h): parsed, expanded when small enough to expand
// at fuzzing speed, and every constraint evaluated on the first points.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "platforms/sweep/spec.h"
#include "testbenches/fuzz/fuzz_common.h"

namespace {

using namespace sprint::sweep;

// A spec up to kMaxPoints points and kMaxExpansionBytes expands, but that takes seconds each
// time; the counts that decide it are checked on every input all the same.
constexpr uint64_t kExpandPointsAtMost = 4096, kExpandBytesAtMost = uint64_t(32) << 20;
constexpr std::size_t kPointsChecked = 16;

void check_constraints(const Spec& spec, const Point& p) {
    const Lookup lookup = [&](const std::string& name) -> std::optional<Value> {
        for (const auto& [n, v] : p.options)
            if (n == name) return Value::of(v);
        return std::nullopt;
    };
    for (const Expr& c : spec.constraints) {
        try {
            (void)c.eval(lookup);
        } catch (const std::runtime_error&) {
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    try {
        const Spec spec = parse_spec(sprint::fuzz::text_of(data, size), "fuzz.yaml", "/fuzz");
        if (point_count(spec) > kExpandPointsAtMost) return 0;
        if (expansion_bytes(spec) > kExpandBytesAtMost) return 0;
        const std::vector<Point> points = expand(spec);
        for (std::size_t i = 0; i < std::min(points.size(), kPointsChecked); ++i)
            check_constraints(spec, points[i]);
    } catch (const std::runtime_error&) {
    }
    return 0;
}

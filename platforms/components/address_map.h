// Address map of the standalone platform (platforms/components/standalone_platform.h): where the
// router places the DRAM and the SPRINT register window, and where the host driver puts a job's
// buffers.
#pragma once

#include <cstdint>

namespace sprint::platform {

constexpr uint64_t kDefaultDramBase = 0x8000'0000ull;  // DRAM, size from dram.size_mb
constexpr uint64_t kDefaultCsrBase = 0x1000'0000ull;   // SPRINT csr window (4 KiB)

// Round up to the IP's base alignment.
constexpr uint64_t align_up(uint64_t x, uint64_t a) {
    return (x + a - 1) / a * a;
}

}  // namespace sprint::platform

// .npy input and output through xtensor's reader/writer (Debian libxtensor-dev), with the checks
// a simulator needs before it trusts a file: dtype float32, 2 or 3 dimensions, declared size
// consistent with the file (no truncated or padded data), finite values.
#pragma once

#include <string>

#include "core/types.h"

namespace sprint::platform {

// The shape of the array in a .npy file, from its header alone: the same checks as
// load_tensor_npy except the finite-value check (nothing but the header is read).
struct NpyShape {
    int heads = 1, n = 0, d = 0;
};
NpyShape npy_shape(const std::string& path);

// Load a float32 array of shape [heads, n, d] or [n, d] (heads = 1). Throws std::runtime_error
// with a message that names the file and the problem.
core::Tensor3 load_tensor_npy(const std::string& path);
// The bytes of a .npy file holding `t` as float32 [heads, n, d].
std::string npy_bytes(const core::Tensor3& t);
// Write [heads, n, d] float32 (every write checked; throws naming the file).
void save_tensor_npy(const std::string& path, const core::Tensor3& t);

}  // namespace sprint::platform

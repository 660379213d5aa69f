#include "platforms/npy_io.h"

#include <cmath>
#include <fstream>
#include <stdexcept>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

namespace sprint::platform {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw std::runtime_error("file '" + path + "': " + what);
}

std::string shape_text(const std::vector<std::size_t>& s) {
    std::string t = "(";
    for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
    return t + ")";
}

}  // namespace

core::Tensor3 load_tensor_npy(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) fail(path, "cannot be opened for reading");
    const std::streamoff file_size = in.tellg();
    in.seekg(0);
    // Read the header with xtensor's parser first, so the declared size can be checked against the
    // file before any data buffer is allocated.
    std::string descr;
    bool fortran = false;
    std::vector<std::size_t> shape;
    std::streamoff header_end = 0;
    try {
        unsigned char major = 0, minor = 0;
        xt::detail::read_magic(in, &major, &minor);
        std::string header;
        if (major == 1 && minor == 0) header = xt::detail::read_header_1_0(in);
        else if (major == 2 && minor == 0) header = xt::detail::read_header_2_0(in);
        else fail(path, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
        xt::detail::parse_header(header, descr, &fortran, shape);
        header_end = in.tellg();
    } catch (const std::runtime_error& e) {
        const std::string msg = e.what();
        if (msg.rfind("file '", 0) == 0) throw;
        fail(path, "is not a valid .npy file (" + msg + ")");
    }
    if (descr != "<f4")
        fail(path, "has dtype '" + descr + "'; float32 ('<f4') is required (in numpy: x.astype(np.float32))");
    if (shape.size() != 2 && shape.size() != 3)
        fail(path, "has shape " + shape_text(shape) + "; [heads, N, d] or [N, d] is required");
    uint64_t count = 1;
    for (std::size_t s : shape) {
        if (s == 0) fail(path, "has shape " + shape_text(shape) + " with a zero dimension");
        if (count > (uint64_t(1) << 40) / s) fail(path, "declares an absurdly large shape " + shape_text(shape));
        count *= s;
    }
    if (uint64_t(file_size - header_end) != count * 4)
        fail(path, "declares shape " + shape_text(shape) + " (" + std::to_string(count * 4) +
                       " data bytes) but holds " + std::to_string(file_size - header_end) +
                       " data bytes (truncated or corrupt)");
    in.seekg(0);
    xt::xarray<float> a;
    try {
        a = xt::load_npy<float>(in);
    } catch (const std::exception& e) {
        fail(path, std::string("could not be read: ") + e.what());
    }
    const int heads = shape.size() == 3 ? int(shape[0]) : 1;
    const int n = int(shape[shape.size() - 2]), d = int(shape[shape.size() - 1]);
    core::Tensor3 t(heads, n, d);
    // xarray iteration is in row-major order whatever the file's layout.
    std::size_t i = 0;
    for (float v : a) {
        if (!std::isfinite(v)) fail(path, "contains a non-finite value (NaN or infinity) at flat index " + std::to_string(i));
        t.data[i++] = v;
    }
    return t;
}

void save_tensor_npy(const std::string& path, const core::Tensor3& t) {
    std::vector<std::size_t> shape = {std::size_t(t.heads), std::size_t(t.n), std::size_t(t.d)};
    auto view = xt::adapt(t.data.data(), t.data.size(), xt::no_ownership(), shape);
    try {
        xt::dump_npy(path, view);
    } catch (const std::exception& e) {
        throw std::runtime_error("file '" + path + "': cannot be written (" + e.what() + ")");
    }
}

}  // namespace sprint::platform

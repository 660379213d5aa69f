#include "platforms/sim/npy_io.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include "core/params.h"
#include "core/quant.h"

namespace sprint::platform {

namespace {

// The shortest decimal that reads back as `v` (a float32 value as the file holds it).
std::string shortest(float v) {
    for (int prec = 6;; ++prec) {
        std::ostringstream os;
        os.precision(prec);
        os << v;
        if (prec == 9 || std::strtof(os.str().c_str(), nullptr) == v) return os.str();
    }
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw std::runtime_error("file '" + path + "': " + what);
}

std::string shape_text(const std::vector<std::size_t>& s) {
    std::string t = "(";
    for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
    return t + ")";
}

// The header dictionary of a .npy file, its length checked against the file before it is read.
// Not xtensor's read_header_1_0/2_0: they decode the length bytes as (signed) char, so a length
// byte >= 0x80 becomes a huge or negative length (a valid 150-byte header is rejected, a 140-byte
// v2 header reads as ~4 GiB), and they allocate whatever length the file declares.
std::string read_header(std::istream& in, const std::string& path, uint64_t file_size) {
    unsigned char pre[12];
    if (!in.read(reinterpret_cast<char*>(pre), 8) || std::memcmp(pre, "\x93NUMPY", 6) != 0)
        fail(path, "is not a valid .npy file (no \\x93NUMPY magic string)");
    const unsigned major = pre[6], minor = pre[7];
    if ((major != 1 && major != 2) || minor != 0)
        fail(path, "is not a .npy file this reader takes (format version " + std::to_string(major) +
                       "." + std::to_string(minor) + "; 1.0 and 2.0 are supported)");
    const unsigned len_bytes = major == 1 ? 2 : 4;
    if (!in.read(reinterpret_cast<char*>(pre + 8), len_bytes))
        fail(path, "is not a valid .npy file (it ends inside the header length)");
    uint64_t len = 0;
    for (unsigned i = 0; i < len_bytes; ++i) len |= uint64_t(pre[8 + i]) << (8 * i);
    const uint64_t start = 8 + len_bytes;
    if (len == 0 || len > file_size - start)
        fail(path, "is not a valid .npy file (its header declares " + std::to_string(len) +
                       " bytes; the file has " + std::to_string(file_size - start) +
                       " after the prefix)");
    std::string header(std::size_t(len), '\0');
    if (!in.read(header.data(), std::streamsize(len))) fail(path, "could not be read (header)");
    return header;
}

}  // namespace

namespace {

// Opens the file and checks its header: dtype, rank, dimensions and the data size against the
// file size. Leaves `in` at the first data byte.
NpyShape open_checked(std::ifstream& in, const std::string& path, bool& fortran,
                      std::vector<std::size_t>& shape) {
    in.open(path, std::ios::binary | std::ios::ate);
    if (!in) fail(path, "cannot be opened for reading");
    const std::streamoff end = in.tellg();
    if (end < 0) fail(path, "cannot be read (its size is unknown)");
    const uint64_t file_size = uint64_t(end);
    in.seekg(0);
    const std::string header = read_header(in, path, file_size);
    const uint64_t header_end = uint64_t(in.tellg());
    // The dictionary is parsed by xtensor's improvised parser, which takes the keys in numpy's
    // order by position, reads each dimension with operator>> ("-1" as 2^64 - 1, "3.5" as 3) and
    // is undefined on headers it does not expect (a key without its ':'). So the header must first
    // be the dictionary numpy writes: the three keys in that order, a quoted dtype, True or False,
    // a tuple of non-negative integers, blanks where numpy may put them, and the newline.
    if (header.back() != '\n')
        fail(path, "is not a valid .npy file (its header does not end with a newline)");
    // The dictionary without numpy's padding (blanks before the newline, any amount) is a few
    // hundred bytes; a bound on it keeps the match cheap.
    const std::size_t dict_end = header.find_last_not_of(" \n") + 1;
    constexpr std::size_t kDictMax = 8192;
    if (dict_end > kDictMax)
        fail(path, "is not a .npy file this reader takes (a header dictionary of " +
                       std::to_string(dict_end) + " bytes; numpy writes a few hundred)");
    static const std::regex numpy_dict(
        R"(\{ *'descr' *: *'[^']*' *, *'fortran_order' *: *(True|False) *, *)"
        R"('shape' *: *\( *([0-9]+ *, *)*([0-9]+ *)?\) *,? *\})");
    if (!std::regex_match(header.begin(), header.begin() + std::ptrdiff_t(dict_end), numpy_dict))
        fail(path,
             "is not a valid .npy file (its header is not numpy's {'descr': ..., "
             "'fortran_order': ..., 'shape': (...), } dictionary of non-negative dimensions)");
    std::string descr;
    try {
        xt::detail::parse_header(header, descr, &fortran, shape);
    } catch (const std::exception& e) {
        fail(path, std::string("is not a valid .npy file (") + e.what() + ")");
    }
    if (descr != "<f4")
        fail(path, "has dtype '" + descr +
                       "'; float32 ('<f4') is required (in numpy: x.astype(np.float32))");
    if (shape.size() != 2 && shape.size() != 3)
        fail(path, "has " +
                       (shape.size() > 8 ? std::to_string(shape.size()) + " dimensions"
                                         : "shape " + shape_text(shape)) +
                       "; [heads, N, d] or [N, d] is required");
    uint64_t count = 1;
    for (std::size_t s : shape) {
        if (s == 0) fail(path, "has shape " + shape_text(shape) + " with a zero dimension");
        if (s > uint64_t(INT32_MAX))
            fail(path, "declares an absurdly large shape " + shape_text(shape));
        if (count > (uint64_t(1) << 40) / s)
            fail(path, "declares an absurdly large shape " + shape_text(shape));
        count *= s;
    }
    if (file_size - header_end != count * 4)
        fail(path, "declares shape " + shape_text(shape) + " (" + std::to_string(count * 4) +
                       " data bytes) but holds " + std::to_string(file_size - header_end) +
                       " data bytes (truncated or corrupt)");
    NpyShape r;
    r.heads = shape.size() == 3 ? int(shape[0]) : 1;
    r.n = int(shape[shape.size() - 2]);
    r.d = int(shape[shape.size() - 1]);
    return r;
}

}  // namespace

NpyShape npy_shape(const std::string& path) {
    std::ifstream in;
    bool fortran = false;
    std::vector<std::size_t> shape;
    return open_checked(in, path, fortran, shape);
}

core::Tensor3 load_tensor_npy(const std::string& path) {
    std::ifstream in;
    bool fortran = false;
    std::vector<std::size_t> shape;
    const NpyShape sh = open_checked(in, path, fortran, shape);
    const uint64_t count = uint64_t(sh.heads) * sh.n * sh.d;
    core::Tensor3 t(sh.heads, sh.n, sh.d);
    // '<f4' is the host's float on the little-endian machines the simulator runs on.
    static_assert(sizeof(float) == 4, "float32 expected");
    if (!in.read(reinterpret_cast<char*>(t.data.data()), std::streamsize(count * 4)))
        fail(path, "could not be read (data)");
    if (fortran) {
        // Column-major data: reorder into the row-major tensor.
        const std::vector<float> col(t.data.begin(), t.data.end());
        auto view = xt::adapt<xt::layout_type::column_major>(col.data(), col.size(),
                                                             xt::no_ownership(), shape);
        std::size_t i = 0;
        for (float v : view) t.data[i++] = v;  // iteration is row-major whatever the layout
    }
    for (std::size_t i = 0; i < t.data.size(); ++i) {
        if (!std::isfinite(t.data[i]))
            fail(path, "contains a non-finite value (NaN or infinity) at flat index " +
                           std::to_string(i));
        if (std::fabs(double(t.data[i])) > core::kInputMagnitudeMax)
            fail(path, "holds " + shortest(t.data[i]) + " at flat index " + std::to_string(i) +
                           ": the model takes |x| up to " +
                           core::format_double(core::kInputMagnitudeMax) +
                           " (scores and scales stay finite in float32)");
    }
    return t;
}

std::string npy_bytes(const core::Tensor3& t) {
    std::vector<std::size_t> shape = {std::size_t(t.heads), std::size_t(t.n), std::size_t(t.d)};
    auto view = xt::adapt(t.data.data(), t.data.size(), xt::no_ownership(), shape);
    return xt::dump_npy(view);
}

void save_tensor_npy(const std::string& path, const core::Tensor3& t) {
    const std::string bytes = npy_bytes(t);
    std::ofstream f(path, std::ios::binary);
    f.write(bytes.data(), std::streamsize(bytes.size()));
    f.close();
    if (!f) throw std::runtime_error("file '" + path + "': cannot be written");
}

}  // namespace sprint::platform

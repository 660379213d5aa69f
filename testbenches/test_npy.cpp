// The .npy reader on its own (no simulation): header lengths decoded unsigned and checked against
// the file before anything is allocated, both format versions, Fortran order, and every malformed
// header refused with a message naming the file.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cli_fixtures.h"
#include "platforms/sim/npy_io.h"

using namespace sprint;
using namespace sprint::test;

namespace {

std::vector<float> ramp(std::size_t n) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = float(i) * 0.25f - 3.0f;
    return v;
}

// The error message of loading `path`, or "" if it loaded.
std::string load_error(const std::string& path) {
    try {
        platform::load_tensor_npy(path);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("npy: headers with length bytes of 0x80 and above load (version 1.0 and 2.0)") {
    TempDir dir;
    const std::vector<float> v = ramp(2 * 3 * 4);
    // 150 = 0x96 and 140 = 0x8C: a reader that decodes the length as signed char misreads both.
    for (auto [version, bytes] : {std::pair{1u, std::size_t(150)}, std::pair{2u, std::size_t(140)},
                                  std::pair{2u, std::size_t(0x80 + 0x8000)}}) {
        CAPTURE(version, bytes);
        const std::string f = dir.file("h.npy");
        write_npy_raw(f, "<f4", "(2, 3, 4)", float_bytes(v), false, version, bytes);
        const core::Tensor3 t = platform::load_tensor_npy(f);
        CHECK(t.heads == 2);
        CHECK(t.n == 3);
        CHECK(t.d == 4);
        CHECK(t.data == v);
    }
}

TEST_CASE("npy: a declared header length beyond the file is refused at once, naming the file") {
    TempDir dir;
    const std::string f = dir.file("huge.npy");
    // 27 bytes: magic, version 2.0, a header length of 0xFFFFFFF0 and a few bytes.
    std::string b = "\x93NUMPY";
    b += {'\x02', '\x00', '\xF0', '\xFF', '\xFF', '\xFF'};
    b += "{'descr': '<f4'";
    write_text(f, b);
    REQUIRE(b.size() == 27);
    const std::string e = load_error(f);  // refused from the header length, nothing allocated
    CHECK_THAT(e, Catch::Contains(f) && Catch::Contains("4294967280") && Catch::Contains("15"));
    // Version 1.0 with a length of 0xFFFF in a short file.
    std::string c = "\x93NUMPY";
    c += {'\x01', '\x00', '\xFF', '\xFF'};
    c += "{'descr': '<f4'}\n";
    write_text(f, c);
    CHECK_THAT(load_error(f), Catch::Contains(f) && Catch::Contains("65535"));
}

TEST_CASE("npy: malformed headers are refused with the file named") {
    TempDir dir;
    const std::string f = dir.file("bad.npy");
    const std::string data = float_bytes(ramp(12));
    struct Case {
        const char* what;
        std::string file;
        const char* says;
    };
    std::string zero_len = "\x93NUMPY";
    zero_len += {'\x01', '\x00', '\x00', '\x00'};
    std::string v3 = "\x93NUMPY";
    v3 += {'\x03', '\x00', '\x10', '\x00'};
    v3 += std::string(16, ' ');
    std::string short_len = "\x93NUMPY";
    short_len += {'\x02', '\x00', '\x10'};
    std::vector<Case> cases = {{"zero-length header", zero_len, "declares 0 bytes"},
                               {"format version 3.0", v3, "version 3.0"},
                               {"file ends in the header length", short_len, "header length"}};
    for (const auto& c : cases) {
        CAPTURE(c.what);
        write_text(f, c.file);
        CHECK_THAT(load_error(f), Catch::Contains(f) && Catch::Contains(c.says));
    }
    // Dimensions that operator>> would take as 2^64 - 1, 3 or 0.
    for (const char* shape : {"(-1, 12)", "(3.5, 4)", "(x, 12)", "[3, 4]"}) {
        CAPTURE(shape);
        write_npy_raw(f, "<f4", shape, data);
        CHECK_THAT(load_error(f), Catch::Contains(f) && Catch::Contains("'shape'"));
    }
    // A header without its trailing newline.
    std::string no_nl = "\x93NUMPY";
    const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
    no_nl += {'\x01', '\x00', char(dict.size()), '\x00'};
    write_text(f, no_nl + dict + data);
    CHECK_THAT(load_error(f), Catch::Contains(f) && Catch::Contains("newline"));
}

TEST_CASE("npy: Fortran-order files are reordered to row-major") {
    TempDir dir;
    const std::string f = dir.file("fortran.npy");
    // A [2, 3] array [[0, 1, 2], [3, 4, 5]] stored column by column.
    const std::vector<float> col = {0, 3, 1, 4, 2, 5};
    write_npy_raw(f, "<f4", "(2, 3)", float_bytes(col), true);
    const core::Tensor3 t = platform::load_tensor_npy(f);
    CHECK(t.n == 2);
    CHECK(t.d == 3);
    CHECK(t.data == std::vector<float>{0, 1, 2, 3, 4, 5});
}

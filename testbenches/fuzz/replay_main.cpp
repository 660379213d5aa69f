// The fuzz targets without libFuzzer: every file named (or in a folder named) on the command line
// goes once through the target's LLVMFuzzerTestOneInput, in name order. ctest runs it over the
// target's seed corpus and recorded findings (testbenches/fuzz/corpus, regressions), so they are
// replayed by the default test command and under --sanitize; a crash fails the test, and the
// last line printed names the input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> inputs(const std::vector<std::string>& args) {
    std::vector<fs::path> out;
    for (const auto& a : args) {
        if (!fs::is_directory(a)) {
            out.emplace_back(a);
            continue;
        }
        std::vector<fs::path> in_dir;
        for (const auto& e : fs::recursive_directory_iterator(a))
            if (e.is_regular_file()) in_dir.push_back(e.path());
        std::sort(in_dir.begin(), in_dir.end());
        out.insert(out.end(), in_dir.begin(), in_dir.end());
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " FILE|FOLDER...\n";
        return 2;
    }
    std::size_t n = 0;
    for (const fs::path& p : inputs({argv + 1, argv + argc})) {
        std::ifstream in(p, std::ios::binary);
        if (!in) {
            std::cerr << "cannot read " << p << "\n";
            return 1;
        }
        const std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
        std::cout << "input " << p.string() << " (" << bytes.size() << " bytes)" << std::endl;
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
        ++n;
    }
    if (n == 0) {
        std::cerr << "no inputs\n";
        return 1;
    }
    std::cout << n << " inputs, no crash" << std::endl;
    return 0;
}

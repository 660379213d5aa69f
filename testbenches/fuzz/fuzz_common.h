// What the fuzz targets share (docs/fuzzing.md): the input as text, and a file holding it for the
// parsers that take a path. Each target defines LLVMFuzzerTestOneInput; libFuzzer drives it in
// the fuzz build (SPRINT_FUZZ=ON), replay_main.cpp replays the seeds and findings in the normal
// one. A target catches the errors its parser documents (std::runtime_error, which a user sees as a
// message) and nothing else: a crash, a sanitizer report, a hang, unbounded memory or any other
// exception (std::bad_alloc, std::invalid_argument from a bare stod) is a finding.
#pragma once

#include <stdlib.h>
#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

namespace sprint::fuzz {

inline std::string text_of(const uint8_t* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

// One temporary file per process (libFuzzer's -jobs run several), rewritten for every input and
// removed at exit. Its name ends in `suffix`, as a user's file would.
class InputFile {
  public:
    explicit InputFile(const std::string& suffix) {
        const char* tmp = getenv("TMPDIR");
        std::string pattern =
            std::string(tmp && *tmp ? tmp : "/tmp") + "/sprint-fuzz-XXXXXX" + suffix;
        const int fd = mkstemps(pattern.data(), int(suffix.size()));
        if (fd < 0) harness_failure("cannot create " + pattern);
        close(fd);
        m_path = pattern;
    }
    ~InputFile() { unlink(m_path.c_str()); }
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    // The file now holding exactly these bytes.
    const std::string& hold(const uint8_t* data, std::size_t size) {
        std::ofstream out(m_path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
        out.close();
        if (!out) harness_failure("cannot write " + m_path);
        return m_path;
    }

  private:
    // The harness's own fault (a full /tmp), said as such rather than left to look like a parser's.
    [[noreturn]] static void harness_failure(const std::string& what) {
        std::fprintf(stderr, "sprint fuzz harness: %s\n", what.c_str());
        std::abort();
    }
    std::string m_path;
};

}  // namespace sprint::fuzz

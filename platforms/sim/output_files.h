// The output files of one run, all or nothing. Each requested file is written to a temporary file
// beside its destination (same directory, so the final rename is atomic) and renamed over the
// destination only by commit(), once the whole run succeeded; otherwise the temporaries are
// removed (also on SIGINT, SIGTERM and SIGHUP), so a failed run leaves no partial or empty file
// behind and an existing file keeps its old contents. Every write, flush and close is checked: a
// full disk is an error naming the option and the path.
//
// A destination that exists and is not a regular file (a character device such as /dev/null or
// /dev/full, a FIFO) cannot be renamed over: it is written directly, still checked. A symbolic
// link is followed: the file it names is written (the link stays a link).
//
// No output may be an input of the run (input()): a run never destroys a file it reads.
//
// Writers that open their own file (SystemC's VCD writer) get a relay: a FIFO path they open,
// whose bytes a helper thread copies into the output with checked writes.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sprint::platform {

class OutputFiles {
  public:
    OutputFiles();
    ~OutputFiles();  // removes every temporary not committed
    OutputFiles(const OutputFiles&) = delete;
    OutputFiles& operator=(const OutputFiles&) = delete;

    // Claim `path` for the option `--option`: checks that it can be written and creates its
    // temporary now, so a bad path fails before anything is simulated. Throws std::runtime_error
    // naming the option and the path (also when two options name the same file, or the file is
    // an input).
    void claim(const std::string& option, const std::string& path);
    // `path` is read by the run (named by `--option`): no output may be the same file, whichever
    // is named first. Throws as claim() does. A path that does not exist is ignored here.
    void input(const std::string& option, const std::string& path);
    bool claimed(const std::string& option) const;

    // Append to the output of `option`; throws on a failed write.
    void write(const std::string& option, const std::string& bytes);

    // A path ending in `suffix` for a writer that opens the file itself; what it writes there goes
    // into the output of `option`. Call finish_relay() after that writer closed its file.
    std::string relay(const std::string& option, const std::string& suffix);
    // Waits for the relay to drain; throws if a write of the relayed data failed.
    void finish_relay(const std::string& option);

    // Rewrite the output of `option`, complete so far, through `fn(in, out)`: `in` is a file
    // holding it, `fn` writes the new contents to the file `out` (a temporary beside the
    // destination, removed on failure). Throws what `fn` throws. Not for a device or a FIFO.
    void convert(const std::string& option,
                 const std::function<void(const std::string& in, const std::string& out)>& fn);

    // Close every output (checked) and move each temporary onto its destination. Throws naming
    // the first output that failed; what was not moved yet is removed.
    void commit();

  private:
    struct File;
    struct Input {
        std::string option, path;
        unsigned long long dev, ino;
    };
    File& find(const std::string& option);
    void discard();
    std::vector<std::unique_ptr<File>> m_files;
    std::vector<Input> m_inputs;
};

}  // namespace sprint::platform

#include "platforms/sim/output_files.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace sprint::platform {

namespace {

// ---- temporaries removed on a fatal signal ------------------------------------------------------
// A fixed table the handler can read without locks or allocation (unlink and rmdir are
// async-signal-safe). Only the main thread changes it.
constexpr int kSlots = 32;
constexpr std::size_t kPathMax = 4096;
struct Slot {
    volatile std::sig_atomic_t used = 0;
    volatile std::sig_atomic_t is_dir = 0;
    char path[kPathMax];
};
Slot g_slots[kSlots];

extern "C" void remove_temporaries(int sig) {
    for (auto& s : g_slots)  // files first, then the (then empty) directories
        if (s.used && !s.is_dir) unlink(s.path);
    for (auto& s : g_slots)
        if (s.used && s.is_dir) rmdir(s.path);
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

int register_temp(const std::string& path, bool is_dir) {
    static bool handlers = false;
    if (!handlers) {
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, remove_temporaries);
        handlers = true;
    }
    if (path.size() >= kPathMax) return -1;
    for (int i = 0; i < kSlots; ++i) {
        if (g_slots[i].used) continue;
        std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
        g_slots[i].is_dir = is_dir;
        g_slots[i].used = 1;
        return i;
    }
    return -1;
}

// Holds SIGINT, SIGTERM and SIGHUP while a temporary is created and registered, so a signal in
// between cannot leave it behind: a held signal is delivered when the scope ends.
class SignalsHeld {
  public:
    SignalsHeld() {
        sigset_t s;
        sigemptyset(&s);
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&s, sig);
        pthread_sigmask(SIG_BLOCK, &s, &m_old);
    }
    ~SignalsHeld() { pthread_sigmask(SIG_SETMASK, &m_old, nullptr); }
    SignalsHeld(const SignalsHeld&) = delete;
    SignalsHeld& operator=(const SignalsHeld&) = delete;

  private:
    sigset_t m_old;
};

void unregister_temp(int& slot) {
    if (slot >= 0) g_slots[slot].used = 0;
    slot = -1;
}

// 0, or the errno of the failed write.
int write_all(int fd, const char* p, std::size_t n) {
    while (n) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        p += w;
        n -= std::size_t(w);
    }
    return 0;
}

std::string quoted(const std::string& option, const std::string& path) {
    return "option '--" + option + "': file '" + path + "'";
}

// The path a file is reached by once `path`'s symbolic links are followed (at most 40, as the
// kernel allows); a dangling link gives the file it would create. Throws naming `what` on a loop.
std::string follow_links(std::string path, const std::string& what) {
    namespace fs = std::filesystem;
    for (int hops = 0;; ++hops) {
        struct stat st;
        if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
        if (hops == 40)
            throw std::runtime_error(what + " cannot be written (too many symbolic links)");
        std::error_code ec;
        const fs::path target = fs::read_symlink(path, ec);
        if (ec) throw std::runtime_error(what + " cannot be written (" + ec.message() + ")");
        path = target.is_absolute() ? target.string()
                                    : (fs::path(path).parent_path() / target).string();
    }
}

}  // namespace

struct OutputFiles::File {
    std::string option, path;
    std::string dest;  // `path` with its symbolic links followed: the file written
    bool exists = false;
    unsigned long long dev = 0, ino = 0;  // when it exists
    std::string temp;  // "" when the destination is written directly (a device or FIFO)
    int fd = -1;
    int slot = -1;
    int write_errno = 0;  // first failed write, also from the relay thread
    // Relay (a FIFO the foreign writer opens).
    std::string relay_dir, fifo;
    int relay_slots[2] = {-1, -1};
    int relay_rd = -1, relay_keep = -1;
    std::thread relay_thread;
    std::atomic<bool> relay_stop{false};

    [[noreturn]] void fail(const std::string& what) const {
        throw std::runtime_error(quoted(option, path) + " " + what);
    }
    void check_written() const {
        if (write_errno)
            fail("cannot be written (" + std::string(std::strerror(write_errno)) + ")");
    }
    // Ends the relay (after the writer closed its end, or at once when discarding) and removes
    // the FIFO; safe on a relay that was only partly set up or never started.
    void stop_relay(bool wait_for_writer) {
        if (relay_keep >= 0) ::close(relay_keep);
        relay_keep = -1;
        if (!wait_for_writer) relay_stop = true;
        if (relay_thread.joinable()) relay_thread.join();
        if (relay_rd >= 0) ::close(relay_rd);
        relay_rd = -1;
        if (!fifo.empty()) ::unlink(fifo.c_str());
        if (!relay_dir.empty()) ::rmdir(relay_dir.c_str());
        fifo.clear();
        relay_dir.clear();
        unregister_temp(relay_slots[0]);
        unregister_temp(relay_slots[1]);
    }
    void remove() {
        stop_relay(false);
        if (fd >= 0) ::close(fd);
        fd = -1;
        if (!temp.empty()) ::unlink(temp.c_str());
        unregister_temp(slot);
    }
};

OutputFiles::OutputFiles() = default;

OutputFiles::~OutputFiles() {
    discard();
}

void OutputFiles::discard() {
    for (auto& f : m_files) f->remove();
    m_files.clear();
}

OutputFiles::File& OutputFiles::find(const std::string& option) {
    for (auto& f : m_files)
        if (f->option == option) return *f;
    throw std::logic_error("output '--" + option + "' was not claimed");
}

bool OutputFiles::claimed(const std::string& option) const {
    for (const auto& f : m_files)
        if (f->option == option) return true;
    return false;
}

void OutputFiles::claim(const std::string& option, const std::string& path) {
    namespace fs = std::filesystem;
    if (path.empty()) return;
    auto f = std::make_unique<File>();
    f->option = option;
    f->path = path;
    f->dest = follow_links(path, quoted(option, path));
    struct stat st;
    if (::stat(f->dest.c_str(), &st) == 0) {
        f->exists = true;
        f->dev = st.st_dev;
        f->ino = st.st_ino;
        for (const Input& in : m_inputs)
            if (S_ISREG(st.st_mode) && in.dev == f->dev && in.ino == f->ino)
                f->fail("is the input of '--" + in.option +
                        "'; an output may not overwrite a file the run reads");
    }
    if (f->exists && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) f->fail("cannot be written (it is a directory)");
        // A device or FIFO: written in place (never replaced), and several outputs may share it
        // (/dev/null). O_NONBLOCK so that a FIFO without a reader is an error instead of a hang.
        f->fd = ::open(f->dest.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (f->fd < 0) f->fail("cannot be written (" + std::string(std::strerror(errno)) + ")");
        ::fcntl(f->fd, F_SETFL, ::fcntl(f->fd, F_GETFL) & ~O_NONBLOCK);
        m_files.push_back(std::move(f));
        return;
    }
    // (weakly_canonical of a relative path that does not exist yet stays relative: absolute first.)
    auto canonical = [](const std::string& x, std::error_code& e) {
        return fs::weakly_canonical(fs::absolute(x, e), e);
    };
    std::error_code ec, ec2;
    const fs::path canon = canonical(f->dest, ec);
    for (const auto& other : m_files)
        if (!ec && canonical(other->dest, ec2) == canon && !ec2)
            f->fail("is also the file of '--" + other->option + "'; give each output its own file");
    if (f->exists && ::access(f->dest.c_str(), W_OK) != 0)
        f->fail("cannot be written (" + std::string(std::strerror(errno)) + ")");
    const fs::path p(f->dest);
    const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
    std::string tmpl = dir + "/." + p.filename().string() + ".tmp-XXXXXX";
    int err = 0;
    {
        SignalsHeld held;
        f->fd = ::mkstemp(tmpl.data());
        if (f->fd >= 0)
            f->slot = register_temp(tmpl, false);
        else
            err = errno;
    }
    if (f->fd < 0) f->fail("cannot be written (" + std::string(std::strerror(err)) + ")");
    f->temp = tmpl;
    // mkstemp creates 0600; the output gets the usual permissions of a new file.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(f->fd, 0666 & ~mask);
    m_files.push_back(std::move(f));
}

void OutputFiles::input(const std::string& option, const std::string& path) {
    struct stat st;
    if (path.empty() || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
    for (const auto& f : m_files)
        if (f->exists && f->dev == st.st_dev && f->ino == st.st_ino)
            f->fail("is the input of '--" + option +
                    "'; an output may not overwrite a file the run reads");
    m_inputs.push_back({option, path, st.st_dev, st.st_ino});
}

void OutputFiles::write(const std::string& option, const std::string& bytes) {
    File& f = find(option);
    if (!f.write_errno) f.write_errno = write_all(f.fd, bytes.data(), bytes.size());
    f.check_written();
}

std::string OutputFiles::relay(const std::string& option, const std::string& suffix) {
    File& f = find(option);
    std::string tmpl = (std::filesystem::temp_directory_path() / "sprint-relay-XXXXXX").string();
    int fifo_errno = 0;
    {
        SignalsHeld held;
        if (!::mkdtemp(tmpl.data()))
            f.fail("cannot be written (no temporary directory: " +
                   std::string(std::strerror(errno)) + ")");
        f.relay_dir = tmpl;
        f.fifo = f.relay_dir + "/out" + suffix;
        f.relay_slots[0] = register_temp(f.relay_dir, true);
        f.relay_slots[1] = register_temp(f.fifo, false);
        if (::mkfifo(f.fifo.c_str(), 0600) != 0) fifo_errno = errno;
    }
    if (fifo_errno)
        f.fail("cannot be written (mkfifo: " + std::string(std::strerror(fifo_errno)) + ")");
    // Our own reader and a writer that keeps the FIFO open, so neither the writer's open nor our
    // reads see the other side missing before the foreign writer opens it.
    f.relay_rd = ::open(f.fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    f.relay_keep = f.relay_rd < 0 ? -1 : ::open(f.fifo.c_str(), O_WRONLY | O_CLOEXEC);
    if (f.relay_rd < 0 || f.relay_keep < 0)
        f.fail("cannot be written (FIFO: " + std::string(std::strerror(errno)) + ")");
    File* fp = &f;
    f.relay_thread = std::thread([fp] {
        std::vector<char> buf(1 << 16);
        for (;;) {
            pollfd pfd{fp->relay_rd, POLLIN, 0};
            const int r = ::poll(&pfd, 1, 100);
            if (r < 0 && errno != EINTR) {
                if (!fp->write_errno) fp->write_errno = errno;
                return;
            }
            if (r <= 0) {
                if (fp->relay_stop) return;
                continue;
            }
            const ssize_t n = ::read(fp->relay_rd, buf.data(), buf.size());
            if (n == 0) return;  // every writer closed
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN) continue;
                if (!fp->write_errno) fp->write_errno = errno;
                return;
            }
            // After a failed write keep draining, so the writer never blocks on a full FIFO.
            if (!fp->write_errno) fp->write_errno = write_all(fp->fd, buf.data(), std::size_t(n));
        }
    });
    return f.fifo;
}

void OutputFiles::finish_relay(const std::string& option) {
    File& f = find(option);
    f.stop_relay(true);
    f.check_written();
}

void OutputFiles::convert(
    const std::string& option,
    const std::function<void(const std::string& in, const std::string& out)>& fn) {
    File& f = find(option);
    f.stop_relay(true);
    f.check_written();
    if (f.temp.empty()) f.fail("cannot be converted in place (it is not a regular file)");
    std::string tmpl = f.temp + "-XXXXXX";
    int fd = -1, slot = -1, err = 0;
    {
        SignalsHeld held;
        fd = ::mkstemp(tmpl.data());
        if (fd >= 0)
            slot = register_temp(tmpl, false);
        else
            err = errno;
    }
    if (fd < 0) f.fail("cannot be written (" + std::string(std::strerror(err)) + ")");
    try {
        fn(f.temp, tmpl);
    } catch (...) {
        ::close(fd);
        ::unlink(tmpl.c_str());
        unregister_temp(slot);
        throw;
    }
    // The converted file replaces the temporary; the output's descriptor now refers to it.
    ::close(f.fd);
    ::unlink(f.temp.c_str());
    unregister_temp(f.slot);
    ::close(fd);
    f.fd = ::open(tmpl.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    f.temp = tmpl;
    f.slot = slot;
    if (f.fd < 0) f.fail("cannot be written (" + std::string(std::strerror(errno)) + ")");
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(f.fd, 0666 & ~mask);
}

void OutputFiles::commit() {
    try {
        for (auto& f : m_files) {
            f->stop_relay(true);
            f->check_written();
            // fsync: a file system may report a full disk only when the data reaches it.
            if (!f->temp.empty() && ::fsync(f->fd) != 0) f->write_errno = errno;
            if (::close(f->fd) != 0 && !f->write_errno) f->write_errno = errno;
            f->fd = -1;
            f->check_written();
        }
        for (auto& f : m_files) {
            if (f->temp.empty()) continue;
            if (::rename(f->temp.c_str(), f->dest.c_str()) != 0)
                f->fail("cannot be written (rename: " + std::string(std::strerror(errno)) + ")");
            f->temp.clear();
            unregister_temp(f->slot);
        }
    } catch (...) {
        discard();
        throw;
    }
    m_files.clear();
}

}  // namespace sprint::platform

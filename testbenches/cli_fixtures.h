// Helpers of the command-line tests: run sprint-sim as a subprocess in a private temporary
// directory (stdout and stderr captured separately), read its summary table, its VCD, its
// --help blocks, and write .npy files byte by byte (valid and deliberately broken).
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace sprint::test {

// A fresh directory under /tmp, removed with everything in it when the test ends (set
// SPRINT_CLI_KEEP_TMP=1 to keep it for a look after a failure).
class TempDir {
  public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "sprint-cli-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
        m_path = tmpl;
    }
    ~TempDir() {
        if (!std::getenv("SPRINT_CLI_KEEP_TMP")) {
            std::error_code ec;
            std::filesystem::remove_all(m_path, ec);
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return m_path; }
    std::string file(const std::string& name) const { return m_path + "/" + name; }

  private:
    std::string m_path;
};

struct RunResult {
    int exit_code = -1;     // the tool's exit status; 128 + signal if it was killed
    long peak_rss_kib = 0;  // the child's peak resident memory (wait4's ru_maxrss)
    std::string out, err;
    std::string command;  // for failure messages
};

inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void write_text(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    f << text;
    if (!f) throw std::runtime_error("cannot write " + path);
}

inline bool file_exists(const std::string& path) {
    return std::filesystem::exists(path);
}

// The simulator under test: the one built with the tests, or $SPRINT_SIM_UNDER_TEST.
inline std::string sim_path() {
    const char* env = std::getenv("SPRINT_SIM_UNDER_TEST");
    return env && *env ? env : SPRINT_SIM_PATH;
}

// Resource limits of the child (bytes, 0 = none). file_size is RLIMIT_FSIZE: writes past it fail
// with EFBIG as on a full disk (SIGXFSZ is ignored so that the write returns the error).
struct Limits {
    uint64_t file_size = 0;
};

// Start the simulator with `args`; stdout and stderr go to files in `dir` (one pair per call).
struct Child {
    pid_t pid = 0;
    std::string out_path, err_path;
    RunResult r;
};

inline Child spawn_sim(const TempDir& dir, const std::vector<std::string>& args,
                       const Limits& limits) {
    static int counter = 0;
    const std::string tag = std::to_string(++counter);
    Child c;
    c.out_path = dir.file("stdout." + tag);
    c.err_path = dir.file("stderr." + tag);
    std::vector<std::string> argv_s{sim_path()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) {
        argv.push_back(a.data());
        c.r.command += (c.r.command.empty() ? "" : " ") + a;
    }
    argv.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, c.out_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, c.err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    // The limit and the ignored signal are inherited by the child; the parent's are restored.
    struct rlimit old_fsize;
    getrlimit(RLIMIT_FSIZE, &old_fsize);
    void (*old_xfsz)(int) = SIG_DFL;
    if (limits.file_size) {
        struct rlimit l = old_fsize;
        l.rlim_cur = rlim_t(limits.file_size);
        setrlimit(RLIMIT_FSIZE, &l);
        old_xfsz = std::signal(SIGXFSZ, SIG_IGN);
    }
    const int rc = posix_spawn(&c.pid, argv[0], &fa, nullptr, argv.data(), environ);
    setrlimit(RLIMIT_FSIZE, &old_fsize);
    if (limits.file_size) std::signal(SIGXFSZ, old_xfsz);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("cannot start " + argv_s[0] + ": " + std::strerror(rc));
    return c;
}

inline RunResult wait_sim(Child& c) {
    int status = 0;
    struct rusage ru {};
    while (wait4(c.pid, &status, 0, &ru) < 0)
        if (errno != EINTR) throw std::runtime_error("wait4 failed");
    c.r.peak_rss_kib = ru.ru_maxrss;
    c.r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    c.r.out = read_text(c.out_path);
    c.r.err = read_text(c.err_path);
    return c.r;
}

inline RunResult run_sim(const TempDir& dir, const std::vector<std::string>& args,
                         const Limits& limits = {}) {
    Child c = spawn_sim(dir, args, limits);
    return wait_sim(c);
}

// Start the simulator, poll `ready()` every millisecond (up to 60 s, or until the child ends),
// then send it `sig` and wait for it.
template <class Ready>
RunResult run_sim_signalled(const TempDir& dir, const std::vector<std::string>& args, int sig,
                            Ready ready) {
    Child c = spawn_sim(dir, args, {});
    for (int i = 0; i < 60000 && !ready(); ++i) {
        int status = 0;
        if (waitpid(c.pid, &status, WNOHANG) == c.pid) {  // ended on its own: report that
            c.r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            c.r.out = read_text(c.out_path);
            c.r.err = read_text(c.err_path);
            return c.r;
        }
        usleep(1000);
    }
    kill(c.pid, sig);
    return wait_sim(c);
}

inline bool contains(const std::string& s, const std::string& what) {
    return s.find(what) != std::string::npos;
}

// Every run of whitespace (newlines and the help's wrapping indentation included) as one space.
inline std::string squash_spaces(const std::string& s) {
    std::string r;
    bool space = false;
    for (char c : s) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = true;
            continue;
        }
        if (space && !r.empty()) r += ' ';
        space = false;
        r += c;
    }
    return r;
}

inline std::vector<std::string> split_lines(const std::string& s) {
    std::vector<std::string> lines;
    std::stringstream ss(s);
    std::string l;
    while (std::getline(ss, l)) lines.push_back(l);
    return lines;
}

inline std::vector<std::string> split_words(const std::string& s) {
    std::vector<std::string> w;
    std::stringstream ss(s);
    std::string t;
    while (ss >> t) w.push_back(t);
    return w;
}

// --help as one block per option, keyed by the option's name ("heads", "sprint.sram.k_bytes",
// "help"), whitespace squashed. An option line starts with exactly two spaces and a dash; its
// wrapped continuation lines are indented further.
inline std::map<std::string, std::string> help_blocks(const std::string& help) {
    std::map<std::string, std::string> blocks;
    std::string key;
    for (const std::string& l : split_lines(help)) {
        if (l.rfind("  -", 0) == 0) {
            const std::vector<std::string> w = split_words(l);
            key = w[0] == "-h" && w.size() > 2 ? w[2] : w[0];
            key = key.substr(key.find_first_not_of('-'));
            blocks[key] = squash_spaces(l);
        } else if (!key.empty() && l.rfind("   ", 0) == 0) {
            blocks[key] += " " + squash_spaces(l);
        } else {
            key.clear();
        }
    }
    return blocks;
}

// The summary table: the header line lists the job modes; each row is a name followed by one
// cell per column.
struct SummaryTable {
    std::vector<std::string> columns;
    std::vector<std::pair<std::string, std::vector<std::string>>> rows;

    bool found() const { return !columns.empty(); }
    // The first row whose name contains `part`; throws if there is none.
    const std::vector<std::string>& row(const std::string& part) const {
        for (const auto& r : rows)
            if (contains(r.first, part)) return r.second;
        throw std::runtime_error("no row containing '" + part + "' in the summary table");
    }
    bool has_row(const std::string& part) const {
        for (const auto& r : rows)
            if (contains(r.first, part)) return true;
        return false;
    }
};

inline SummaryTable parse_summary(const std::string& out) {
    static const std::set<std::string> modes{"sprint", "dense", "onchip-prune", "dense-stream"};
    SummaryTable t;
    const std::vector<std::string> lines = split_lines(out);
    std::size_t i = 0;
    for (; i < lines.size(); ++i) {
        const std::vector<std::string> w = split_words(lines[i]);
        bool all = !w.empty();
        for (const auto& x : w) all = all && modes.count(x);
        if (all) {
            t.columns = w;
            break;
        }
    }
    for (++i; i < lines.size() && !split_words(lines[i]).empty(); ++i) {
        const std::vector<std::string> w = split_words(lines[i]);
        if (w.size() <= t.columns.size()) break;
        std::string name;
        for (std::size_t k = 0; k + t.columns.size() < w.size(); ++k) name += (k ? " " : "") + w[k];
        t.rows.push_back(
            {name, std::vector<std::string>(w.end() - long(t.columns.size()), w.end())});
    }
    return t;
}

// "3,641,178" -> 3641178.
inline uint64_t parse_grouped(const std::string& s) {
    std::string digits;
    for (char c : s)
        if (c != ',') digits += c;
    std::size_t pos = 0;
    const uint64_t v = std::stoull(digits, &pos);
    if (pos != digits.size()) throw std::runtime_error("not an integer: " + s);
    return v;
}

// A VCD file: full hierarchical names of the variables (scopes joined by '.') and, per
// variable, the values it takes after the header, in order.
struct Vcd {
    std::string timescale;                                   // e.g. "1 ps"
    std::map<std::string, std::string> id_of;                // full name -> identifier code
    std::map<std::string, std::vector<std::string>> values;  // identifier code -> values
    // identifier code -> (time, value) of every change, initial values ($dumpvars) at time 0
    std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> changes;
    uint64_t first_time = 0, last_time = 0;
    uint64_t timestamps = 0;
    bool times_increase = true;

    // The identifier of a variable whose full name is `name` or ends with "." + name.
    std::string find(const std::string& name) const {
        for (const auto& [full, id] : id_of)
            if (full == name ||
                (full.size() > name.size() &&
                 full.compare(full.size() - name.size() - 1, std::string::npos, "." + name) == 0))
                return id;
        return "";
    }
};

inline Vcd parse_vcd(const std::string& text) {
    Vcd v;
    std::stringstream ss(text);
    std::vector<std::string> scope;
    std::string tok;
    bool header = true;
    uint64_t last_time = 0;
    while (ss >> tok) {
        if (header) {
            if (tok == "$timescale") {
                std::string w;
                while (ss >> w && w != "$end") v.timescale += (v.timescale.empty() ? "" : " ") + w;
            } else if (tok == "$scope") {
                std::string kind, name;
                ss >> kind >> name;
                scope.push_back(name);
            } else if (tok == "$upscope") {
                if (!scope.empty()) scope.pop_back();
            } else if (tok == "$var") {
                std::string type, width, id, name;
                ss >> type >> width >> id >> name;
                std::string full;
                for (const auto& s : scope) full += s + ".";
                v.id_of[full + name] = id;
            } else if (tok == "$enddefinitions") {
                header = false;
            }
            continue;
        }
        if (tok[0] == '$') continue;  // $dumpvars, $end, $comment words are skipped below
        if (tok[0] == '#') {
            const uint64_t t = std::stoull(tok.substr(1));
            if (v.timestamps && t <= last_time) v.times_increase = false;
            if (!v.timestamps) v.first_time = t;
            last_time = t;
            v.last_time = t;
            ++v.timestamps;
        } else if (tok[0] == 'b' || tok[0] == 'B' || tok[0] == 'r' || tok[0] == 'R') {
            std::string id;
            ss >> id;
            v.values[id].push_back(tok.substr(1));
            v.changes[id].emplace_back(last_time, tok.substr(1));
        } else if (std::strchr("01xXzZ", tok[0])) {
            v.values[tok.substr(1)].push_back(tok.substr(0, 1));
            v.changes[tok.substr(1)].emplace_back(last_time, tok.substr(0, 1));
        }
    }
    return v;
}

// A .npy file (format 1.0) with the given dtype descriptor, shape text ("(2, 96, 64)") and raw
// data bytes; the header is padded so the data starts at a multiple of 64 as numpy writes it.
// A .npy file written byte by byte: format `version` 1.0 (2-byte header length) or 2.0 (4 bytes),
// the header padded with spaces to `header_bytes` (0: to the next multiple of 64, as numpy does).
inline void write_npy_raw(const std::string& path, const std::string& descr,
                          const std::string& shape, const std::string& data, bool fortran = false,
                          unsigned version = 1, std::size_t header_bytes = 0) {
    std::string dict = "{'descr': '" + descr +
                       "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
    const std::size_t pre = version == 1 ? 10 : 12;  // magic 6 + version 2 + header length 2 or 4
    const std::size_t total = pre + dict.size() + 1;
    if (header_bytes)
        dict.append(header_bytes - dict.size() - 1, ' ');
    else
        dict.append((64 - total % 64) % 64, ' ');
    dict += '\n';
    std::string file = "\x93NUMPY";
    file += char(version);
    file += char(0);
    for (unsigned i = 0; i < (version == 1 ? 2u : 4u); ++i)
        file += char((dict.size() >> (8 * i)) & 0xff);
    write_text(path, file + dict + data);
}

inline std::string float_bytes(const std::vector<float>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

inline std::string double_bytes(const std::vector<float>& v) {
    std::vector<double> d(v.begin(), v.end());
    return std::string(reinterpret_cast<const char*>(d.data()), d.size() * sizeof(double));
}

}  // namespace sprint::test

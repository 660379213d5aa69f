// The Python module sprint_vp's native part (_sprint_vp; pybind11): SPRINT's bit-exact arithmetic
// on numpy arrays, the dense float reference, and the whole simulator, all configured through
// sprint-sim's own option parser and parameter registry (one list of names: the options a dict
// gives are sprint-sim's command-line options). The Python package (sprint_vp/__init__.py) turns
// dicts into those options and documents the API; docs/python.md describes it.
//
// simulate() runs sprint-sim's run_simulator in a forked child: a SystemC kernel elaborates once
// per process, so every run gets a fresh one, and a crash or a hang in the model cannot take the
// Python process with it. Arrays reach the child as .npy files in a private scratch folder, and
// the statistics and output come back the same way; the folder is removed before returning.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <systemc>

#include "core/reference.h"
#include "platforms/sim/cli.h"
#include "platforms/sim/npy_io.h"
#include "platforms/sim/simulation.h"
#include "platforms/sim/simulator.h"

namespace py = pybind11;
namespace fs = std::filesystem;
using sprint::core::Tensor3;

// The SystemC kernel's entry point, as sprint-sim's: the simulator on the child's arguments.
// Exported (pybind11 hides the module's symbols): libsystemc resolves its sc_main here.
extern "C" __attribute__((visibility("default"))) int sc_main(int argc, char* argv[]) {
    return sprint::platform::run_simulator(argc, argv, std::cout, std::cerr);
}

namespace {

using Array = py::array_t<float, py::array::c_style | py::array::forcecast>;

// A [heads, n, d] float32 array as a Tensor3 (copied); ValueError naming `what` otherwise.
Tensor3 tensor_of(const Array& a, const char* what) {
    if (a.ndim() != 3)
        throw py::value_error(std::string(what) + " must be a 3-D array [heads, n, d], not " +
                              std::to_string(a.ndim()) + "-D");
    Tensor3 t(int(a.shape(0)), int(a.shape(1)), int(a.shape(2)));
    std::memcpy(t.data.data(), a.data(), t.data.size() * sizeof(float));
    return t;
}

// Self-attention: q, k and v of one shape.
void check_same_shape(const Tensor3& q, const Tensor3& k, const Tensor3& v) {
    for (const Tensor3* t : {&k, &v})
        if (t->heads != q.heads || t->n != q.n || t->d != q.d)
            throw py::value_error("q, k and v must have the same shape [heads, n, d]");
}

py::array_t<float> array_of(const Tensor3& t) {
    py::array_t<float> out({py::ssize_t(t.heads), py::ssize_t(t.n), py::ssize_t(t.d)});
    std::memcpy(out.mutable_data(), t.data.data(), t.data.size() * sizeof(float));
    return out;
}

// sprint-sim's parser on these options (argv[0] added); ValueError with its message.
void parse(sprint::platform::Arguments& args, const std::vector<std::string>& options) {
    std::vector<const char*> argv{"sprint-sim"};
    for (const auto& o : options) argv.push_back(o.c_str());
    try {
        if (args.parse(int(argv.size()), argv.data()) != sprint::platform::Arguments::Action::Run)
            throw std::runtime_error("--help, --version and the --dump tables are not runs");
    } catch (const std::exception& e) {
        throw py::value_error(e.what());
    }
}

// Every option and parameter: name -> default, unit, description, allowed values (the model
// parameters carry all four; the run options their default).
py::dict parameters() {
    sprint::platform::Arguments args;
    py::dict out;
    for (const auto& [name, value] : args.values()) {
        py::dict e;
        e["default"] = value;
        out[py::str(name)] = e;
    }
    for (const auto* e : args.registry.entries()) {
        py::dict d = out[py::str(e->name)];
        d["unit"] = e->unit;
        d["description"] = e->description;
        d["allowed"] = e->allowed;
    }
    return out;
}

// The effective settings of these options (every option and parameter by name), or ValueError.
py::dict settings(const std::vector<std::string>& options) {
    sprint::platform::Arguments args;
    parse(args, options);
    py::dict out;
    for (const auto& [name, value] : args.values()) out[py::str(name)] = value;
    return out;
}

// SPRINT's attention on q, k, v in the mode the options select: the IP's output bit for bit (as
// the core's reference computes it), the thresholds the rule set, and optionally the keep mask.
// The scores each visible key was judged on, in logits ([heads, n, n]; NaN where a key is not
// visible): the crossbar's approximate scores in sprint mode, the exact ones in onchip-prune.
py::array_t<float> judged_scores(const sprint::core::QuantizedWorkload& w,
                                 const sprint::core::JobOptions& opt,
                                 const sprint::core::XbarNumerics& x) {
    const int heads = w.q.heads, n = w.q.n;
    std::vector<float> all(std::size_t(heads) * n * n, std::numeric_limits<float>::quiet_NaN());
    {
        py::gil_scoped_release free;
        std::vector<uint8_t> mask(static_cast<std::size_t>(n));
        for (int h = 0; h < heads; ++h) {
            sprint::core::HeadMasks hm(w, h, opt, x);
            for (int i = 0; i < n; ++i) {
                const int end = hm.row(i, mask.data());
                const double* s = end ? hm.scores_logits() : nullptr;
                float* row = all.data() + (std::size_t(h) * n + i) * n;
                for (int j = 0; s && j < end; ++j) row[j] = float(s[j]);
            }
        }
    }
    py::array_t<float> out({py::ssize_t(heads), py::ssize_t(n), py::ssize_t(n)});
    std::memcpy(out.mutable_data(), all.data(), all.size() * sizeof(float));
    return out;
}

py::dict attention(const Array& q, const Array& k, const Array& v,
                   const std::vector<std::string>& options, bool masks, bool recompute,
                   bool scores) {
    Tensor3 tq = tensor_of(q, "q"), tk = tensor_of(k, "k"), tv = tensor_of(v, "v");
    check_same_shape(tq, tk, tv);
    std::vector<std::string> opts = {"--heads=" + std::to_string(tq.heads),
                                     "--seq-len=" + std::to_string(tq.n),
                                     "--head-dim=" + std::to_string(tq.d)};
    opts.insert(opts.end(), options.begin(), options.end());
    sprint::platform::Arguments args;
    parse(args, opts);
    const auto& o = args.run;
    if (o.heads != tq.heads || o.seq_len != tq.n || o.head_dim != tq.d || !o.q_file.empty())
        throw py::value_error(
            "the options give the workload's shape or files (heads, seq-len, "
            "head-dim, workload, q/k/v): here the arrays do");
    const int heads = tq.heads, n = tq.n, d = tq.d;
    py::dict out;
    {
        py::gil_scoped_release free;  // the arithmetic runs without the interpreter
        const auto x = args.platform.ip.numerics();
        const bool judged = o.job.mode == sprint::core::Mode::Sprint ||
                            o.job.mode == sprint::core::Mode::OnchipPrune;
        if ((scores || !recompute) && !judged) {
            py::gil_scoped_acquire hold;
            throw py::value_error(std::string(scores ? "scores=True" : "recompute=False") +
                                  " needs a pruning mode (sprint, onchip-prune)");
        }
        sprint::platform::Inputs in =
            sprint::platform::build_inputs(o, x, std::move(tq), std::move(tk), std::move(tv));
        const auto opt = args.platform.ip.job_options(o.job, uint32_t(n), uint32_t(d));
        sprint::core::KeepMasks km;
        Tensor3 y;
        if (recompute) {
            const std::vector<uint8_t> bytes = sprint::core::reference_output(in.w, opt, x, &km);
            y = sprint::core::decode_output(bytes, opt.output, heads, n, d, in.w.heads);
        } else {
            if (opt.mode != sprint::core::Mode::Sprint &&
                opt.mode != sprint::core::Mode::OnchipPrune) {
                py::gil_scoped_acquire hold;
                throw py::value_error(
                    "recompute=False needs a pruning mode (sprint, onchip-prune)");
            }
            km = sprint::core::reference_masks(in.w, opt, x);
            y = sprint::core::no_recompute_output(in.w, opt, x);
        }
        py::gil_scoped_acquire hold;
        out["output"] = array_of(y);
        std::vector<double> thresholds;
        for (const auto& h : in.w.heads) thresholds.push_back(h.threshold);
        out["thresholds"] = thresholds;
        std::size_t kept = 0;
        for (const uint8_t b : km.bits) kept += b != 0;
        out["kept_pairs"] = kept;
        if (masks) {
            py::array_t<bool> m({py::ssize_t(heads), py::ssize_t(n), py::ssize_t(n)});
            bool* p = m.mutable_data();
            for (std::size_t i = 0; i < km.bits.size(); ++i) p[i] = km.bits[i] != 0;
            out["mask"] = m;
        }
        if (scores) out["scores"] = judged_scores(in.w, opt, x);
    }
    return out;
}

// Reference (a): dense float attention, as sprint-sim's fidelity figures compare against.
py::array_t<float> dense_float(const Array& q, const Array& k, const Array& v, bool causal) {
    const Tensor3 tq = tensor_of(q, "q"), tk = tensor_of(k, "k"), tv = tensor_of(v, "v");
    check_same_shape(tq, tk, tv);
    Tensor3 y;
    {
        py::gil_scoped_release free;
        y = sprint::core::dense_float_attention(
            tq, tk, tv, std::vector<uint32_t>(std::size_t(tq.heads), uint32_t(tq.n)), causal);
    }
    return array_of(y);
}

// A private scratch folder, removed with everything in it when this goes.
class Scratch {
  public:
    Scratch() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/sprint-vp-py-XXXXXX";
        if (!mkdtemp(tmpl.data()))
            throw std::runtime_error(std::string("cannot make a scratch folder: ") +
                                     std::strerror(errno));
        m_dir = tmpl;
    }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(m_dir, ec);
    }
    std::string file(const std::string& name) const { return m_dir + "/" + name; }

  private:
    std::string m_dir;
};

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// In the forked child: sprint-sim on these arguments, its output and errors to files.
[[noreturn]] void child(const std::vector<std::string>& argv_s, const std::string& out_file,
                        const std::string& err_file) {
    const int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || err < 0) _exit(127);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
    // Python's handlers only set a flag this process never reads: the defaults, so that a
    // Ctrl-C to the terminal's process group stops the run too.
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    std::vector<char*> argv;
    std::vector<std::string> copy = argv_s;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = 127;
    try {
        rc = sc_core::sc_elab_and_sim(int(argv.size()) - 1, argv.data());
    } catch (const std::exception& e) {
        std::cerr << "sprint-sim: error: " << e.what() << "\n";
    }
    std::cout.flush();
    std::cerr.flush();
    _exit(rc);
}

// sprint-sim on these options (and q, k, v when given, as .npy files): exit status, the --stats
// JSON text, the output (when the run wrote one), what it printed and its errors. Bad options are
// a ValueError before anything runs, with sprint-sim's message.
py::dict simulate(const std::vector<std::string>& options, const py::object& q, const py::object& k,
                  const py::object& v) {
    Scratch dir;
    std::vector<std::string> argv = {"sprint-sim"};
    argv.insert(argv.end(), options.begin(), options.end());
    const int given = int(!q.is_none()) + int(!k.is_none()) + int(!v.is_none());
    if (given != 0 && given != 3) throw py::value_error("give q, k and v together, or none");
    if (given == 3) {
        const std::pair<const char*, const py::object*> qkv[] = {{"q", &q}, {"k", &k}, {"v", &v}};
        for (const auto& [name, obj] : qkv) {
            const Tensor3 t = tensor_of(obj->cast<Array>(), name);
            const std::string f = dir.file(std::string(name) + ".npy");
            sprint::platform::save_tensor_npy(f, t);
            argv.push_back(std::string("--") + name + "=" + f);
        }
    }
    argv.push_back("--stats=" + dir.file("stats.json"));
    argv.push_back("--output=" + dir.file("output.npy"));
    argv.push_back("--quiet");
    {  // the same checks as the command line, before anything runs
        sprint::platform::Arguments args;
        parse(args, std::vector<std::string>(argv.begin() + 1, argv.end()));
    }
    int status = 0;
    {
        py::gil_scoped_release free;
        std::cout.flush();
        std::cerr.flush();
        const pid_t pid = fork();
        if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
        if (pid == 0) child(argv, dir.file("stdout"), dir.file("stderr"));
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR)
                throw std::runtime_error("waitpid: " + std::string(std::strerror(errno)));
            // A signal (Ctrl-C): Python's handler runs now; if it raises, the run is stopped.
            py::gil_scoped_acquire hold;
            if (PyErr_CheckSignals() != 0) {
                kill(pid, SIGKILL);
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
                }
                throw py::error_already_set();
            }
        }
    }
    py::dict out;
    out["stdout"] = read_text(dir.file("stdout"));
    out["stderr"] = read_text(dir.file("stderr"));
    if (!WIFEXITED(status)) {
        out["exit_status"] = -1;
        out["signal"] = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        return out;
    }
    out["exit_status"] = WEXITSTATUS(status);
    out["stats"] = fs::exists(dir.file("stats.json")) ? read_text(dir.file("stats.json")) : "";
    if (fs::exists(dir.file("output.npy")))
        out["output"] = array_of(sprint::platform::load_tensor_npy(dir.file("output.npy")));
    return out;
}

}  // namespace

PYBIND11_MODULE(_sprint_vp, m) {
    m.doc() = "sprint-vp's native part: SPRINT's arithmetic and the simulator (use sprint_vp)";
    m.def("parameters", &parameters);
    m.def("settings", &settings, py::arg("options"));
    m.def("attention", &attention, py::arg("q"), py::arg("k"), py::arg("v"), py::arg("options"),
          py::arg("masks") = false, py::arg("recompute") = true, py::arg("scores") = false);
    m.def("dense_float", &dense_float, py::arg("q"), py::arg("k"), py::arg("v"),
          py::arg("causal") = false);
    m.def("simulate", &simulate, py::arg("options"), py::arg("q") = py::none(),
          py::arg("k") = py::none(), py::arg("v") = py::none());
}

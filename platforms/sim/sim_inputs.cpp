#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/quant.h"
#include "core/workload.h"
#include "platforms/sim/npy_io.h"
#include "platforms/sim/simulation.h"
#include "tlm_interfaces/job_check.h"

namespace sprint::platform {

namespace {

bool given(const RunOptions& o, const std::string& name) {
    return std::find(o.given.begin(), o.given.end(), name) != o.given.end();
}

}  // namespace

Shape workload_shape(const RunOptions& o) {
    if (o.q_file.empty()) return {o.heads, o.seq_len, o.head_dim};
    const NpyShape q = npy_shape(o.q_file), k = npy_shape(o.k_file), v = npy_shape(o.v_file);
    auto same = [](const NpyShape& a, const NpyShape& b) {
        return a.heads == b.heads && a.n == b.n && a.d == b.d;
    };
    if (!same(q, k) || !same(q, v))
        throw std::runtime_error("files '" + o.q_file + "', '" + o.k_file + "', '" + o.v_file +
                                 "' must have the same shape");
    const std::pair<const char*, int> dims[] = {
        {"heads", q.heads}, {"seq-len", q.n}, {"head-dim", q.d}};
    const int want[] = {o.heads, o.seq_len, o.head_dim};
    for (int i = 0; i < 3; ++i)
        if (given(o, dims[i].first) && want[i] != dims[i].second)
            throw std::runtime_error(std::string("option '--") + dims[i].first + "' (" +
                                     std::to_string(want[i]) + ") disagrees with the .npy files (" +
                                     std::to_string(dims[i].second) + ")");
    return {q.heads, q.n, q.d};
}

std::vector<core::Mode> run_modes(const RunOptions& o) {
    std::vector<core::Mode> modes{o.job.mode};
    auto add = [&](core::Mode m) {
        if (std::find(modes.begin(), modes.end(), m) == modes.end()) modes.push_back(m);
    };
    if (o.compare != Compare::None) add(core::Mode::Dense);
    if (o.compare == Compare::All)
        for (core::Mode m : {core::Mode::DenseStream, core::Mode::OnchipPrune, core::Mode::Sprint})
            add(m);
    return modes;
}

std::vector<core::HeadParams> Inputs::heads_for(core::Mode m) const {
    std::vector<core::HeadParams> heads = w.heads;
    const auto it = thresholds.find(m);
    if (it != thresholds.end())
        for (std::size_t h = 0; h < heads.size(); ++h) heads[h].threshold = it->second[h];
    return heads;
}

core::QuantizedWorkload Inputs::for_mode(core::Mode m) const {
    core::QuantizedWorkload r = w;
    r.heads = heads_for(m);
    return r;
}

std::vector<JobDesc> plan_jobs(const RunOptions& o, const Shape& sh, uint64_t base,
                               uint64_t* end_out, int key_bits) {
    uint64_t end = 0;
    std::vector<JobDesc> jobs{Host::layout(uint32_t(sh.heads), uint32_t(sh.n), uint32_t(sh.d),
                                           o.job, base, &end, key_bits)};
    const std::vector<core::Mode> modes = run_modes(o);
    for (std::size_t i = 1; i < modes.size(); ++i) {
        JobDesc j = jobs[0];
        j.opt.mode = modes[i];
        j.table = end;
        end = align_up(end + uint64_t(sh.heads) * regs::kHeadEntryBytes, regs::kBaseAlign);
        j.out = end;
        end = align_up(
            end + uint64_t(sh.heads) * sh.n * sh.d * core::output_element_bytes(o.job.output),
            regs::kBaseAlign);
        jobs.push_back(j);
    }
    if (end_out) *end_out = end;
    return jobs;
}

void check_fits(const RunOptions& o, const PlatformConfig& c, const Shape& sh) {
    if (!o.calibrate_q_file.empty()) {  // the calibration set: the workload's heads and d
        const NpyShape q = npy_shape(o.calibrate_q_file), k = npy_shape(o.calibrate_k_file);
        if (q.heads != k.heads || q.n != k.n || q.d != k.d)
            throw std::runtime_error("files '" + o.calibrate_q_file + "' and '" +
                                     o.calibrate_k_file + "' must have the same shape");
        if (q.heads != sh.heads || q.d != sh.d)
            throw std::runtime_error(
                "calibration file '" + o.calibrate_q_file + "' has " + std::to_string(q.heads) +
                " heads of d = " + std::to_string(q.d) + "; the workload has " +
                std::to_string(sh.heads) + " of d = " + std::to_string(sh.d));
    }
    if (o.valid_len > uint32_t(sh.n))
        throw std::runtime_error("option '--valid-len' (" + std::to_string(o.valid_len) +
                                 ") exceeds the sequence length " + std::to_string(sh.n));
    if (!o.thresholds.empty() && o.thresholds.size() != 1 && int(o.thresholds.size()) != sh.heads)
        throw std::runtime_error("option '--threshold' has " + std::to_string(o.thresholds.size()) +
                                 " values; give one, or one per head (" + std::to_string(sh.heads) +
                                 ")");
    uint64_t end = 0;
    const IpConfig ip = c.ip_for_platform();
    for (const JobDesc& j : plan_jobs(o, sh, c.dram_base, &end, ip.xbar.key_bits)) {
        std::string why;
        const regs::ErrorCode e = check_job(ip, j, &why);
        if (e == regs::ErrorCode::None) continue;
        if (e == regs::ErrorCode::OutOfRange && end - c.dram_base > c.dram_bytes())
            throw DoesNotFit(
                "the workload needs " + std::to_string(((end - c.dram_base) >> 20) + 1) +
                " MiB of memory but dram.size_mb is " + std::to_string(c.dram.size_mb));
        throw DoesNotFit(why);
    }
    const uint64_t need = host_bytes_needed(o, sh), have = machine_bytes();
    const std::size_t modes = run_modes(o).size();
    if (need > have)
        throw std::runtime_error(
            "the run needs about " + std::to_string((need >> 20) + 1) + " MiB of host memory (" +
            std::to_string(sh.heads) + " heads x N = " + std::to_string(sh.n) +
            " x d = " + std::to_string(sh.d) + ", " + std::to_string(modes) +
            (modes > 1 ? " modes" : " mode") + "), more than this machine's " +
            std::to_string(have >> 20) + " MiB: give fewer heads or a shorter sequence" +
            (modes > 1 ? ", or fewer baselines (--compare)" : ""));
}

// Peak resident memory measured with GNU time (%M) on the default synthetic workload, d = 64 and
// 128, N = 2048 and 4096, 2 and 8 heads, --compare false / strong / all: about 24 MiB of
// program, 52 B per element of one [heads, N, d] tensor for the first mode (float and int8
// Q/K/V, the simulated memory's copy, outputs, references) and 16 B per element for every
// further mode (its outputs and references). The fit is 5 to 10% above the runs measured.
uint64_t host_bytes_needed(const RunOptions& o, const Shape& sh) {
    const double elements = double(sh.heads) * sh.n * sh.d;
    const double more = double(run_modes(o).size()) - 1.0;
    const double bytes = 24.0 * (1 << 20) + (52.0 + 16.0 * more) * elements;
    return uint64_t(std::min(bytes, 1.8e19));
}

uint64_t machine_bytes() {
    uint64_t m = uint64_t(sysconf(_SC_PHYS_PAGES)) * uint64_t(sysconf(_SC_PAGE_SIZE));
    std::ifstream cg("/sys/fs/cgroup/memory.max");  // cgroup v2; "max" when unlimited
    uint64_t limit = 0;
    if (cg >> limit && limit > 0) m = std::min(m, limit);
    return m;
}

namespace {

// The synthetic generator's settings from the options.
core::SyntheticSpec synthetic_spec(const RunOptions& o) {
    core::SyntheticSpec s;
    s.heads = o.heads;
    s.n = o.seq_len;
    s.d = o.head_dim;
    s.locality = o.locality;
    s.sharpness = o.sharpness;
    s.seed = o.seed;
    s.sharpness_spread = o.sharpness_spread;
    s.sinks = o.sinks;
    s.sink_strength = o.sink_strength;
    s.band = o.band;
    s.band_width = o.band_width;
    s.min_valid = o.min_valid;
    return s;
}

// How the summary names a synthetic workload.
std::string synthetic_source(const RunOptions& o) {
    std::ostringstream os;
    os << (o.workload == "custom" ? std::string("synthetic") : o.workload + "-like synthetic")
       << " (locality " << o.locality << ", sharpness " << o.sharpness;
    if (o.sharpness_spread > 0) os << " +-" << 100 * o.sharpness_spread << "% over heads";
    if (o.sinks) os << ", " << o.sinks << " sinks +" << o.sink_strength;
    if (o.band > 0) os << ", band +" << o.band << " over " << o.band_width << " tokens";
    if (o.min_valid < 1) os << ", valid " << 100 * o.min_valid << "-100%";
    os << ", seed " << o.seed << ")";
    return os.str();
}

// The tensors: loaded from the .npy files, or generated (with each head's valid length).
void load_or_generate(const RunOptions& o, Inputs& in) {
    if (!o.q_file.empty()) {
        in.q = load_tensor_npy(o.q_file);
        in.k = load_tensor_npy(o.k_file);
        in.v = load_tensor_npy(o.v_file);
        in.source = "files " + o.q_file + ", " + o.k_file + ", " + o.v_file;
        return;
    }
    const core::SyntheticSpec s = synthetic_spec(o);
    core::Workload w = core::generate_synthetic(s);
    in.valid = core::valid_lengths(s);
    in.q = std::move(w.q);
    in.k = std::move(w.k);
    in.v = std::move(w.v);
    in.source = synthetic_source(o);
}

// The tensors quantised per head, with each head's scales and valid length.
void quantize(const RunOptions& o, Inputs& in) {
    const int H = in.q.heads, n = in.q.n;
    in.w = {core::quantize_per_head(in.q),
            core::quantize_per_head(in.k),
            core::quantize_per_head(in.v),
            {}};
    for (int h = 0; h < H; ++h) {
        core::HeadParams hp;
        hp.s_q = in.w.q.scale[std::size_t(h)];
        hp.s_k = in.w.k.scale[std::size_t(h)];
        hp.s_v = in.w.v.scale[std::size_t(h)];
        hp.valid_len = o.valid_len                ? o.valid_len
                       : h < int(in.valid.size()) ? in.valid[std::size_t(h)]
                                                  : uint32_t(n);
        in.w.heads.push_back(hp);
    }
}

// Each pruning mode's thresholds: given, or calibrated per head.
void set_thresholds(const RunOptions& o, const core::XbarNumerics& x, Inputs& in) {
    const int H = in.q.heads;
    core::CalibrationSpec cal;
    cal.target = o.keep_mass > 0.0 ? core::CalibrationTarget::KeepMass
                                   : core::CalibrationTarget::KeepFraction;
    cal.value = o.keep_mass > 0.0 ? o.keep_mass : o.keep_fraction;
    cal.on = o.calibrate_on;
    cal.causal = o.job.causal;
    cal.queries = o.calibrate_queries;
    // The calibration set: the workload itself, or Q and K from separate files (quantised on
    // their own scales: thresholds are in logits, so they carry over).
    core::Tensor3 cal_q, cal_k;
    core::QuantizedWorkload cal_w;
    const bool cal_files = !o.calibrate_q_file.empty();
    if (cal_files) {
        cal_q = load_tensor_npy(o.calibrate_q_file);
        cal_k = load_tensor_npy(o.calibrate_k_file);
        cal_w = {core::quantize_per_head(cal_q),
                 core::quantize_per_head(cal_k),
                 core::quantize_per_head(cal_k),
                 {}};
        for (int h = 0; h < H; ++h) {
            core::HeadParams hp;
            hp.s_q = cal_w.q.scale[std::size_t(h)];
            hp.s_k = cal_w.k.scale[std::size_t(h)];
            hp.s_v = hp.s_k;
            hp.valid_len = uint32_t(cal_q.n);
            cal_w.heads.push_back(hp);
        }
    }
    const core::QuantizedWorkload& cw = cal_files ? cal_w : in.w;
    const core::MassWeights mass =
        cal_files ? core::MassWeights{&cal_q, &cal_k} : core::MassWeights{&in.q, &in.k};
    // Given thresholds serve every mode; else each pruning mode calibrates on its own scores.
    for (core::Mode m : run_modes(o)) {
        if (core::keeps_all(m)) continue;
        std::vector<float>& t = in.thresholds[m];
        cal.mode = m;
        if (o.thresholds.empty()) {  // the heads on the host's cores (the same values)
            t = core::calibrate_thresholds(cw, x, cal, mass, std::thread::hardware_concurrency());
            continue;
        }
        for (int h = 0; h < H; ++h)
            t.push_back(
                float(o.thresholds.size() == 1 ? o.thresholds[0] : o.thresholds[std::size_t(h)]));
    }
}

}  // namespace

Inputs build_inputs(const RunOptions& o, const core::XbarNumerics& x) {
    Inputs in;
    load_or_generate(o, in);
    quantize(o, in);
    set_thresholds(o, x, in);
    in.w = in.for_mode(o.job.mode);
    return in;
}

Inputs build_inputs(const RunOptions& o, const core::XbarNumerics& x, core::Tensor3 q,
                    core::Tensor3 k, core::Tensor3 v) {
    Inputs in;
    in.q = std::move(q);
    in.k = std::move(k);
    in.v = std::move(v);
    in.source = "tensors given by the caller";
    quantize(o, in);
    set_thresholds(o, x, in);
    in.w = in.for_mode(o.job.mode);
    return in;
}

}  // namespace sprint::platform

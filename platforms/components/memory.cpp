#include "platforms/components/memory.h"

#include "core/rng.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sprint::platform {

namespace {

constexpr const char* kMsgType = "sprint/memory";

// Memory presets: the one place for timing defaults. Tags as in docs/paper.md: [X] another public
// source (named), [D] our own choice or derivation. Latencies are request-to-first-data as seen
// by an accelerator behind a memory controller (controller + tRCD + tCL class), not datasheet
// core timings.
struct Preset {
    const char* name;
    double latency_ns;
    double write_latency_ns;
    double bandwidth_gbps;
    uint32_t burst_bytes;
    // Access energy of the technology, pJ per bit moved (the cost model's dram.read, dram.write;
    // docs/energy.md), and its source: the energy entries' source text.
    double read_pj_per_bit, write_pj_per_bit;
    const char* energy_source;
};
constexpr Preset kPresets[] = {
    // LPDDR4-2400 x64: 19.2 GB/s [X] (docs/paper.md); 80 ns read and write [D]; 64 B burst: one
    // cache-line sized access over the x64 interface [D].
    {"lpddr4", 80.0, 80.0, 19.2, 64, 8.0, 8.0,
     "[X] LPDDR4, 8 pJ/bit (Accelergy's DRAM energy table; docs/paper.md)"},
    // HBM2, 8 channels x 32 GB/s (DRAMSys memspec): 256 GB/s [X] (docs/paper.md); 60 ns [D]
    // (shorter
    // wires and an on-package controller); 64 B burst [D].
    {"hbm2", 60.0, 60.0, 256.0, 64, 3.9, 3.9,
     "[X] HBM2, 3.9 pJ/bit (O'Connor et al., MICRO 2017; Accelergy's DRAM energy table)"},
    // DDR4-3200 x64: 25.6 GB/s [X] (docs/paper.md); 70 ns [D]; 64 B = BL8 x 8 B [D].
    // Energy: none of our sources gives DDR4's; the derivation and its uncertainty are in
    // docs/energy.md ("Memory technologies").
    {"ddr4", 70.0, 70.0, 25.6, 64, 45.0, 45.0,
     "[D] DDR4, 45 pJ/bit: DDR3's 70 pJ/bit [X] x (1.2 V / 1.5 V)^2 (docs/energy.md)"},
    // ReRAM main memory as in the paper's system: 40 ns read [D] (no precharge/refresh, sensing
    // only); 100 ns write [D]: a set/reset pulse is ~10 ns per cell [X] (NVMExplorer cell in the
    // Accelergy NeuroSim plug-in, docs/paper.md), times several program-and-verify rounds plus the
    // peripheral overhead; behind an LPDDR4-class interface, 19.2 GB/s and 64 B bursts [D].
    {"reram", 40.0, 100.0, 19.2, 64, 3.1, 24.4,
     "[S] ReRAM main memory of the paper: read 3.1, write 24.4 pJ/bit"},
};
constexpr const char* kDefaultPreset = "lpddr4";

std::string hex(uint64_t v) {
    std::ostringstream os;
    os << "0x" << std::hex << v;
    return os.str();
}

}  // namespace

// ---- MemoryConfig -------------------------------------------------------------------------------

MemoryConfig::MemoryConfig() {
    apply_preset(kDefaultPreset, *this);
}

bool MemoryConfig::apply_preset(const std::string& name, MemoryConfig& out) {
    for (const Preset& p : kPresets) {
        if (name != p.name) continue;
        out.preset = p.name;
        out.latency_ns = p.latency_ns;
        out.write_latency_ns = p.write_latency_ns;
        out.bandwidth_gbps = p.bandwidth_gbps;
        out.burst_bytes = p.burst_bytes;
        return true;
    }
    return false;
}

bool MemoryConfig::preset_energy(const std::string& name, MemoryEnergy& out) {
    for (const Preset& p : kPresets)
        if (name == p.name) {
            out = {p.read_pj_per_bit, p.write_pj_per_bit, p.energy_source};
            return true;
        }
    return false;
}

bool MemoryConfig::apply_energy(const std::string& name, core::TechTable& tech) {
    MemoryEnergy e;
    if (!preset_energy(name, e)) return false;
    for (core::TechEntry& t : tech.entries)
        if (t.block == "dram" && (t.action == "read" || t.action == "write")) {
            t.value = t.action == "read" ? e.read_pj_per_bit : e.write_pj_per_bit;
            t.source = e.source;
        }
    return true;
}

std::vector<std::string> MemoryConfig::preset_names() {
    std::vector<std::string> names;
    for (const Preset& p : kPresets) names.emplace_back(p.name);
    return names;
}

void MemoryConfig::register_params(core::ParamRegistry& reg, const std::string& prefix) {
    // The presets' values are listed in the description, so --help and docs/parameters.md
    // show them (their sources are in the table above).
    std::string list;
    for (const Preset& p : kPresets) {
        std::ostringstream os;
        os << p.name << " " << p.latency_ns << "/" << p.write_latency_ns << " ns, "
           << p.bandwidth_gbps << " GB/s, " << p.burst_bytes << " B, " << p.read_pj_per_bit << "/"
           << p.write_pj_per_bit << " pJ/bit";
        list += (list.empty() ? "" : "; ") + os.str();
    }
    reg.add_choice(
        prefix + ".preset", preset,
        "memory technology; sets read/write latency, bandwidth, burst size and read/write "
        "energy (tech.dram.read, tech.dram.write): " +
            list,
        preset_names());
    reg.add_double(prefix + ".latency_ns", latency_ns, "ns",
                   "read latency, request arrival to first data [D] from the preset", 0.0, 1e6);
    reg.add_double(prefix + ".write_latency_ns", write_latency_ns, "ns",
                   "write latency, request arrival to first data accepted [D] from the preset", 0.0,
                   1e6);
    reg.add_double(prefix + ".bandwidth_gbps", bandwidth_gbps, "GB/s",
                   "data-bus bandwidth, 1 GB/s = 1e9 B/s [X] from the preset", 1e-3, 1e6);
    reg.add_uint(
        prefix + ".burst_bytes", burst_bytes, "B",
        "transfer granule; an access occupies the bus for whole bursts [D] from the preset", 1u,
        65536u);
    reg.add_uint(prefix + ".channels", channels, "channels",
                 "independent data buses of bandwidth_gbps each, addresses interleaved [D]", 1u,
                 64u);
    reg.add_uint(prefix + ".interleave_bytes", interleave_bytes, "B",
                 "consecutive bytes on one channel before the next channel [D]", 1u, 1u << 30);
    reg.add_uint(prefix + ".size_mb", size_mb, "MiB",
                 "capacity; storage is allocated only where written [D]", uint64_t(1),
                 uint64_t(1) << 24);
    reg.add_bool(prefix + ".dmi", dmi, "grant direct memory interface pointers (per 1 MiB chunk)");
    reg.add_uint(prefix + ".queue_depth", queue_depth, "requests",
                 "AT: requests accepted and not yet answered before END_REQ is withheld [D]", 1u,
                 4096u);
    reg.add_double(prefix + ".jitter_ns", jitter_ns, "ns",
                   "AT: random extra latency per request, uniform in [0, jitter) [D] 0 = none", 0.0,
                   1e6);
    reg.add_uint(prefix + ".seed", seed, "", "AT: seed of the jitter", 0, ~uint64_t(0));
}

std::string MemoryConfig::validate() const {
    auto bad = [](const std::string& field, const std::string& value, const std::string& rule) {
        return "memory parameter " + field + " = " + value + " is not allowed (" + rule + ")";
    };
    if (!(bandwidth_gbps > 0) || !std::isfinite(bandwidth_gbps))
        return bad("bandwidth_gbps", core::format_double(bandwidth_gbps), "must be > 0");
    if (burst_bytes == 0) return bad("burst_bytes", "0", "must be > 0");
    if (size_mb == 0 || size_mb > (uint64_t(1) << 24))
        return bad("size_mb", std::to_string(size_mb), "must be 1 to 16777216");
    if (!(latency_ns >= 0) || !std::isfinite(latency_ns))
        return bad("latency_ns", core::format_double(latency_ns), "must be >= 0");
    if (!(write_latency_ns >= 0) || !std::isfinite(write_latency_ns))
        return bad("write_latency_ns", core::format_double(write_latency_ns), "must be >= 0");
    if (channels == 0 || channels > 64)
        return bad("channels", std::to_string(channels), "must be 1 to 64");
    if (interleave_bytes == 0) return bad("interleave_bytes", "0", "must be > 0");
    return "";
}

// ---- Memory -------------------------------------------------------------------------------------

Memory::Memory(sc_core::sc_module_name name, const MemoryConfig& cfg)
    : sc_core::sc_module(name),
      target("target"),
      m_cfg(cfg),
      m_size(0),
      m_peq(this, &Memory::peq_cb),
      m_done_peq(this, &Memory::ready_cb),
      m_stats(basename(), "main memory") {
    const std::string err = m_cfg.validate();
    if (!err.empty()) {
        SC_REPORT_ERROR(kMsgType, (std::string(this->name()) + ": " + err).c_str());
        m_cfg = MemoryConfig();  // only reached when errors do not throw: stay usable
    }
    m_size = m_cfg.size_mb * kChunkBytes;
    m_latency = sc_core::sc_time(m_cfg.latency_ns, sc_core::SC_NS);
    m_bus_free.assign(m_cfg.channels, sc_core::SC_ZERO_TIME);
    m_write_latency = sc_core::sc_time(m_cfg.write_latency_ns, sc_core::SC_NS);

    target.register_b_transport(this, &Memory::b_transport);
    target.register_nb_transport_fw(this, &Memory::nb_transport_fw);
    target.register_transport_dbg(this, &Memory::transport_dbg);
    target.register_get_direct_mem_ptr(this, &Memory::get_direct_mem_ptr);

    m_stats.add("read_transactions", &m_count.read_transactions, "",
                "timed read transactions served");
    m_stats.add("write_transactions", &m_count.write_transactions, "",
                "timed write transactions served");
    m_stats.add("read_bytes", &m_count.read_bytes, "B", "bytes read by timed transactions");
    m_stats.add("write_bytes", &m_count.write_bytes, "B", "bytes written by timed transactions");
    m_stats.add("debug_bytes", &m_count.debug_bytes, "B", "bytes moved by debug transport");
    m_stats.add("nb_requests", &m_count.nb_requests, "", "requests that came by nb_transport (AT)");
    m_stats.add("max_queued", &m_count.max_queued, "requests",
                "most accepted, unanswered nb requests (AT)");
    m_stats.add("backpressure_ps", &m_count.backpressure_ps, "ps",
                "time BEGIN_REQs waited for END_REQ, summed (AT)");
    m_stats.add("dmi_grants", &m_count.dmi_grants, "", "DMI pointers granted");
    m_stats.add("error_responses", &m_count.error_responses, "",
                "transactions answered with an error status");
    m_stats.add("busy_ps", &m_count.busy_ps, "ps",
                "data-bus occupancy: sum of burst-rounded transfer times");
}

tlm::tlm_response_status Memory::check(const tlm::tlm_generic_payload& trans) const {
    const uint64_t addr = trans.get_address();
    const uint64_t len = trans.get_data_length();
    if (addr >= m_size || len > m_size - addr) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    if (trans.get_streaming_width() < len) return tlm::TLM_BURST_ERROR_RESPONSE;
    if (trans.get_byte_enable_ptr() && trans.get_byte_enable_length() == 0)
        return tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;
    if (len > 0 && !trans.get_data_ptr()) return tlm::TLM_GENERIC_ERROR_RESPONSE;
    return tlm::TLM_OK_RESPONSE;
}

void Memory::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    const tlm::tlm_command cmd = trans.get_command();
    if (cmd == tlm::TLM_IGNORE_COMMAND) {
        trans.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }
    const tlm::tlm_response_status status = check(trans);
    if (status != tlm::TLM_OK_RESPONSE) {
        ++m_count.error_responses;
        trans.set_response_status(status);
        return;
    }
    const uint64_t addr = trans.get_address(), len = trans.get_data_length();
    const bool write = cmd == tlm::TLM_WRITE_COMMAND;
    if (write) {
        copy_in(addr, trans.get_data_ptr(), len, trans.get_byte_enable_ptr(),
                trans.get_byte_enable_length());
        ++m_count.write_transactions;
        m_count.write_bytes += len;
    } else {
        copy_out(addr, trans.get_data_ptr(), len, trans.get_byte_enable_ptr(),
                 trans.get_byte_enable_length());
        ++m_count.read_transactions;
        m_count.read_bytes += len;
    }
    delay = schedule(write, addr, len, delay);
    trans.set_dmi_allowed(m_cfg.dmi);
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

// ---- approximately timed ----------------------------------------------------------------------

tlm::tlm_sync_enum Memory::nb_transport_fw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                           sc_core::sc_time& t) {
    if (phase == tlm::BEGIN_REQ) {
        m_peq.notify(trans, phase, t);
        return tlm::TLM_ACCEPTED;
    }
    if (phase == tlm::END_RESP) {
        m_peq.notify(trans, phase, t);
        return tlm::TLM_COMPLETED;
    }
    SC_REPORT_ERROR(kMsgType, "nb_transport_fw: unexpected phase");
    return tlm::TLM_COMPLETED;
}

void Memory::peq_cb(tlm::tlm_generic_payload& trans, const tlm::tlm_phase& phase) {
    if (phase == tlm::BEGIN_REQ) {
        if (trans.has_mm()) trans.acquire();
        ++m_count.nb_requests;
        m_waiting.emplace_back(&trans, sc_core::sc_time_stamp());
        accept_waiting();
        return;
    }
    // END_RESP: the transaction is over; a slot is free for a waiting request.
    if (m_resp_open && m_resp_open->has_mm()) m_resp_open->release();
    m_resp_open = nullptr;
    --m_accepted;
    accept_waiting();
    respond_next();
}

void Memory::accept_waiting() {
    while (m_accepted < m_cfg.queue_depth && !m_waiting.empty()) {
        auto [trans, since] = m_waiting.front();
        m_waiting.pop_front();
        ++m_accepted;
        m_count.max_queued = std::max<uint64_t>(m_count.max_queued, m_accepted);
        m_count.backpressure_ps += uint64_t(
            std::llround((sc_core::sc_time_stamp() - since) / sc_core::sc_time(1, sc_core::SC_PS)));
        tlm::tlm_phase p = tlm::END_REQ;
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        target->nb_transport_bw(*trans, p, d);
        // Data moves now; the response waits for the data bus.
        sc_core::sc_time extra = sc_core::SC_ZERO_TIME;
        if (m_cfg.jitter_ns > 0) {
            const double u = core::rng_uniform(core::rng_key(m_cfg.seed, 0x4A17, m_jitter_count++));
            extra = sc_core::sc_time(u * m_cfg.jitter_ns, sc_core::SC_NS);
        }
        sc_core::sc_time done = sc_core::SC_ZERO_TIME;
        const tlm::tlm_command cmd = trans->get_command();
        const tlm::tlm_response_status status =
            cmd == tlm::TLM_IGNORE_COMMAND ? tlm::TLM_OK_RESPONSE : check(*trans);
        if (status != tlm::TLM_OK_RESPONSE) {
            ++m_count.error_responses;
            trans->set_response_status(status);
        } else {
            const uint64_t addr = trans->get_address(), len = trans->get_data_length();
            const bool write = cmd == tlm::TLM_WRITE_COMMAND;
            if (cmd == tlm::TLM_WRITE_COMMAND) {
                copy_in(addr, trans->get_data_ptr(), len, trans->get_byte_enable_ptr(),
                        trans->get_byte_enable_length());
                ++m_count.write_transactions;
                m_count.write_bytes += len;
            } else if (cmd == tlm::TLM_READ_COMMAND) {
                copy_out(addr, trans->get_data_ptr(), len, trans->get_byte_enable_ptr(),
                         trans->get_byte_enable_length());
                ++m_count.read_transactions;
                m_count.read_bytes += len;
            }
            if (cmd != tlm::TLM_IGNORE_COMMAND) done = schedule(write, addr, len, extra);
            trans->set_dmi_allowed(m_cfg.dmi);
            trans->set_response_status(tlm::TLM_OK_RESPONSE);
        }
        // The response becomes ready when the transfer ends.
        m_done_peq.notify(*trans, tlm::BEGIN_RESP, done);
    }
}

void Memory::ready_cb(tlm::tlm_generic_payload& trans, const tlm::tlm_phase&) {
    m_ready.push_back(&trans);
    respond_next();
}

void Memory::respond_next() {
    while (!m_resp_open && !m_ready.empty()) {
        tlm::tlm_generic_payload* trans = m_ready.front();
        m_ready.pop_front();
        m_resp_open = trans;
        tlm::tlm_phase p = tlm::BEGIN_RESP;
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        const tlm::tlm_sync_enum s = target->nb_transport_bw(*trans, p, d);
        if (s == tlm::TLM_COMPLETED || (s == tlm::TLM_UPDATED && p == tlm::END_RESP)) {
            if (trans->has_mm()) trans->release();
            m_resp_open = nullptr;
            --m_accepted;
            accept_waiting();
        }
    }
}

sc_core::sc_time Memory::transfer_time(uint64_t bytes) const {
    const uint64_t bursts = (bytes + m_cfg.burst_bytes - 1) / m_cfg.burst_bytes;
    // bytes / (1e9 bytes/s) = ns
    return sc_core::sc_time(double(bursts * m_cfg.burst_bytes) / m_cfg.bandwidth_gbps,
                            sc_core::SC_NS);
}

sc_core::sc_time Memory::schedule(bool write, uint64_t addr, uint64_t bytes,
                                  const sc_core::sc_time& delay) {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    return end_of(write, addr, bytes, now + delay, true) - now;
}

sc_core::sc_time Memory::end_of(bool write, uint64_t addr, uint64_t bytes,
                                const sc_core::sc_time& arrive, bool commit) {
    const sc_core::sc_time ready = arrive + (write ? m_write_latency : m_latency);
    sc_core::sc_time end = ready;
    auto piece = [&](uint32_t channel, uint64_t n) {
        const sc_core::sc_time xfer = transfer_time(n);
        const sc_core::sc_time done = std::max(ready, m_bus_free[channel]) + xfer;
        end = std::max(end, done);
        if (!commit) return;
        m_bus_free[channel] = done;
        m_count.busy_ps += uint64_t(std::llround(xfer / sc_core::sc_time(1, sc_core::SC_PS)));
    };
    if (m_cfg.channels == 1) {
        piece(0, bytes);
        return end;
    }
    const uint64_t block = m_cfg.interleave_bytes;
    for (uint64_t a = addr, left = bytes; left > 0;) {
        const uint64_t n = std::min(left, block - a % block);
        piece(uint32_t((a / block) % m_cfg.channels), n);
        a += n;
        left -= n;
    }
    return end;
}

sc_core::sc_time Memory::book(bool write, uint64_t addr, uint64_t bytes,
                              const sc_core::sc_time& arrive) {
    (write ? m_count.write_transactions : m_count.read_transactions) += 1;
    (write ? m_count.write_bytes : m_count.read_bytes) += bytes;
    return end_of(write, addr, bytes, arrive, true);
}

sc_core::sc_time Memory::predict(bool write, uint64_t addr, uint64_t bytes,
                                 const sc_core::sc_time& arrive) {
    return end_of(write, addr, bytes, arrive, false);
}

unsigned Memory::transport_dbg(tlm::tlm_generic_payload& trans) {
    const uint64_t addr = trans.get_address();
    const tlm::tlm_command cmd = trans.get_command();
    if (cmd == tlm::TLM_IGNORE_COMMAND || addr >= m_size || !trans.get_data_ptr()) return 0;
    const uint64_t n = std::min<uint64_t>(trans.get_data_length(), m_size - addr);
    if (cmd == tlm::TLM_WRITE_COMMAND)
        copy_in(addr, trans.get_data_ptr(), n, nullptr, 0);
    else
        copy_out(addr, trans.get_data_ptr(), n, nullptr, 0);
    m_count.debug_bytes += n;
    return unsigned(n);
}

bool Memory::get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
    const uint64_t addr = trans.get_address();
    if (addr >= m_size) return false;  // outside: keep the default (whole space, no access)
    if (!m_cfg.dmi) {
        dmi.set_start_address(0);
        dmi.set_end_address(m_size - 1);
        dmi.set_granted_access(tlm::tlm_dmi::DMI_ACCESS_NONE);
        return false;
    }
    const uint64_t index = addr / kChunkBytes;
    dmi.set_dmi_ptr(chunk(index));
    dmi.set_start_address(index * kChunkBytes);
    dmi.set_end_address(index * kChunkBytes + kChunkBytes - 1);
    dmi.set_granted_access(tlm::tlm_dmi::DMI_ACCESS_READ_WRITE);
    const sc_core::sc_time burst = transfer_time(m_cfg.burst_bytes);
    dmi.set_read_latency(m_latency + burst);
    dmi.set_write_latency(m_write_latency + burst);
    if (auto* grant = trans.get_extension<proto::TimingGrant>()) grant->timing = this;
    ++m_count.dmi_grants;
    return true;
}

void Memory::invalidate_all_dmi() {
    target->invalidate_direct_mem_ptr(0, ~uint64_t(0));
}

// ---- storage ------------------------------------------------------------------------------------

uint8_t* Memory::chunk(uint64_t index) {
    auto& slot = m_chunks[index];
    if (!slot) slot.reset(new uint8_t[kChunkBytes]());  // value-initialised: reads as zero
    return slot.get();
}

const uint8_t* Memory::find_chunk(uint64_t index) const {
    const auto it = m_chunks.find(index);
    return it == m_chunks.end() ? nullptr : it->second.get();
}

void Memory::copy_in(uint64_t addr, const uint8_t* src, uint64_t n, const uint8_t* be,
                     unsigned be_len) {
    for (uint64_t pos = 0; pos < n;) {
        const uint64_t a = addr + pos, off = a % kChunkBytes;
        const uint64_t span = std::min(n - pos, kChunkBytes - off);
        uint8_t* dst = chunk(a / kChunkBytes) + off;
        if (!be) {
            std::memcpy(dst, src + pos, span);
        } else {
            for (uint64_t k = 0; k < span; ++k)
                if (be[(pos + k) % be_len] != TLM_BYTE_DISABLED) dst[k] = src[pos + k];
        }
        pos += span;
    }
}

void Memory::copy_out(uint64_t addr, uint8_t* dst, uint64_t n, const uint8_t* be,
                      unsigned be_len) const {
    for (uint64_t pos = 0; pos < n;) {
        const uint64_t a = addr + pos, off = a % kChunkBytes;
        const uint64_t span = std::min(n - pos, kChunkBytes - off);
        const uint8_t* c = find_chunk(a / kChunkBytes);
        if (!be) {
            if (c)
                std::memcpy(dst + pos, c + off, span);
            else
                std::memset(dst + pos, 0, span);
        } else {
            for (uint64_t k = 0; k < span; ++k) {
                if (be[(pos + k) % be_len] == TLM_BYTE_DISABLED) continue;
                dst[pos + k] = c ? c[off + k] : 0;
            }
        }
        pos += span;
    }
}

// ---- host-side access ---------------------------------------------------------------------------

void Memory::check_range(const char* what, uint64_t offset, uint64_t bytes) const {
    if (offset <= m_size && bytes <= m_size - offset) return;
    throw std::runtime_error(std::string(name()) + ": " + what + " of " + std::to_string(bytes) +
                             " bytes at offset " + hex(offset) + " is outside the memory (size " +
                             hex(m_size) + ")");
}

void Memory::load(uint64_t offset, const void* src, uint64_t bytes) {
    check_range("load", offset, bytes);
    copy_in(offset, static_cast<const uint8_t*>(src), bytes, nullptr, 0);
}

void Memory::dump(uint64_t offset, void* dst, uint64_t bytes) const {
    check_range("dump", offset, bytes);
    copy_out(offset, static_cast<uint8_t*>(dst), bytes, nullptr, 0);
}

void Memory::load_file(const std::string& path, uint64_t offset) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw std::runtime_error(std::string(name()) + ": cannot open '" + path + "' to load");
    const uint64_t bytes = uint64_t(in.tellg());
    check_range("load_file", offset, bytes);
    in.seekg(0);
    std::vector<char> buf(std::min<uint64_t>(bytes, kChunkBytes));
    for (uint64_t pos = 0; pos < bytes;) {
        const uint64_t n = std::min<uint64_t>(bytes - pos, buf.size());
        if (!in.read(buf.data(), std::streamsize(n)))
            throw std::runtime_error(std::string(name()) + ": read error in '" + path + "'");
        copy_in(offset + pos, reinterpret_cast<const uint8_t*>(buf.data()), n, nullptr, 0);
        pos += n;
    }
}

void Memory::dump_file(const std::string& path, uint64_t offset, uint64_t bytes) const {
    check_range("dump_file", offset, bytes);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out)
        throw std::runtime_error(std::string(name()) + ": cannot open '" + path + "' to dump");
    std::vector<char> buf(std::min<uint64_t>(bytes, kChunkBytes));
    for (uint64_t pos = 0; pos < bytes;) {
        const uint64_t n = std::min<uint64_t>(bytes - pos, buf.size());
        copy_out(offset + pos, reinterpret_cast<uint8_t*>(buf.data()), n, nullptr, 0);
        out.write(buf.data(), std::streamsize(n));
        pos += n;
    }
    if (!out.flush())
        throw std::runtime_error(std::string(name()) + ": write error in '" + path + "'");
}

}  // namespace sprint::platform

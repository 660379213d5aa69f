// Fixtures of the tests that embed the IP the way another virtual platform would, with no project
// platform code: foreign memories bound straight to `mem` (b_transport only, or nb_transport
// only as DRAMSys has), a CPU-like initiator writing the registers on `csr`, and a job laid out
// in a flat memory by hand from docs/registers.md.
#pragma once

#include <cstring>
#include <vector>

#include <catch2/catch.hpp>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/peq_with_cb_and_phase.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "core/calibration.h"
#include "core/quant.h"
#include "core/reference.h"
#include "core/workload.h"
#include "modules/sprint_ip.h"
#include "tlm_interfaces/register_map.h"

namespace sprint::embedtest {

// A foreign memory: flat array, fixed latency, b_transport only.
struct PlainMemory : sc_core::sc_module {
    tlm_utils::simple_target_socket<PlainMemory> socket{"socket"};
    std::vector<uint8_t> bytes;
    uint64_t requests = 0;
    explicit PlainMemory(const sc_core::sc_module_name& n, std::size_t size)
        : sc_module(n), bytes(size, 0) {
        socket.register_b_transport(this, &PlainMemory::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
        ++requests;
        const uint64_t a = gp.get_address();
        const unsigned n = gp.get_data_length();
        if (a > bytes.size() || n > bytes.size() - a) {
            gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        if (gp.is_read())
            std::memcpy(gp.get_data_ptr(), &bytes[a], n);
        else if (gp.is_write())
            std::memcpy(&bytes[a], gp.get_data_ptr(), n);
        delay += sc_core::sc_time(50, sc_core::SC_NS);
        gp.set_response_status(tlm::TLM_OK_RESPONSE);
    }
};

// A foreign memory with only the 4-phase non-blocking interface: END_REQ 2 ns after BEGIN_REQ,
// BEGIN_RESP 40 ns after END_REQ, one request in its request phase at a time.
struct NbOnlyMemory : sc_core::sc_module {
    tlm_utils::multi_passthrough_target_socket<NbOnlyMemory> socket{"socket"};
    std::vector<uint8_t> bytes;
    tlm_utils::peq_with_cb_and_phase<NbOnlyMemory> peq{this, &NbOnlyMemory::cb};
    uint64_t requests = 0;
    explicit NbOnlyMemory(const sc_core::sc_module_name& n, std::size_t size)
        : sc_module(n), bytes(size, 0) {
        socket.register_nb_transport_fw(this, &NbOnlyMemory::nb_transport_fw);
    }
    tlm::tlm_sync_enum nb_transport_fw(int, tlm::tlm_generic_payload& gp, tlm::tlm_phase& ph,
                                       sc_core::sc_time& t) {
        peq.notify(gp, ph, t);
        return tlm::TLM_ACCEPTED;
    }
    void cb(tlm::tlm_generic_payload& gp, const tlm::tlm_phase& ph) {
        if (ph == tlm::BEGIN_REQ) {
            ++requests;
            const uint64_t a = gp.get_address();
            const unsigned n = gp.get_data_length();
            if (a > bytes.size() || n > bytes.size() - a)
                gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            else {
                if (gp.is_read())
                    std::memcpy(gp.get_data_ptr(), &bytes[a], n);
                else if (gp.is_write())
                    std::memcpy(&bytes[a], gp.get_data_ptr(), n);
                gp.set_response_status(tlm::TLM_OK_RESPONSE);
            }
            peq.notify(gp, tlm::END_REQ, sc_core::sc_time(2, sc_core::SC_NS));
        } else if (ph == tlm::END_REQ) {
            tlm::tlm_phase p = tlm::END_REQ;
            sc_core::sc_time t = sc_core::SC_ZERO_TIME;
            socket->nb_transport_bw(gp, p, t);
            peq.notify(gp, tlm::BEGIN_RESP, sc_core::sc_time(40, sc_core::SC_NS));
        } else if (ph == tlm::BEGIN_RESP) {
            tlm::tlm_phase p = tlm::BEGIN_RESP;
            sc_core::sc_time t = sc_core::SC_ZERO_TIME;
            socket->nb_transport_bw(gp, p, t);  // the IP answers END_RESP on the forward path
        }
    }
};

// A CPU-like initiator that runs a driver routine.
struct Cpu : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<Cpu> bus{"bus"};
    sc_core::sc_in<bool> irq{"irq"};
    std::function<void(Cpu&)> program;
    explicit Cpu(const sc_core::sc_module_name& n) : sc_module(n) {
        SC_HAS_PROCESS(Cpu);
        SC_THREAD(run);
    }
    void access(tlm::tlm_command cmd, uint32_t off, uint32_t& v) {
        tlm::tlm_generic_payload gp;
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        gp.set_command(cmd);
        gp.set_address(off);
        gp.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
        gp.set_data_length(4);
        gp.set_streaming_width(4);
        bus->b_transport(gp, d);
        REQUIRE(gp.is_response_ok());
        wait(d);
    }
    void write(uint32_t off, uint32_t v) { access(tlm::TLM_WRITE_COMMAND, off, v); }
    uint32_t read(uint32_t off) {
        uint32_t v = 0;
        access(tlm::TLM_READ_COMMAND, off, v);
        return v;
    }
    void run() {
        program(*this);
        sc_core::sc_stop();
    }
};

// The IP with a foreign memory on `mem` and the CPU on `csr`, no router, irq wired.
template <class Memory>
struct EmbedBench {
    SprintIp ip;
    Memory ram;
    Cpu cpu{"cpu"};
    sc_core::sc_signal<bool> irq{"irq"};
    EmbedBench(const IpConfig& cfg, std::size_t mem_bytes)
        : ip("sprint", cfg), ram("ram", mem_bytes) {
        cpu.bus.bind(ip.csr);
        ip.mem.bind(ram.socket);
        ip.irq(irq);
        cpu.irq(irq);
    }
};

// A job laid out in a flat memory: 2 heads, N = 100, d = 64, thresholds calibrated to keep 20%.
struct FlatJob {
    static constexpr uint32_t kHeads = 2, kN = 100, kD = 64;
    static constexpr uint64_t Q = 0x0, K = 0x4000, V = 0x8000, T = 0xC000, OUT = 0x10000;
    core::QuantizedWorkload w;

    FlatJob() {
        core::SyntheticSpec spec;
        spec.heads = kHeads;
        spec.n = kN;
        spec.d = kD;
        const core::Workload f = core::generate_synthetic(spec);
        w = {core::quantize_per_head(f.q),
             core::quantize_per_head(f.k),
             core::quantize_per_head(f.v),
             {}};
        for (uint32_t h = 0; h < kHeads; ++h) {
            w.heads.push_back({0.0f, w.q.scale[h], w.k.scale[h], w.v.scale[h], kN});
            w.heads[h].threshold =
                core::calibrate_threshold(w, int(h), {}, core::CalibrationSpec::fraction(0.2));
        }
    }
    // The tensors and the head table, as a driver writes them (docs/registers.md).
    void load(std::vector<uint8_t>& bytes) const {
        const uint64_t elems = uint64_t(kHeads) * kN * kD;
        std::memcpy(&bytes[Q], w.q.data.data(), elems);
        std::memcpy(&bytes[K], w.k.data.data(), elems);
        std::memcpy(&bytes[V], w.v.data.data(), elems);
        for (uint32_t h = 0; h < kHeads; ++h)
            regs::encode_head_entry(w.heads[h], &bytes[T + h * regs::kHeadEntryBytes]);
    }
    // The driver's sequence up to START (sprint mode, non-causal, fixed softmax, float32 output).
    void start(Cpu& c) const {
        c.write(regs::JOB_CFG, 0);
        c.write(regs::HEADS, kHeads);
        c.write(regs::SEQ_LEN, kN);
        c.write(regs::HEAD_DIM, kD);
        c.write(regs::Q_BASE_LO, Q);
        c.write(regs::K_BASE_LO, K);
        c.write(regs::V_BASE_LO, V);
        c.write(regs::HEAD_TABLE_LO, T);
        c.write(regs::OUT_BASE_LO, OUT);
        c.write(regs::IRQ_ENABLE, regs::IRQ_DONE | regs::IRQ_ERROR);
        c.write(regs::CTRL, regs::CTRL_START);
    }
    bool output_exact(const std::vector<uint8_t>& bytes, const IpConfig& cfg) const {
        const auto ref = core::reference_output(w, core::JobOptions{}, cfg.numerics());
        return std::equal(ref.begin(), ref.end(), bytes.begin() + OUT);
    }
};

}  // namespace sprint::embedtest

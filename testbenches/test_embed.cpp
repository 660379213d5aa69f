// Embedding the IP in somebody else's virtual platform: no project platform code at all. A
// foreign memory bound straight to the IP's `mem` port, and an initiator that writes the
// registers directly on `csr`. The memory implements either only b_transport (no DMI, no debug
// transport) or only nb_transport, on a socket with no b_transport at all (as DRAMSys does).
// Every combination with both timing modes must give the core's bit-exact result. This is the
// example README.md shows.
#include <catch2/catch.hpp>

#include <cstring>
#include <type_traits>

#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/peq_with_cb_and_phase.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "core/quant.h"
#include "core/reference.h"
#include "core/workload.h"
#include "modules/sprint_ip.h"
#include "tlm_interfaces/register_map.h"

namespace {

// A foreign memory: flat array, fixed latency, b_transport only.
struct PlainMemory : sc_core::sc_module {
    tlm_utils::simple_target_socket<PlainMemory> socket{"socket"};
    std::vector<uint8_t> bytes;
    uint64_t requests = 0;
    explicit PlainMemory(const sc_core::sc_module_name& n, std::size_t size) : sc_module(n), bytes(size, 0) {
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
        if (gp.is_read()) std::memcpy(gp.get_data_ptr(), &bytes[a], n);
        else if (gp.is_write()) std::memcpy(&bytes[a], gp.get_data_ptr(), n);
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
    explicit NbOnlyMemory(const sc_core::sc_module_name& n, std::size_t size) : sc_module(n), bytes(size, 0) {
        socket.register_nb_transport_fw(this, &NbOnlyMemory::nb_transport_fw);
    }
    tlm::tlm_sync_enum nb_transport_fw(int, tlm::tlm_generic_payload& gp, tlm::tlm_phase& ph, sc_core::sc_time& t) {
        peq.notify(gp, ph, t);
        return tlm::TLM_ACCEPTED;
    }
    void cb(tlm::tlm_generic_payload& gp, const tlm::tlm_phase& ph) {
        if (ph == tlm::BEGIN_REQ) {
            ++requests;
            const uint64_t a = gp.get_address();
            const unsigned n = gp.get_data_length();
            if (a > bytes.size() || n > bytes.size() - a) gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            else {
                if (gp.is_read()) std::memcpy(gp.get_data_ptr(), &bytes[a], n);
                else if (gp.is_write()) std::memcpy(&bytes[a], gp.get_data_ptr(), n);
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

}  // namespace

template <class Memory>
void embed(sprint::TimingMode mode) {
    using namespace sprint;
    // Workload: 2 heads, N = 100, d = 64, thresholds calibrated to keep 20%.
    core::SyntheticSpec spec;
    spec.heads = 2;
    spec.n = 100;
    spec.d = 64;
    const core::Workload f = core::generate_synthetic(spec);
    core::QuantizedWorkload w{core::quantize_per_head(f.q), core::quantize_per_head(f.k),
                              core::quantize_per_head(f.v), {}};
    for (int h = 0; h < 2; ++h) {
        w.heads.push_back({0.0f, w.q.scale[h], w.k.scale[h], w.v.scale[h], 100});
        w.heads[h].threshold = core::calibrate_threshold(w, h, false, {}, 0.2);
    }
    const uint64_t elems = 2 * 100 * 64, Q = 0x0, K = 0x4000, V = 0x8000, T = 0xC000, OUT = 0x10000;

    // --- the integrator's platform ---
    IpConfig cfg;  // defaults; cfg.fetcher.window_size = 0: the IP may address all of `mem`
    cfg.timing = mode;
    // A memory without b_transport needs nb_transport on the mem port in LT too.
    if (std::is_same<Memory, NbOnlyMemory>::value) cfg.fetcher.mem_protocol = "nb";
    SprintIp ip("sprint", cfg);
    Memory ram("ram", 1 << 20);
    Cpu cpu("cpu");
    sc_core::sc_signal<bool> irq("irq");
    cpu.bus.bind(ip.csr);   // registers at offset 0 of the CPU's view
    ip.mem.bind(ram.socket);
    ip.irq(irq);
    cpu.irq(irq);

    std::memcpy(&ram.bytes[Q], w.q.data.data(), elems);
    std::memcpy(&ram.bytes[K], w.k.data.data(), elems);
    std::memcpy(&ram.bytes[V], w.v.data.data(), elems);
    for (int h = 0; h < 2; ++h) {
        uint8_t* e = &ram.bytes[T + h * regs::kHeadEntryBytes];
        std::memcpy(e + 0, &w.heads[h].threshold, 4);
        std::memcpy(e + 4, &w.heads[h].s_q, 4);
        std::memcpy(e + 8, &w.heads[h].s_k, 4);
        std::memcpy(e + 12, &w.heads[h].s_v, 4);
        std::memcpy(e + 16, &w.heads[h].valid_len, 4);
    }
    uint32_t status = 0;
    cpu.program = [&](Cpu& c) {
        c.write(regs::JOB_CFG, 0);  // sprint mode, non-causal, fixed softmax, float32 output
        c.write(regs::HEADS, 2);
        c.write(regs::SEQ_LEN, 100);
        c.write(regs::HEAD_DIM, 64);
        c.write(regs::Q_BASE_LO, Q);
        c.write(regs::K_BASE_LO, K);
        c.write(regs::V_BASE_LO, V);
        c.write(regs::HEAD_TABLE_LO, T);
        c.write(regs::OUT_BASE_LO, OUT);
        c.write(regs::IRQ_ENABLE, regs::IRQ_DONE | regs::IRQ_ERROR);
        c.write(regs::CTRL, regs::CTRL_START);
        sc_core::wait(c.irq.posedge_event());
        status = c.read(regs::STATUS);
        c.write(regs::IRQ_STATUS, c.read(regs::IRQ_STATUS));
    };
    sc_core::sc_start();

    CHECK(status == regs::STATUS_DONE);
    CHECK(ram.requests == ip.fetcher.mem_reads + ip.fetcher.mem_writes);  // all traffic went there
    const auto ref = core::reference_output(w, core::JobOptions{}, cfg.numerics());
    CHECK(std::equal(ref.begin(), ref.end(), ram.bytes.begin() + OUT));
}

TEST_CASE("embed: LT with a b_transport-only memory and no router") { embed<PlainMemory>(sprint::TimingMode::LT); }
TEST_CASE("embed: AT with a b_transport-only memory and no router") { embed<PlainMemory>(sprint::TimingMode::AT); }
TEST_CASE("embed: LT with an nb_transport-only memory (DRAMSys-like) and no router") { embed<NbOnlyMemory>(sprint::TimingMode::LT); }
TEST_CASE("embed: AT with an nb_transport-only memory (DRAMSys-like) and no router") { embed<NbOnlyMemory>(sprint::TimingMode::AT); }

// The consumer's platform: the SPRINT IP with the package's own platform components on `mem` (the
// router in front of the memory model, sprint-vp::sprint_components) and a bus master of its own on
// `csr` that reads the identification and capability registers and runs one tiny job (one head of
// 8 x 8, dense mode, threshold irrelevant). Exits 0 when the IP answers as documented and the
// installed GTKWave views are where the package says.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "modules/sprint_ip.h"
#include "platforms/components/memory.h"
#include "platforms/components/router.h"
#include "tlm_interfaces/register_map.h"

struct Master : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<Master> bus{"bus"};
    sc_core::sc_in<bool> irq{"irq"};
    int failures = 0;
    explicit Master(const sc_core::sc_module_name& n) : sc_module(n) {
        SC_HAS_PROCESS(Master);
        SC_THREAD(run);
    }
    uint32_t access(tlm::tlm_command c, uint32_t off, uint32_t v = 0) {
        tlm::tlm_generic_payload gp;
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        gp.set_command(c);
        gp.set_address(off);
        gp.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
        gp.set_data_length(4);
        gp.set_streaming_width(4);
        bus->b_transport(gp, d);
        if (!gp.is_response_ok()) ++failures;
        wait(d);
        return v;
    }
    void check(bool ok, const char* what) {
        if (!ok) {
            std::printf("consumer: FAILED: %s\n", what);
            ++failures;
        }
    }
    void run() {
        using namespace sprint::regs;
        check(access(tlm::TLM_READ_COMMAND, ID) == kIdValue, "ID reads 0x53505254");
        check(access(tlm::TLM_READ_COMMAND, CAP_MAX_SEQ) > 0, "CAP_MAX_SEQ is set");
        sprint::core::JobOptions dense;
        dense.mode = sprint::core::Mode::Dense;
        const uint32_t cfg[][2] = {{JOB_CFG, encode_job_cfg(dense)},
                                   {HEADS, 1},
                                   {SEQ_LEN, 8},
                                   {HEAD_DIM, 8},
                                   {Q_BASE_LO, 0x000},
                                   {K_BASE_LO, 0x040},
                                   {V_BASE_LO, 0x080},
                                   {HEAD_TABLE_LO, 0x0C0},
                                   {OUT_BASE_LO, 0x100},
                                   {IRQ_ENABLE, IRQ_DONE | IRQ_ERROR},
                                   {CTRL, CTRL_START}};
        for (const auto& r : cfg) access(tlm::TLM_WRITE_COMMAND, r[0], r[1]);
        wait(irq.posedge_event());
        check(access(tlm::TLM_READ_COMMAND, STATUS) == STATUS_DONE, "the job completes");
        sc_core::sc_stop();
    }
};

int sc_main(int, char*[]) {
    sprint::IpConfig cfg;
    sprint::SprintIp ip("sprint", cfg);
    sprint::platform::MemoryConfig mem_cfg;
    mem_cfg.size_mb = 1;
    sprint::platform::Memory ram("ram", mem_cfg);
    sprint::platform::Router bus("bus");
    Master cpu("cpu");
    sc_core::sc_signal<bool> irq("irq");
    cpu.bus.bind(ip.csr);
    ip.mem.bind(bus.targets);
    bus.initiators.bind(ram.target);
    bus.map(0, 0, ram.size_bytes(), "ram");
    ip.irq(irq);
    cpu.irq(irq);
    // One head of 8 x 8: Q, K, V all ones, scales 1, threshold 0, valid_len 8.
    const std::vector<unsigned char> ones(3 * 64, 1);
    ram.load(0, ones.data(), ones.size());
    sprint::core::HeadParams head;
    head.valid_len = 8;
    uint8_t entry[sprint::regs::kHeadEntryBytes] = {};
    sprint::regs::encode_head_entry(head, entry);
    ram.load(0x0C0, entry, sizeof entry);
    sc_core::sc_start();
    float out0 = 0;
    ram.dump(0x100, &out0, 4);
    if (out0 < 0.9f || out0 > 1.1f) {
        std::printf(
            "consumer: FAILED: output %g, expected about 1 (softmax-weighted mean of ones)\n",
            out0);
        ++cpu.failures;
    }
    for (const char* view : {"/overview.gtkw", "/memory.gtkw"})
        if (!std::ifstream(std::string(SPRINT_VP_WAVEFORMS_DIR) + view)) {
            std::printf("consumer: FAILED: no %s in %s\n", view, SPRINT_VP_WAVEFORMS_DIR);
            ++cpu.failures;
        }
    std::printf("consumer: %s (C++ %ld)\n", cpu.failures ? "FAILED" : "ok", long(__cplusplus));
    return cpu.failures ? 1 : 0;
}

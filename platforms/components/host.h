// Host: a driver-like initiator. Preloads tensors and the head table into memory (DMI where the
// memory grants it, else debug transport: setting up memory is not part of the IP's timing),
// programs the IP through its registers with timed b_transport, waits for the interrupt, reads
// STATUS and the counters, clears the interrupt and reads the output back.
// Sockets: bus (initiator, to the router); irq (sc_in<bool>). Counts: register accesses, jobs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "core/reference.h"
#include "core/types.h"
#include "tlm_interfaces/register_map.h"

namespace sprint::platform {

// Where a job's buffers live and how it is configured: the register values of one job.
struct JobDesc : regs::JobRegs {
    uint32_t raw_mode = ~0u;  // if not ~0u, written to JOB_CFG.MODE instead (bad-mode tests)
};

struct JobResult {
    bool completed = false;  // the interrupt came before the timeout
    uint32_t status = 0, irq_status = 0;
    regs::ErrorCode error = regs::ErrorCode::None;
    uint64_t cycles = 0, mem_read_bytes = 0, mem_write_bytes = 0, kept_keys = 0, k_rows_fetched = 0,
             v_rows_fetched = 0;
    sc_core::sc_time start, end;  // host view: START written, interrupt seen
    bool ok() const {
        return completed && error == regs::ErrorCode::None && (status & regs::STATUS_DONE);
    }
};

class Host : public sc_core::sc_module {
  public:
    tlm_utils::simple_initiator_socket<Host> bus;
    sc_core::sc_in<bool> irq;

    using Script = std::function<void(Host&)>;
    // `script` runs in the host's thread after elaboration; sc_stop() is called when it returns.
    Host(const sc_core::sc_module_name& name, uint64_t csr_base, Script script);

    // ---- driver API, callable from the script ----
    void write_reg(uint32_t offset, uint32_t value);
    uint32_t read_reg(uint32_t offset);
    // A raw 32-bit-or-other access to the csr window for tests of bad accesses.
    tlm::tlm_response_status csr_access(tlm::tlm_command cmd, uint64_t offset, uint8_t* data,
                                        unsigned len, const uint8_t* byte_enables = nullptr,
                                        unsigned be_len = 0, unsigned streaming_width = 0);
    // Untimed memory access (DMI if granted, else debug transport). Throws on failure.
    void mem_write(uint64_t addr, const void* data, uint64_t bytes);
    void mem_read(uint64_t addr, void* data, uint64_t bytes);
    // Where `place` puts a job of this shape from `base`: Q, K, V, (with opt.k_readback) the K
    // low-bit plane for a crossbar of `key_bits`, head table, output, each 64-byte aligned;
    // `end_out` gets the first free address after them. Nothing is written.
    static JobDesc layout(uint32_t heads, uint32_t n, uint32_t d, const core::JobOptions& opt,
                          uint64_t base, uint64_t* end_out = nullptr, int key_bits = 4);
    // Lay a quantised workload out in memory as `layout` says (output zeroed) and return the job;
    // with opt.k_readback, K's low bits packed for the IP's CAP_KEY_BITS (read from the IP).
    JobDesc place(const core::QuantizedWorkload& w, const core::JobOptions& opt, uint64_t base,
                  uint64_t* end_out = nullptr);
    // A head table (docs/registers.md) at `table`.
    void write_head_table(uint64_t table, const std::vector<core::HeadParams>& heads);
    // Write the job registers (JOB_CFG to HEAD_TABLE); nothing starts.
    void program_job(const JobDesc& job);
    // Program the registers, START, wait for irq (or `timeout`), read back, clear the irq.
    JobResult run_job(const JobDesc& job, const sc_core::sc_time& timeout);
    std::vector<uint8_t> read_output(const JobDesc& job);
    // Let simulated time catch up with the annotated time of the host's accesses, then wait `t`.
    void sync();
    void wait_for(const sc_core::sc_time& t);

    uint64_t reg_reads = 0, reg_writes = 0, jobs = 0, dmi_bytes = 0, debug_bytes = 0;

  private:
    void thread();
    void invalidate_dmi(sc_dt::uint64 start, sc_dt::uint64 end);
    bool dmi_copy(uint64_t addr, void* data, uint64_t bytes, bool write);

    uint64_t m_csr_base;
    Script m_script;
    sc_core::sc_time m_local;  // annotated time of the host's register accesses
    std::vector<tlm::tlm_dmi> m_dmi;
};

}  // namespace sprint::platform

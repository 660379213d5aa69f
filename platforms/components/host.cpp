#include "platforms/components/host.h"

#include "core/crossbar.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "core/keep_rule.h"

namespace sprint::platform {

using namespace sc_core;
using namespace tlm;

Host::Host(const sc_module_name& name, uint64_t csr_base, Script script)
    : sc_module(name), bus("bus"), irq("irq"), m_csr_base(csr_base), m_script(std::move(script)) {
    SC_HAS_PROCESS(Host);
    SC_THREAD(thread);
    bus.register_invalidate_direct_mem_ptr(this, &Host::invalidate_dmi);
}

void Host::invalidate_dmi(sc_dt::uint64 start, sc_dt::uint64 end) {
    m_dmi.erase(std::remove_if(m_dmi.begin(), m_dmi.end(),
                               [&](const tlm_dmi& d) {
                                   return d.get_start_address() <= end &&
                                          d.get_end_address() >= start;
                               }),
                m_dmi.end());
}

void Host::thread() {
    if (m_script) m_script(*this);
    sync();
    // The interrupt line falls just after the last IRQ_STATUS clear; a trace file records a time
    // step only when time moves on: one picosecond more, so the waveforms end with it low.
    wait(sc_time(1, SC_PS));
    sc_stop();
}

void Host::sync() {
    if (m_local > SC_ZERO_TIME) {
        wait(m_local);
        m_local = SC_ZERO_TIME;
    }
}

void Host::wait_for(const sc_time& t) {
    sync();
    wait(t);
}

tlm_response_status Host::csr_access(tlm_command cmd, uint64_t offset, uint8_t* data, unsigned len,
                                     const uint8_t* be, unsigned be_len, unsigned sw) {
    tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(m_csr_base + offset);
    gp.set_data_ptr(data);
    gp.set_data_length(len);
    gp.set_streaming_width(sw ? sw : len);
    gp.set_byte_enable_ptr(const_cast<uint8_t*>(be));
    gp.set_byte_enable_length(be_len);
    gp.set_dmi_allowed(false);
    gp.set_response_status(TLM_INCOMPLETE_RESPONSE);
    bus->b_transport(gp, m_local);
    return gp.get_response_status();
}

void Host::write_reg(uint32_t offset, uint32_t value) {
    uint8_t b[4];
    std::memcpy(b, &value, 4);
    const tlm_response_status st = csr_access(TLM_WRITE_COMMAND, offset, b, 4);
    ++reg_writes;
    if (st != TLM_OK_RESPONSE)
        throw std::runtime_error("register write failed at offset " + std::to_string(offset));
}

uint32_t Host::read_reg(uint32_t offset) {
    uint8_t b[4] = {0, 0, 0, 0};
    const tlm_response_status st = csr_access(TLM_READ_COMMAND, offset, b, 4);
    ++reg_reads;
    if (st != TLM_OK_RESPONSE)
        throw std::runtime_error("register read failed at offset " + std::to_string(offset));
    uint32_t v;
    std::memcpy(&v, b, 4);
    return v;
}

bool Host::dmi_copy(uint64_t addr, void* data, uint64_t bytes, bool write) {
    auto find = [&](uint64_t a) -> tlm_dmi* {
        for (auto& d : m_dmi)
            if (a >= d.get_start_address() && a <= d.get_end_address() &&
                (write ? d.is_write_allowed() : d.is_read_allowed()))
                return &d;
        return nullptr;
    };
    uint8_t* p = static_cast<uint8_t*>(data);
    while (bytes) {
        tlm_dmi* d = find(addr);
        if (!d) {
            tlm_generic_payload gp;
            gp.set_command(write ? TLM_WRITE_COMMAND : TLM_READ_COMMAND);
            gp.set_address(addr);
            tlm_dmi nd;
            if (!bus->get_direct_mem_ptr(gp, nd)) return false;
            m_dmi.push_back(nd);
            d = find(addr);
            if (!d) return false;
        }
        const uint64_t n = std::min<uint64_t>(bytes, d->get_end_address() - addr + 1);
        uint8_t* mem = d->get_dmi_ptr() + (addr - d->get_start_address());
        if (write)
            std::memcpy(mem, p, n);
        else
            std::memcpy(p, mem, n);
        addr += n;
        p += n;
        bytes -= n;
        dmi_bytes += n;
    }
    return true;
}

void Host::mem_write(uint64_t addr, const void* data, uint64_t bytes) {
    if (dmi_copy(addr, const_cast<void*>(data), bytes, true)) return;
    const uint8_t* p = static_cast<const uint8_t*>(data);
    for (uint64_t off = 0; off < bytes;) {
        const unsigned n = unsigned(std::min<uint64_t>(bytes - off, 1u << 16));
        tlm_generic_payload gp;
        gp.set_command(TLM_WRITE_COMMAND);
        gp.set_address(addr + off);
        gp.set_data_ptr(const_cast<uint8_t*>(p + off));
        gp.set_data_length(n);
        if (bus->transport_dbg(gp) != n)
            throw std::runtime_error("host: memory write failed at address " +
                                     std::to_string(addr + off));
        debug_bytes += n;
        off += n;
    }
}

void Host::mem_read(uint64_t addr, void* data, uint64_t bytes) {
    if (dmi_copy(addr, data, bytes, false)) return;
    uint8_t* p = static_cast<uint8_t*>(data);
    for (uint64_t off = 0; off < bytes;) {
        const unsigned n = unsigned(std::min<uint64_t>(bytes - off, 1u << 16));
        tlm_generic_payload gp;
        gp.set_command(TLM_READ_COMMAND);
        gp.set_address(addr + off);
        gp.set_data_ptr(p + off);
        gp.set_data_length(n);
        if (bus->transport_dbg(gp) != n)
            throw std::runtime_error("host: memory read failed at address " +
                                     std::to_string(addr + off));
        debug_bytes += n;
        off += n;
    }
}

namespace {
constexpr uint64_t align(uint64_t x) {
    return (x + regs::kBaseAlign - 1) / regs::kBaseAlign * regs::kBaseAlign;
}
}  // namespace

JobDesc Host::layout(uint32_t heads, uint32_t n, uint32_t d, const core::JobOptions& opt,
                     uint64_t base, uint64_t* end_out, int key_bits) {
    JobDesc j;
    j.opt = opt;
    j.heads = heads;
    j.n = n;
    j.d = d;
    const uint64_t elems = uint64_t(heads) * n * d;
    uint64_t a = align(base);
    for (uint64_t* buf : {&j.q, &j.k, &j.v}) {
        *buf = a;
        a = align(a + elems);
    }
    if (opt.k_readback) {
        j.k_lsb = a;
        a = align(a + uint64_t(heads) * n * core::key_lsb_row_bytes(int(d), key_bits));
    }
    j.table = a;
    a = align(a + uint64_t(heads) * regs::kHeadEntryBytes);
    j.out = a;
    a = align(a + elems * core::output_element_bytes(opt.output));
    if (end_out) *end_out = a;
    return j;
}

JobDesc Host::place(const core::QuantizedWorkload& w, const core::JobOptions& opt, uint64_t base,
                    uint64_t* end_out) {
    const int key_bits = opt.k_readback ? int(read_reg(regs::CAP_KEY_BITS)) : 4;
    const JobDesc j =
        layout(uint32_t(w.q.heads), uint32_t(w.q.n), uint32_t(w.q.d), opt, base, end_out, key_bits);
    const uint64_t elems = uint64_t(j.heads) * j.n * j.d;
    mem_write(j.q, w.q.data.data(), elems);
    mem_write(j.k, w.k.data.data(), elems);
    mem_write(j.v, w.v.data.data(), elems);
    const uint32_t rb = core::key_lsb_row_bytes(int(j.d), key_bits);
    if (opt.k_readback && rb) {  // 8-bit keys: no low bits, no plane
        std::vector<uint8_t> plane(std::size_t(j.heads) * j.n * rb);
        for (std::size_t r = 0; r < std::size_t(j.heads) * j.n; ++r)
            core::pack_key_lsbs(w.k.data.data() + r * j.d, int(j.d), key_bits, &plane[r * rb]);
        mem_write(j.k_lsb, plane.data(), plane.size());
    }
    write_head_table(j.table, w.heads);
    const std::vector<uint8_t> zeros(elems * core::output_element_bytes(opt.output), 0);
    mem_write(j.out, zeros.data(), zeros.size());
    return j;
}

void Host::write_head_table(uint64_t at, const std::vector<core::HeadParams>& heads) {
    std::vector<uint8_t> table(heads.size() * regs::kHeadEntryBytes, 0);
    for (std::size_t h = 0; h < heads.size(); ++h)
        regs::encode_head_entry(heads[h], &table[h * regs::kHeadEntryBytes]);
    mem_write(at, table.data(), table.size());
}

void Host::program_job(const JobDesc& j) {
    uint32_t cfg = regs::encode_job_cfg(j.opt);
    if (j.raw_mode != ~0u)
        cfg = (cfg & ~regs::field::JOB_CFG_MODE.mask()) | regs::field::JOB_CFG_MODE.put(j.raw_mode);
    write_reg(regs::JOB_CFG, cfg);
    write_reg(regs::HEADS, j.heads);
    write_reg(regs::SEQ_LEN, j.n);
    write_reg(regs::HEAD_DIM, j.d);
    const std::pair<uint32_t, uint64_t> bases[] = {
        {regs::Q_BASE_LO, j.q},     {regs::K_BASE_LO, j.k},         {regs::V_BASE_LO, j.v},
        {regs::OUT_BASE_LO, j.out}, {regs::HEAD_TABLE_LO, j.table}, {regs::K_LSB_BASE_LO, j.k_lsb}};
    for (const auto& b : bases) {
        write_reg(b.first, uint32_t(b.second));
        write_reg(b.first + 4, uint32_t(b.second >> 32));
    }
}

JobResult Host::run_job(const JobDesc& j, const sc_time& timeout) {
    program_job(j);
    write_reg(regs::IRQ_ENABLE, regs::IRQ_DONE | regs::IRQ_ERROR);
    write_reg(regs::CTRL, regs::CTRL_START);
    sync();
    JobResult r;
    r.start = sc_time_stamp();
    ++jobs;
    if (!irq.read()) wait(timeout, irq.posedge_event());
    r.end = sc_time_stamp();
    r.completed = irq.read();
    r.status = read_reg(regs::STATUS);
    r.irq_status = read_reg(regs::IRQ_STATUS);
    r.error = regs::status_error(r.status);
    auto rd64 = [this](uint32_t lo) {
        return uint64_t(read_reg(lo)) | (uint64_t(read_reg(lo + 4)) << 32);
    };
    r.cycles = rd64(regs::CYCLES_LO);
    r.mem_read_bytes = rd64(regs::MEM_RD_BYTES_LO);
    r.mem_write_bytes = rd64(regs::MEM_WR_BYTES_LO);
    r.kept_keys = rd64(regs::KEPT_KEYS_LO);
    r.k_rows_fetched = rd64(regs::K_ROWS_FETCHED_LO);
    r.v_rows_fetched = rd64(regs::V_ROWS_FETCHED_LO);
    write_reg(regs::IRQ_STATUS, r.irq_status);  // write-one-to-clear what we saw
    sync();
    return r;
}

std::vector<uint8_t> Host::read_output(const JobDesc& j) {
    std::vector<uint8_t> out(std::size_t(j.heads) * j.n * j.d *
                             core::output_element_bytes(j.opt.output));
    mem_read(j.out, out.data(), out.size());
    return out;
}

}  // namespace sprint::platform

// Register file of a TLM peripheral, VCML style: registers are objects built from a descriptor
// table (tlm_interfaces/register_map.h) with read/write callbacks and access rights, not a switch
// over addresses. Handles every bus-level check so a bad access gets the right TLM response.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <systemc>
#include <tlm>

#include "tlm_interfaces/register_map.h"

namespace sprint {

class Register {
  public:
    explicit Register(const regs::RegDesc& d) : m_desc(d), m_value(d.reset) {}
    const regs::RegDesc& desc() const { return m_desc; }
    uint32_t get() const { return m_value; }
    void set(uint32_t v) { m_value = v; }
    // Called on a bus read (returns the value to read) and on an accepted bus write with the new
    // value (reserved bits cleared, write-one-to-clear applied) and the access's annotated delay;
    // without on_write the value is stored.
    std::function<uint32_t()> on_read;
    std::function<void(uint32_t, const sc_core::sc_time&)> on_write;

  private:
    regs::RegDesc m_desc;
    uint32_t m_value;
};

class RegisterFile {
  public:
    RegisterFile();
    Register& operator[](uint32_t offset);
    Register& by_name(const std::string& name);
    // Full bus access: 32-bit, aligned, all byte lanes enabled. Sets the response status.
    //   IGNORE -> OK; length != 4 or streaming width < length (streaming) -> BURST_ERROR;
    //   unmapped or misaligned -> ADDRESS_ERROR; a byte-enable pattern (of any length, repeated
    //   over the 4 bytes) that disables a lane -> BYTE_ENABLE_ERROR; write to RO -> COMMAND_ERROR
    //   (nothing changes); WO reads 0; W1C clears the bits written as 1. Reserved bits (outside
    //   the register's fields) read as 0 and ignore writes.
    void access(tlm::tlm_generic_payload& gp, const sc_core::sc_time& delay);
    // Debug read without side effects: whole registers from an aligned offset inside the window,
    // up to the first unmapped offset or incomplete word. Misaligned or outside the window: 0
    // bytes. Debug writes are refused (0). Returns the bytes transferred.
    unsigned debug(tlm::tlm_generic_payload& gp);

    uint64_t reads = 0, writes = 0, errors = 0;

  private:
    std::map<uint32_t, Register> m_regs;
};

}  // namespace sprint

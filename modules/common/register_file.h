// Register file of a TLM peripheral, VCML style: registers are objects built from a descriptor
// table (tlm_interfaces/register_map.h) with read/write callbacks and access rights, not a switch
// over addresses. Handles every bus-level check so a bad access gets the right TLM response.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <tlm>

#include "tlm_interfaces/register_map.h"

namespace sprint {

class Register {
public:
    explicit Register(const regs::RegDesc& d) : m_desc(d), m_value(d.reset) {}
    const regs::RegDesc& desc() const { return m_desc; }
    uint32_t get() const { return m_value; }
    void set(uint32_t v) { m_value = v; }
    // Called on a bus read (returns the value to read) and a bus write (new value = argument).
    std::function<uint32_t()> on_read;
    std::function<void(uint32_t)> on_write;

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
    //   IGNORE -> OK; length != 4 or streaming width != length -> BURST_ERROR;
    //   unmapped or misaligned -> ADDRESS_ERROR; partial byte enables -> BYTE_ENABLE_ERROR;
    //   write to RO -> COMMAND_ERROR; WO reads 0; W1C clears the bits written as 1.
    void access(tlm::tlm_generic_payload& gp);
    // Debug read without side effects; debug writes are refused. Returns bytes transferred.
    unsigned debug(tlm::tlm_generic_payload& gp);

    uint64_t reads = 0, writes = 0, errors = 0;

private:
    std::map<uint32_t, Register> m_regs;
};

}  // namespace sprint

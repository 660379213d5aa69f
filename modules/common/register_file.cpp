#include "modules/common/register_file.h"

#include <cstring>
#include <stdexcept>

namespace sprint {

RegisterFile::RegisterFile() {
    for (const auto& d : regs::register_map()) m_regs.emplace(d.offset, Register(d));
}

Register& RegisterFile::operator[](uint32_t offset) {
    auto it = m_regs.find(offset);
    if (it == m_regs.end()) throw std::logic_error("no register at this offset");
    return it->second;
}

Register& RegisterFile::by_name(const std::string& name) {
    for (auto& kv : m_regs)
        if (kv.second.desc().name == name) return kv.second;
    throw std::logic_error("no register named " + name);
}

void RegisterFile::access(tlm::tlm_generic_payload& gp, const sc_core::sc_time& delay) {
    using namespace tlm;
    const tlm_command cmd = gp.get_command();
    if (cmd == TLM_IGNORE_COMMAND) {
        gp.set_response_status(TLM_OK_RESPONSE);
        return;
    }
    auto fail = [&](tlm_response_status s) {
        ++errors;
        gp.set_response_status(s);
    };
    // A streaming width at or above the length means no streaming (TLM-2.0 LRM).
    if (gp.get_data_length() != 4 || gp.get_streaming_width() < gp.get_data_length())
        return fail(TLM_BURST_ERROR_RESPONSE);
    const uint64_t addr = gp.get_address();
    auto it =
        addr % 4 == 0 && addr < regs::kCsrWindowBytes ? m_regs.find(uint32_t(addr)) : m_regs.end();
    if (it == m_regs.end()) return fail(TLM_ADDRESS_ERROR_RESPONSE);
    if (const unsigned char* be = gp.get_byte_enable_ptr()) {
        const unsigned len = gp.get_byte_enable_length();
        for (unsigned i = 0; i < 4; ++i)
            if (len == 0 || be[i % len] != TLM_BYTE_ENABLED)
                return fail(TLM_BYTE_ENABLE_ERROR_RESPONSE);
    }
    Register& r = it->second;
    const regs::Access acc = r.desc().access;
    if (cmd == TLM_READ_COMMAND) {
        uint32_t v = acc == regs::Access::WO ? 0u : (r.on_read ? r.on_read() : r.get());
        std::memcpy(gp.get_data_ptr(), &v, 4);
        ++reads;
    } else {
        if (acc == regs::Access::RO) return fail(TLM_COMMAND_ERROR_RESPONSE);
        uint32_t v;
        std::memcpy(&v, gp.get_data_ptr(), 4);
        v &= r.desc().value_mask();
        if (acc == regs::Access::W1C) v = r.get() & ~v;
        if (r.on_write)
            r.on_write(v, delay);
        else
            r.set(v);
        ++writes;
    }
    gp.set_response_status(TLM_OK_RESPONSE);
}

unsigned RegisterFile::debug(tlm::tlm_generic_payload& gp) {
    if (gp.get_command() != tlm::TLM_READ_COMMAND || !gp.get_data_ptr()) return 0;
    const uint64_t a = gp.get_address();
    if (a % 4 || a >= regs::kCsrWindowBytes) return 0;
    unsigned done = 0;
    for (unsigned i = 0; i < gp.get_data_length(); i += 4) {
        if (gp.get_data_length() - i < 4 || a + i >= regs::kCsrWindowBytes) break;
        auto it = m_regs.find(uint32_t(a + i));
        if (it == m_regs.end()) break;
        const uint32_t v = it->second.desc().access == regs::Access::WO ? 0u : it->second.get();
        std::memcpy(gp.get_data_ptr() + i, &v, 4);
        done += 4;
    }
    return done;
}

}  // namespace sprint

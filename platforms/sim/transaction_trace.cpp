#include "platforms/sim/transaction_trace.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace sprint::platform {

namespace {

const char* command_name(tlm::tlm_command c) {
    return c == tlm::TLM_READ_COMMAND ? "read" : c == tlm::TLM_WRITE_COMMAND ? "write" : "ignore";
}

// A time in ps as an integer, or empty when the phase did not happen.
std::string ps(double t) {
    if (t < 0) return "";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", t);
    return buf;
}

}  // namespace

TransactionTraceFiles::TransactionTraceFiles(OutputFiles& out, std::string csv, std::string stl,
                                             uint32_t burst_bytes)
    : m_out(out),
      m_csv(std::move(csv)),
      m_stl(std::move(stl)),
      m_burst(std::max<uint32_t>(1, burst_bytes)) {
    if (!m_csv.empty())
        m_buffer =
            "link,transport,command,address,length,response,begin_req_ps,end_req_ps,"
            "begin_resp_ps,end_resp_ps\n";
}

void TransactionTraceFiles::add(const TransactionRecord& r) {
    ++m_records;
    if (!m_csv.empty()) {
        char addr[24];
        std::snprintf(addr, sizeof addr, "0x%" PRIx64, r.address);
        m_buffer += std::string(r.link) + (r.nb ? ",nb," : ",b,") + command_name(r.command) + "," +
                    addr + "," + std::to_string(r.length) + "," + response_name(r.response) + "," +
                    ps(r.begin_req_ps) + "," + ps(r.end_req_ps) + "," + ps(r.begin_resp_ps) + "," +
                    ps(r.end_resp_ps) + "\n";
        if (m_buffer.size() > (1u << 20)) flush();
    }
    if (!m_stl.empty() && std::strcmp(r.link, "mem") == 0 && r.response == tlm::TLM_OK_RESPONSE &&
        r.command != tlm::TLM_IGNORE_COMMAND)
        m_mem.push_back({uint64_t(std::floor(r.begin_req_ps / 1000.0)), r.address, r.length,
                         r.command == tlm::TLM_WRITE_COMMAND});
}

void TransactionTraceFiles::flush() {
    if (m_buffer.empty()) return;
    m_out.write(m_csv, m_buffer);
    m_buffer.clear();
}

void TransactionTraceFiles::finish() {
    if (!m_csv.empty()) flush();
    if (m_stl.empty()) return;
    std::stable_sort(m_mem.begin(), m_mem.end(),
                     [](const MemAccess& a, const MemAccess& b) { return a.ns < b.ns; });
    std::string text;
    char line[64];
    for (const MemAccess& m : m_mem) {
        // One line per burst granule the access touches, all at the access's start.
        const uint64_t first = m.address / m_burst, last = (m.address + m.length - 1) / m_burst;
        for (uint64_t g = first; g <= last && m.length > 0; ++g) {
            std::snprintf(line, sizeof line, "%" PRIu64 ":\t%s\t0x%" PRIx64 "\n", m.ns,
                          m.write ? "write" : "read", g * m_burst);
            text += line;
        }
        if (text.size() > (1u << 20)) {
            m_out.write(m_stl, text);
            text.clear();
        }
    }
    m_out.write(m_stl, text);
}

}  // namespace sprint::platform

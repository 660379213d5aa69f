// The transaction trace files of a run (--trace-tlm CSV, --trace-stl DRAMSys STL), fed by the
// platform's TransactionTracers as each transaction on the IP's csr and mem links ends, written
// through OutputFiles (so a failed run leaves neither behind). docs/observability.md gives both
// formats.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platforms/sim/output_files.h"
#include "tlm_interfaces/transaction_tracer.h"

namespace sprint::platform {

class TransactionTraceFiles {
  public:
    // `csv`, `stl`: the OutputFiles options claimed for each ("" = not written).
    TransactionTraceFiles(OutputFiles& out, std::string csv, std::string stl, uint32_t burst_bytes);
    bool active() const { return !m_csv.empty() || !m_stl.empty(); }
    void add(const TransactionRecord& r);
    // The CSV's last lines; the STL file, sorted by time.
    void finish();
    uint64_t records() const { return m_records; }

  private:
    void flush();
    OutputFiles& m_out;
    std::string m_csv, m_stl;
    uint32_t m_burst;
    std::string m_buffer;
    struct MemAccess {
        uint64_t ns, address;
        uint32_t length;
        bool write;
    };
    std::vector<MemAccess> m_mem;
    uint64_t m_records = 0;
};

}  // namespace sprint::platform

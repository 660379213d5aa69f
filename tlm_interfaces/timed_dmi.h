// Timed DMI: a memory's loosely-timed timing model handed out beside its DMI pointer, so that an
// initiator that moves its data through the pointer still books the memory's own data-bus timeline
// (latency, bandwidth, bursts, channels) and the counters every hop keeps, exactly as the
// b_transport of the same access would, without a transaction per access.
//
// The grant rides on the payload of get_direct_mem_ptr as an ignorable extension (TimingGrant):
// the initiator attaches it empty; a memory that has a timing model sets `timing`; every hop on
// the way back that changes what an access costs or sees (an interconnect adding latency or
// translating addresses, a tracer that must see every transaction) either wraps the model in its
// own (AccessTiming that adds its part and calls the inner one) or clears it. A hop that knows
// nothing of the extension leaves it as it is: the initiator therefore checks a grant against
// one real transaction before it relies on it (same completion time as predicted, or the grant is
// dropped), see Fetcher.
#pragma once

#include <cstdint>

#include <systemc>
#include <tlm>

namespace sprint::proto {

// The cost of one access as the target (and the hops before it) would charge it in b_transport.
// Addresses are those the initiator uses (each hop's wrapper translates); times are absolute.
class AccessTiming {
  public:
    virtual ~AccessTiming() = default;
    // Books an access of `bytes` at `addr` arriving at `arrive` (>= the current simulated time):
    // the data bus is taken as b_transport would take it and every hop counts the access as a
    // transaction. Returns the absolute time the access ends (what b_transport's delay would
    // say).
    virtual sc_core::sc_time book(bool write, uint64_t addr, uint64_t bytes,
                                  const sc_core::sc_time& arrive) = 0;
    // The same end time without booking anything or counting (nothing changes).
    virtual sc_core::sc_time predict(bool write, uint64_t addr, uint64_t bytes,
                                     const sc_core::sc_time& arrive) = 0;
};

struct TimingGrant : tlm::tlm_extension<TimingGrant> {
    AccessTiming* timing = nullptr;  // null: no timing model on this path
    tlm::tlm_extension_base* clone() const override { return new TimingGrant(*this); }
    void copy_from(const tlm::tlm_extension_base& o) override {
        *this = static_cast<const TimingGrant&>(o);
    }
};

}  // namespace sprint::proto

// A memory manager (tlm_mm_interface) for every payload the IP starts: payloads come from a free
// list, are reference counted (acquire/release) by everyone who holds them, and return to the
// pool when the count drops to zero, with every extension pointer cleared.
#pragma once

#include <memory>
#include <vector>

#include <tlm>

namespace sprint::proto {

class PayloadPool : public tlm::tlm_mm_interface {
  public:
    PayloadPool() = default;
    PayloadPool(const PayloadPool&) = delete;
    PayloadPool& operator=(const PayloadPool&) = delete;
    ~PayloadPool() override = default;

    tlm::tlm_generic_payload* allocate() {
        tlm::tlm_generic_payload* gp;
        if (m_free.empty()) {
            m_all.push_back(std::make_unique<tlm::tlm_generic_payload>(this));
            gp = m_all.back().get();
        } else {
            gp = m_free.back();
            m_free.pop_back();
        }
        ++m_in_use;
        return gp;
    }

    void free(tlm::tlm_generic_payload* gp) override {
        gp->reset();                                   // frees auto extensions
        const unsigned n = tlm::max_num_extensions();  // a registry lookup: once per release
        for (unsigned i = 0; i < n; ++i)
            if (gp->get_extension(i)) gp->set_extension(i, nullptr);  // caller-owned ones
        --m_in_use;
        m_free.push_back(gp);
    }

    std::size_t in_use() const { return m_in_use; }
    std::size_t allocated() const { return m_all.size(); }

  private:
    std::vector<std::unique_ptr<tlm::tlm_generic_payload>> m_all;
    std::vector<tlm::tlm_generic_payload*> m_free;
    std::size_t m_in_use = 0;
};

// A payload from the pool for the lifetime of this handle (acquired on construction, released
// on destruction).
class PooledPayload {
  public:
    explicit PooledPayload(PayloadPool& pool) : m_gp(pool.allocate()) { m_gp->acquire(); }
    ~PooledPayload() { m_gp->release(); }
    PooledPayload(const PooledPayload&) = delete;
    PooledPayload& operator=(const PooledPayload&) = delete;
    tlm::tlm_generic_payload& operator*() { return *m_gp; }
    tlm::tlm_generic_payload* operator->() { return m_gp; }
    tlm::tlm_generic_payload* get() { return m_gp; }

  private:
    tlm::tlm_generic_payload* m_gp;
};

}  // namespace sprint::proto

// Hierarchical statistics (DRAMSys style): a group has a name and description and holds named
// values with a unit and a description, plus sub-groups; the whole tree is written as JSON.
// A module owns its statistics as typed objects (Counter, Duration) that register themselves in
// the module's group: counting costs an increment, only the owner can change them, and everyone
// else reads them through the tree, where a missing path is an error.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/types.h"

namespace sprint::core {

class StatGroup;

// A count (events, bytes, rows ...) owned by a module; registered in `group` when constructed.
class Counter {
  public:
    Counter(StatGroup& group, const std::string& name, const std::string& unit,
            const std::string& description);
    Counter(const Counter&) = delete;
    Counter& operator=(const Counter&) = delete;
    Counter& operator+=(uint64_t n) {
        m_value += n;
        return *this;
    }
    Counter& operator++() {
        ++m_value;
        return *this;
    }
    void set(uint64_t v) { m_value = v; }
    void record_max(uint64_t v) { m_value = v > m_value ? v : m_value; }  // peaks
    uint64_t value() const { return m_value; }

  private:
    uint64_t m_value = 0;
};

// Counts per (head, query): table[head][query] (rows grow as queries are counted).
using QueryTable = std::vector<std::vector<uint64_t>>;

// A count that is also kept per attention head (what the per-head energy split needs) and per
// query of a head (the per-query export): its entry in the tree holds "per_head": [head 0, head
// 1, ...] beside the total "value"; the per-query table is read through StatGroup::query_tables.
// An event of kNoQuery counts in its head only: the head's count minus its queries' is the work
// the head did as a whole.
class HeadCounter {
  public:
    HeadCounter(StatGroup& group, const std::string& name, const std::string& unit,
                const std::string& description);
    HeadCounter(const HeadCounter&) = delete;
    HeadCounter& operator=(const HeadCounter&) = delete;
    void add(uint32_t head, uint32_t query, uint64_t n) {
        m_value += n;
        if (head >= m_heads.size()) {
            m_heads.resize(std::size_t(head) + 1, 0);
            m_queries.resize(std::size_t(head) + 1);
        }
        m_heads[head] += n;
        if (query == kNoQuery) return;
        std::vector<uint64_t>& row = m_queries[head];
        if (query >= row.size()) row.resize(std::size_t(query) + 1, 0);
        row[query] += n;
    }
    uint64_t value() const { return m_value; }
    const std::vector<uint64_t>& per_head() const { return m_heads; }
    const QueryTable& per_query() const { return m_queries; }

  private:
    uint64_t m_value = 0;
    std::vector<uint64_t> m_heads;
    QueryTable m_queries;
};

// A real-valued statistic (a time in ns, a busy time ...) owned by a module.
class Duration {
  public:
    Duration(StatGroup& group, const std::string& name, const std::string& unit,
             const std::string& description);
    Duration(const Duration&) = delete;
    Duration& operator=(const Duration&) = delete;
    Duration& operator+=(double v) {
        m_value += v;
        return *this;
    }
    void set(double v) { m_value = v; }
    double value() const { return m_value; }

  private:
    double m_value = 0.0;
};

class StatGroup {
  public:
    StatGroup(std::string name, std::string description)
        : m_name(std::move(name)), m_description(std::move(description)) {}

    void add(const std::string& name, const uint64_t* counter, const std::string& unit,
             const std::string& description);
    void add(const std::string& name, const double* value, const std::string& unit,
             const std::string& description);
    // A value computed when the tree is written.
    void add(const std::string& name, std::function<nlohmann::json()> value,
             const std::string& unit, const std::string& description);
    // A value with a per-head split ("per_head": an array), computed when the tree is written.
    void add(const std::string& name, std::function<nlohmann::json()> value,
             std::function<nlohmann::json()> per_head, const std::string& unit,
             const std::string& description);
    // The per-query table of a HeadCounter registered under `name`.
    void add_query_table(const std::string& name, const QueryTable* table);
    StatGroup& group(const std::string& name, const std::string& description);
    void attach(const StatGroup* child) { m_attached.push_back(child); }

    const std::string& name() const { return m_name; }
    // {"description": ..., "<stat>": {"value": v, "unit": u, "description": d}, "<group>": {...}}
    nlohmann::json to_json() const;
    // Value of a stat by dotted path below this group (for tests and reports). A path that names
    // no statistic throws std::out_of_range naming it.
    nlohmann::json value(const std::string& path) const;
    // The same, typed: a count, or any number as a double.
    uint64_t count(const std::string& path) const;
    double real(const std::string& path) const;
    // Every per-query table below this group by dotted path ("unit_0.datapath.qk_macs"), copied
    // (a snapshot: the owners go on counting).
    std::map<std::string, QueryTable> query_tables() const;

  private:
    struct Stat {
        std::string name, unit, description;
        std::function<nlohmann::json()> get;
        std::function<nlohmann::json()> per_head;  // empty: no split
        const QueryTable* per_query = nullptr;     // a HeadCounter's table
    };
    void collect_tables(const std::string& prefix, std::map<std::string, QueryTable>& out) const;
    std::string m_name, m_description;
    std::vector<Stat> m_stats;
    std::vector<std::unique_ptr<StatGroup>> m_groups;
    std::vector<const StatGroup*> m_attached;
};

}  // namespace sprint::core

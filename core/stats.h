// Hierarchical statistics (DRAMSys style): a group has a name and description and holds named
// values with a unit and a description, plus sub-groups; the whole tree is written as JSON.
// Modules keep plain counters as members and register pointers to them, so counting costs an
// increment.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sprint::core {

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
    StatGroup& group(const std::string& name, const std::string& description);
    void attach(const StatGroup* child) { m_attached.push_back(child); }

    const std::string& name() const { return m_name; }
    // {"description": ..., "<stat>": {"value": v, "unit": u, "description": d}, "<group>": {...}}
    nlohmann::json to_json() const;
    // Value of a stat by dotted path below this group (for tests and reports); null if absent.
    nlohmann::json value(const std::string& path) const;

private:
    struct Stat {
        std::string name, unit, description;
        std::function<nlohmann::json()> get;
    };
    std::string m_name, m_description;
    std::vector<Stat> m_stats;
    std::vector<std::unique_ptr<StatGroup>> m_groups;
    std::vector<const StatGroup*> m_attached;
};

}  // namespace sprint::core

#include "core/stats.h"

namespace sprint::core {

void StatGroup::add(const std::string& name, const uint64_t* counter, const std::string& unit,
                    const std::string& description) {
    m_stats.push_back({name, unit, description, [counter] { return nlohmann::json(*counter); }});
}

void StatGroup::add(const std::string& name, const double* value, const std::string& unit,
                    const std::string& description) {
    m_stats.push_back({name, unit, description, [value] { return nlohmann::json(*value); }});
}

void StatGroup::add(const std::string& name, std::function<nlohmann::json()> value,
                    const std::string& unit, const std::string& description) {
    m_stats.push_back({name, unit, description, std::move(value)});
}

StatGroup& StatGroup::group(const std::string& name, const std::string& description) {
    for (auto& g : m_groups)
        if (g->name() == name) return *g;
    m_groups.push_back(std::make_unique<StatGroup>(name, description));
    return *m_groups.back();
}

nlohmann::json StatGroup::to_json() const {
    nlohmann::json j = nlohmann::json::object();
    j["description"] = m_description;
    for (const auto& s : m_stats)
        j[s.name] = {{"value", s.get()}, {"unit", s.unit}, {"description", s.description}};
    for (const auto& g : m_groups) j[g->name()] = g->to_json();
    for (const auto* g : m_attached) j[g->name()] = g->to_json();
    return j;
}

nlohmann::json StatGroup::value(const std::string& path) const {
    const auto dot = path.find('.');
    if (dot == std::string::npos) {
        for (const auto& s : m_stats)
            if (s.name == path) return s.get();
        return nullptr;
    }
    const std::string head = path.substr(0, dot), rest = path.substr(dot + 1);
    for (const auto& g : m_groups)
        if (g->name() == head) return g->value(rest);
    for (const auto* g : m_attached)
        if (g->name() == head) return g->value(rest);
    return nullptr;
}

}  // namespace sprint::core

#include "core/stats.h"

#include <stdexcept>

namespace sprint::core {

Counter::Counter(StatGroup& g, const std::string& name, const std::string& unit,
                 const std::string& description) {
    g.add(
        name, [this] { return nlohmann::json(m_value); }, unit, description);
}

HeadCounter::HeadCounter(StatGroup& g, const std::string& name, const std::string& unit,
                         const std::string& description) {
    g.add(
        name, [this] { return nlohmann::json(m_value); },
        [this] { return nlohmann::json(m_heads); }, unit, description);
    g.add_query_table(name, &m_queries);
}

Duration::Duration(StatGroup& g, const std::string& name, const std::string& unit,
                   const std::string& description) {
    g.add(
        name, [this] { return nlohmann::json(m_value); }, unit, description);
}

void StatGroup::add(const std::string& name, const uint64_t* counter, const std::string& unit,
                    const std::string& description) {
    m_stats.push_back(
        {name, unit, description, [counter] { return nlohmann::json(*counter); }, nullptr});
}

void StatGroup::add(const std::string& name, const double* value, const std::string& unit,
                    const std::string& description) {
    m_stats.push_back(
        {name, unit, description, [value] { return nlohmann::json(*value); }, nullptr});
}

void StatGroup::add(const std::string& name, std::function<nlohmann::json()> value,
                    const std::string& unit, const std::string& description) {
    m_stats.push_back({name, unit, description, std::move(value), nullptr});
}

void StatGroup::add(const std::string& name, std::function<nlohmann::json()> value,
                    std::function<nlohmann::json()> per_head, const std::string& unit,
                    const std::string& description) {
    m_stats.push_back({name, unit, description, std::move(value), std::move(per_head)});
}

void StatGroup::add_query_table(const std::string& name, const QueryTable* table) {
    for (auto& st : m_stats)
        if (st.name == name) st.per_query = table;
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
    for (const auto& s : m_stats) {
        j[s.name] = {{"value", s.get()}, {"unit", s.unit}, {"description", s.description}};
        if (s.per_head) j[s.name]["per_head"] = s.per_head();
    }
    for (const auto& g : m_groups) j[g->name()] = g->to_json();
    for (const auto* g : m_attached) j[g->name()] = g->to_json();
    return j;
}

nlohmann::json StatGroup::value(const std::string& path) const {
    const auto dot = path.find('.');
    if (dot == std::string::npos) {
        for (const auto& st : m_stats)
            if (st.name == path) return st.get();
    } else {
        const std::string head = path.substr(0, dot), rest = path.substr(dot + 1);
        for (const auto& g : m_groups)
            if (g->name() == head) return g->value(rest);
        for (const auto* g : m_attached)
            if (g->name() == head) return g->value(rest);
    }
    throw std::out_of_range("no statistic '" + path + "' in '" + m_name + "'");
}

uint64_t StatGroup::count(const std::string& path) const {
    const nlohmann::json v = value(path);
    if (!v.is_number_unsigned() && !v.is_number_integer())
        throw std::out_of_range("statistic '" + path + "' in '" + m_name + "' is not a count");
    return v.get<uint64_t>();
}

double StatGroup::real(const std::string& path) const {
    const nlohmann::json v = value(path);
    if (!v.is_number())
        throw std::out_of_range("statistic '" + path + "' in '" + m_name + "' is not a number");
    return v.get<double>();
}

std::map<std::string, QueryTable> StatGroup::query_tables() const {
    std::map<std::string, QueryTable> out;
    collect_tables("", out);
    return out;
}

void StatGroup::collect_tables(const std::string& prefix,
                               std::map<std::string, QueryTable>& out) const {
    for (const auto& st : m_stats)
        if (st.per_query) out[prefix + st.name] = *st.per_query;
    for (const auto& g : m_groups) g->collect_tables(prefix + g->name() + ".", out);
    for (const auto* g : m_attached) g->collect_tables(prefix + g->name() + ".", out);
}

}  // namespace sprint::core

#include "core/params.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace sprint::core {

std::string format_double(double v) {
    for (int prec = 6; prec <= 17; ++prec) {
        std::ostringstream os;
        os.precision(prec);
        os << v;
        if (std::strtod(os.str().c_str(), nullptr) == v) return os.str();
    }
    std::ostringstream os;
    os.precision(17);
    os << v;
    return os.str();
}

namespace {

// strtoull/strtol/strtod skip leading blanks and take a '+' (strtoull even a '-', negating the
// value): a number must start with a digit (or '-' then a digit where negative values exist), so
// " 2" and "+2" are refused like any other malformed value.
bool starts_number(const std::string& s, bool sign_ok) {
    const std::size_t i = sign_ok && !s.empty() && s[0] == '-' ? 1 : 0;
    return s.size() > i &&
           (std::isdigit(static_cast<unsigned char>(s[i])) || (s[i] == '.' && sign_ok));
}

bool parse_u64(const std::string& s, uint64_t& out) {
    if (!starts_number(s, false)) return false;
    errno = 0;
    char* end = nullptr;
    const int base = (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10;
    out = std::strtoull(s.c_str(), &end, base);
    return errno == 0 && end && *end == '\0';
}

bool parse_i64(const std::string& s, long long& out) {
    if (!starts_number(s, true) || s.find('.') != std::string::npos) return false;
    errno = 0;
    char* end = nullptr;
    out = std::strtoll(s.c_str(), &end, 10);
    return errno == 0 && end && *end == '\0';
}

}  // namespace

bool parse_number(const std::string& s, double& out) {
    if (!starts_number(s, true)) return false;
    errno = 0;
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return errno == 0 && end && *end == '\0' && std::isfinite(out);
}

namespace {

// The name as compared: lower case, without the separators a slip most often changes.
std::string folded(const std::string& s) {
    std::string out;
    for (const char c : s)
        if (c != '.' && c != '_' && c != '-')
            out += char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1] ? 1 : 0)});
            diag = up;
        }
    }
    return row[b.size()];
}

}  // namespace

std::string did_you_mean(const std::string& typed, const std::vector<std::string>& known) {
    const std::string t = folded(typed);
    // A slip: a quarter of the name's letters, at least one and at most three.
    const std::size_t limit = std::clamp<std::size_t>(t.size() / 4, 1, 3);
    std::vector<std::pair<std::size_t, std::string>> near;
    for (const auto& k : known) {
        const std::size_t d = edit_distance(t, folded(k));
        if (d <= limit) near.emplace_back(d, k);
    }
    if (near.empty()) return "";
    std::stable_sort(near.begin(), near.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out = " (did you mean ";
    for (std::size_t i = 0; i < near.size() && i < 3; ++i)
        out += (i ? " or '" : "'") + near[i].second + "'";
    return out + "?)";
}

std::string ParamRegistry::bad(const std::string& name, const std::string& value,
                               const std::string& allowed) const {
    std::string hint;
    // A list of choices ("lpddr4|hbm2"): the nearest of them to a mistyped one.
    if (allowed.find('|') != std::string::npos && allowed.find(' ') == std::string::npos) {
        std::vector<std::string> choices;
        std::stringstream ss(allowed);
        for (std::string c; std::getline(ss, c, '|');) choices.push_back(c);
        hint = did_you_mean(value, choices);
    }
    return m_label + " '" + m_prefix + name + "': value '" + value +
           "' is not allowed (allowed: " + allowed + ")" + hint;
}

void ParamRegistry::add(Entry e) {
    e.default_value = e.get();
    const std::string name = e.name;
    if (!m_entries.emplace(name, std::move(e)).second)
        throw std::logic_error("parameter registered twice: " + name);
}

void ParamRegistry::add_uint(const std::string& name, uint64_t& ref, const std::string& unit,
                             const std::string& desc, uint64_t min, uint64_t max) {
    const std::string allowed = "integer " + std::to_string(min) + " to " + std::to_string(max);
    add({name, unit, desc, allowed, "", [&ref] { return std::to_string(ref); },
         [this, &ref, name, allowed, min, max](const std::string& v) -> std::string {
             uint64_t x;
             if (!parse_u64(v, x) || x < min || x > max) return bad(name, v, allowed);
             ref = x;
             return "";
         }});
    m_entries.at(name).kind = Entry::Kind::Integer;
}

void ParamRegistry::add_uint(const std::string& name, uint32_t& ref, const std::string& unit,
                             const std::string& desc, uint32_t min, uint32_t max) {
    const std::string allowed = "integer " + std::to_string(min) + " to " + std::to_string(max);
    add({name, unit, desc, allowed, "", [&ref] { return std::to_string(ref); },
         [this, &ref, name, allowed, min, max](const std::string& v) -> std::string {
             uint64_t x;
             if (!parse_u64(v, x) || x < min || x > max) return bad(name, v, allowed);
             ref = uint32_t(x);
             return "";
         }});
    m_entries.at(name).kind = Entry::Kind::Integer;
}

void ParamRegistry::add_int(const std::string& name, int& ref, const std::string& unit,
                            const std::string& desc, int min, int max) {
    const std::string allowed = "integer " + std::to_string(min) + " to " + std::to_string(max);
    add({name, unit, desc, allowed, "", [&ref] { return std::to_string(ref); },
         [this, &ref, name, allowed, min, max](const std::string& v) -> std::string {
             long long x;
             if (!parse_i64(v, x) || x < min || x > max) return bad(name, v, allowed);
             ref = int(x);
             return "";
         }});
    m_entries.at(name).kind = Entry::Kind::Integer;
}

void ParamRegistry::add_double(const std::string& name, double& ref, const std::string& unit,
                               const std::string& desc, double min, double max) {
    const std::string allowed = "number " + format_double(min) + " to " + format_double(max);
    add({name, unit, desc, allowed, "", [&ref] { return format_double(ref); },
         [this, &ref, name, allowed, min, max](const std::string& v) -> std::string {
             double x;
             if (!parse_number(v, x) || x < min || x > max) return bad(name, v, allowed);
             ref = x;
             return "";
         }});
    m_entries.at(name).kind = Entry::Kind::Number;
}

void ParamRegistry::set_implicit(const std::string& name, const std::string& value) {
    m_entries.at(name).implicit = value;
}

void ParamRegistry::add_bool(const std::string& name, bool& ref, const std::string& desc) {
    add({name, "", desc, "true or false", "",
         [&ref] { return std::string(ref ? "true" : "false"); },
         [this, &ref, name](const std::string& v) -> std::string {
             if (v == "true" || v == "1" || v == "yes" || v == "on")
                 ref = true;
             else if (v == "false" || v == "0" || v == "no" || v == "off")
                 ref = false;
             else
                 return bad(name, v, "true or false");
             return "";
         }});
    set_implicit(name, "true");
    m_entries.at(name).kind = Entry::Kind::Flag;
}

void ParamRegistry::add_choice(const std::string& name, std::string& ref, const std::string& desc,
                               const std::vector<std::string>& choices) {
    std::string allowed;
    for (const auto& c : choices) allowed += (allowed.empty() ? "" : "|") + c;
    add({name, "", desc, allowed, "", [&ref] { return ref; },
         [this, &ref, name, allowed, choices](const std::string& v) -> std::string {
             for (const auto& c : choices)
                 if (v == c) {
                     ref = v;
                     return "";
                 }
             return bad(name, v, allowed);
         }});
}

void ParamRegistry::add_string(const std::string& name, std::string& ref, const std::string& unit,
                               const std::string& desc, const std::string& allowed,
                               std::function<std::string(const std::string&)> check) {
    add({name, unit, desc, allowed, "", [&ref] { return ref; },
         [this, &ref, name, allowed, check](const std::string& v) -> std::string {
             if (check) {
                 const std::string why = check(v);
                 if (!why.empty()) return bad(name, v, allowed) + ": " + why;
             }
             ref = v;
             return "";
         }});
}

const ParamRegistry::Entry* ParamRegistry::find(const std::string& name) const {
    auto it = m_entries.find(name);
    return it == m_entries.end() ? nullptr : &it->second;
}

std::string ParamRegistry::set(const std::string& name, const std::string& value) {
    auto it = m_entries.find(name);
    if (it == m_entries.end()) return "unknown " + m_label + " '" + m_prefix + name + "'";
    return it->second.set(value);
}

std::vector<const ParamRegistry::Entry*> ParamRegistry::entries() const {
    std::vector<const Entry*> v;
    for (const auto& kv : m_entries) v.push_back(&kv.second);
    return v;
}

std::string ParamRegistry::dump_ini(const std::function<bool(const Entry&)>& commented) const {
    // Group by section so each [section] appears once, with its own keys together.
    std::map<std::string, std::vector<const Entry*>> sections;
    for (const auto& kv : m_entries) {
        const auto dot = kv.first.rfind('.');
        sections[dot == std::string::npos ? "" : kv.first.substr(0, dot)].push_back(&kv.second);
    }
    std::ostringstream os;
    bool first = true;
    for (const auto& sec : sections) {
        if (!sec.first.empty()) os << (first ? "" : "\n") << "[" << sec.first << "]\n";
        first = false;
        for (const Entry* e : sec.second) {
            const auto dot = e->name.rfind('.');
            const std::string key = dot == std::string::npos ? e->name : e->name.substr(dot + 1);
            os << "# " << e->description << (e->unit.empty() ? "" : " [" + e->unit + "]") << "; "
               << e->allowed << "; default " << e->default_value << "\n";
            os << (commented && commented(*e) ? "# " : "") << key << " = " << e->get() << "\n";
        }
    }
    return os.str();
}

}  // namespace sprint::core

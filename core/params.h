// Typed, hierarchical model parameters (VCML/CCI style, without SystemC): every field of every
// configuration struct is registered under its dotted instance name ("sprint.sram.k_bytes") with a
// unit, a description and allowed values, so the command line, the config file, --help and
// --dump-config all come from one table. Defaults live in the structs themselves.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace sprint::core {

class ParamRegistry {
  public:
    // `label` starts every error message ("parameter 'x': ..."); `display_prefix` is put in front
    // of names in messages (e.g. "--" for command-line options).
    explicit ParamRegistry(std::string label = "parameter", std::string display_prefix = "")
        : m_label(std::move(label)), m_prefix(std::move(display_prefix)) {}
    // Entries refer to this object and to the registered fields: neither copied nor moved.
    ParamRegistry(const ParamRegistry&) = delete;
    ParamRegistry& operator=(const ParamRegistry&) = delete;

    struct Entry {
        std::string name, unit, description, allowed, default_value;
        std::function<std::string()> get;
        // Parse and store; returns an error sentence or "".
        std::function<std::string(const std::string&)> set;
        std::string implicit = "";  // the value when given without one (a flag), or "": needed
        // What the value is, for typed output (the --stats JSON): text, a whole number, a
        // number or a flag.
        enum class Kind { Text, Integer, Number, Flag } kind = Kind::Text;
    };

    void add_uint(const std::string& name, uint64_t& ref, const std::string& unit,
                  const std::string& desc, uint64_t min, uint64_t max);
    void add_uint(const std::string& name, uint32_t& ref, const std::string& unit,
                  const std::string& desc, uint32_t min, uint32_t max);
    void add_int(const std::string& name, int& ref, const std::string& unit,
                 const std::string& desc, int min, int max);
    void add_double(const std::string& name, double& ref, const std::string& unit,
                    const std::string& desc, double min, double max);
    void add_bool(const std::string& name, bool& ref, const std::string& desc);
    void add_choice(const std::string& name, std::string& ref, const std::string& desc,
                    const std::vector<std::string>& choices);
    // An enumeration, set from the names of its values (parsed once, here).
    template <class E>
    void add_enum(const std::string& name, E& ref, const std::string& desc,
                  const std::vector<std::pair<std::string, E>>& choices) {
        std::string allowed;
        for (const auto& c : choices) allowed += (allowed.empty() ? "" : "|") + c.first;
        add({name, "", desc, allowed, "",
             [&ref, choices] {
                 for (const auto& c : choices)
                     if (c.second == ref) return c.first;
                 return std::string("?");
             },
             [this, &ref, name, allowed, choices](const std::string& v) -> std::string {
                 for (const auto& c : choices)
                     if (v == c.first) {
                         ref = c.second;
                         return "";
                     }
                 return bad(name, v, allowed);
             }});
    }
    // Free text; `check` returns "" or what is wrong with the value.
    void add_string(const std::string& name, std::string& ref, const std::string& unit,
                    const std::string& desc, const std::string& allowed,
                    std::function<std::string(const std::string&)> check = nullptr);

    const Entry* find(const std::string& name) const;
    // Let `name` be given without a value, meaning `value` (as booleans mean "true").
    void set_implicit(const std::string& name, const std::string& value);
    // Set by name from text; returns "" or a message naming the parameter, value and what is
    // allowed.
    std::string set(const std::string& name, const std::string& value);
    std::vector<const Entry*> entries() const;
    // All parameters with their current values as an INI file (sections = dotted prefixes).
    // Entries for which `commented` returns true are written as comments (values that follow
    // from another parameter, e.g. a preset, and should keep following it when read back).
    std::string dump_ini(const std::function<bool(const Entry&)>& commented = nullptr) const;

  private:
    void add(Entry e);
    std::string bad(const std::string& name, const std::string& value,
                    const std::string& allowed) const;
    std::string m_label, m_prefix;
    std::map<std::string, Entry> m_entries;
};

// A finite decimal number, the whole text: a digit, '.' or '-' first (no blanks, no '+'), no
// trailing characters. The registry's rule for every real-valued option and list item.
bool parse_number(const std::string& s, double& out);

// " (did you mean 'x'?)" naming the known names closest to a mistyped one (edit distance, case
// and the separators '.', '_', '-' ignored; at most three, only those close enough to be a slip),
// or "" when none is. For messages about unknown names and values.
std::string did_you_mean(const std::string& typed, const std::vector<std::string>& known);

// Number formatting shared by the registry and reports: shortest text that reads back exactly.
std::string format_double(double v);

}  // namespace sprint::core

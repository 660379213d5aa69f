// Expressions of sweep constraints (`constraints:` in a spec) and of result queries
// (`sprint-sweep report --where`): numbers, 'strings', names, + - * / %, comparisons
// (== != < <= > >=), and / or / not, parentheses. A name is a parameter or option of sprint-sim
// (sprint.sram.k_bytes, keep-fraction: a '-' between two letters belongs to the name, so write
// `a - b` with spaces for a subtraction) or a result figure (mass_retained). A name's value that
// reads as a number is a number; a 'quoted' literal is text. Two numbers compare numerically,
// anything else as text; true and false are the numbers 1 and 0. An expression nests at most
// kMaxExprDepth levels deep (below).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sprint::sweep {

// How deep an expression may nest: each '(', not, unary minus and operator operand is one level.
// The parser, the evaluator and the tree's destructor recurse once per level, so a bound keeps
// a hostile constraint or --where (20,000 '(') an error instead of a stack overflow; no real
// constraint comes near it.
inline constexpr std::size_t kMaxExprDepth = 256;

struct Value {
    std::string text;  // the value as written (a number's shortest round-trip form)
    std::optional<double> number;
    static Value of(double v);
    static Value of(const std::string& s);  // a number when the whole text parses as one
    bool truth() const;                     // a non-zero number or a non-empty, non-"false" text
};

// What a name stands for: nullopt when the name is known but has no value here (a figure a
// skipped check did not produce); a lookup throws for a name it does not know.
using Lookup = std::function<std::optional<Value>(const std::string& name)>;

class Expr {
  public:
    // Parses; throws std::runtime_error naming the position and what was expected (or that the
    // expression nests deeper than kMaxExprDepth).
    explicit Expr(const std::string& text);
    const std::string& text() const { return m_text; }
    // The names the expression uses, each once, in order of appearance.
    const std::vector<std::string>& names() const { return m_names; }
    // Evaluates. A name the lookup has no value for makes the result nullopt (unknown); an
    // arithmetic on text throws.
    std::optional<Value> eval(const Lookup& lookup) const;
    struct Node;

  private:
    std::string m_text;
    std::vector<std::string> m_names;
    std::shared_ptr<const Node> m_root;
};

}  // namespace sprint::sweep

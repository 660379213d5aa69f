#include "platforms/sweep/expr.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <unordered_set>

#include "core/params.h"

namespace sprint::sweep {

namespace {

// A whole number prints whole (2840580, not 2.84058e+06); any other the core's shortest
// round-trip form.
std::string shortest(double v) {
    if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.0f", v == 0.0 ? 0.0 : v);
        return buf;
    }
    return core::format_double(v);
}

std::optional<double> parse_number(const std::string& s) {
    if (s.empty() || std::isspace(static_cast<unsigned char>(s.front()))) return std::nullopt;
    if (s == "true") return 1.0;
    if (s == "false") return 0.0;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

}  // namespace

Value Value::of(double v) {
    return Value{shortest(v), v};
}
Value Value::of(const std::string& s) {
    return Value{s, parse_number(s)};
}
bool Value::truth() const {
    return number ? *number != 0.0 : !text.empty();
}

struct Expr::Node {
    enum Kind { Literal, Name, Not, Neg, Binary } kind;
    std::string op;  // Binary: the operator
    Value literal;
    std::string name;
    std::shared_ptr<const Node> a, b;
    std::size_t height = 0;  // levels of operators below and including this node
};

namespace {

using NodeP = std::shared_ptr<const Expr::Node>;

struct Token {
    enum Kind { Number, String, Name, Op, End } kind;
    std::string text;
    std::size_t pos;
};

std::vector<Token> tokenize(const std::string& s) {
    std::vector<Token> out;
    std::size_t i = 0;
    auto letter = [&](std::size_t k) {
        return k < s.size() && (std::isalpha(static_cast<unsigned char>(s[k])) || s[k] == '_');
    };
    while (i < s.size()) {
        const char c = s[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
            continue;
        }
        const std::size_t start = i;
        if (std::isdigit(static_cast<unsigned char>(c)) ||
            (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
            char* end = nullptr;
            std::strtod(s.c_str() + i, &end);
            i = std::size_t(end - s.c_str());
            out.push_back({Token::Number, s.substr(start, i - start), start});
        } else if (letter(i)) {
            while (i < s.size()) {
                const char d = s[i];
                if (std::isalnum(static_cast<unsigned char>(d)) || d == '_' || d == '.')
                    ++i;
                else if (d == '-' && letter(i + 1) && i > start &&
                         std::isalpha(static_cast<unsigned char>(s[i - 1])))
                    ++i;
                else
                    break;
            }
            out.push_back({Token::Name, s.substr(start, i - start), start});
        } else if (c == '\'' || c == '"') {
            const std::size_t close = s.find(c, i + 1);
            if (close == std::string::npos)
                throw std::runtime_error("unterminated string at position " +
                                         std::to_string(start + 1));
            out.push_back({Token::String, s.substr(i + 1, close - i - 1), start});
            i = close + 1;
        } else {
            static const char* two[] = {"==", "!=", "<=", ">=", "&&", "||"};
            std::string op(1, c);
            for (const char* t : two)
                if (s.compare(i, 2, t) == 0) op = t;
            if (op.size() == 1 && std::string("+-*/%<>()!").find(c) == std::string::npos)
                throw std::runtime_error("unexpected character '" + op + "' at position " +
                                         std::to_string(start + 1));
            i += op.size();
            out.push_back({Token::Op, op, start});
        }
    }
    out.push_back({Token::End, "", s.size()});
    return out;
}

class Parser {
  public:
    Parser(const std::string& text, std::vector<std::string>& names)
        : m_tokens(tokenize(text)), m_names(names) {}

    NodeP parse() {
        NodeP n = binary(0);
        if (peek().kind != Token::End) fail("an operator");
        return n;
    }

  private:
    std::vector<Token> m_tokens;
    std::size_t m_at = 0;
    std::vector<std::string>& m_names;
    std::unordered_set<std::string> m_seen;  // m_names as a set: a long --where stays linear
    std::size_t m_depth = 0;                 // '(', not and minus open around the cursor

    // One level of nesting ('(', not, minus) for the life of the guard: the parser recurses
    // once per level, so the bound is checked before it does.
    class Level {
      public:
        Level(Parser& p, const Token& at) : m_p(p) {
            if (++m_p.m_depth > kMaxExprDepth) m_p.too_deep(at);
        }
        ~Level() { --m_p.m_depth; }
        Level(const Level&) = delete;
        Level& operator=(const Level&) = delete;

      private:
        Parser& m_p;
    };

    const Token& peek() const { return m_tokens[m_at]; }
    [[noreturn]] static void fail_at(const std::string& what, const Token& t) {
        throw std::runtime_error(what + " at position " + std::to_string(t.pos + 1) +
                                 (t.kind == Token::End ? " (the end)" : " ('" + t.text + "')"));
    }
    [[noreturn]] void fail(const std::string& expected) const {
        fail_at("expected " + expected, peek());
    }
    [[noreturn]] static void too_deep(const Token& at) {
        fail_at("nested deeper than the limit of " + std::to_string(kMaxExprDepth) + " levels", at);
    }
    // A Not, Neg or Binary node over its operands. Its height is checked here too: a chain
    // (1 + 1 + ... + 1) parses in a loop but builds a tree the evaluator recurses down.
    static NodeP compound(Expr::Node::Kind kind, const std::string& op, NodeP a, NodeP b,
                          const Token& at) {
        auto n = std::make_shared<Expr::Node>();
        n->kind = kind;
        n->op = op;
        n->height = 1 + std::max(a->height, b ? b->height : 0);
        n->a = std::move(a);
        n->b = std::move(b);
        if (n->height > kMaxExprDepth) too_deep(at);
        return n;
    }
    // The operator at the cursor in canonical form ("and", "or", ...), or "".
    std::string op_here() const {
        const Token& t = peek();
        if (t.kind == Token::Op) {
            if (t.text == "&&") return "and";
            if (t.text == "||") return "or";
            return t.text;
        }
        if (t.kind == Token::Name && (t.text == "and" || t.text == "or" || t.text == "not"))
            return t.text;
        return "";
    }
    static int precedence(const std::string& op) {
        if (op == "or") return 1;
        if (op == "and") return 2;
        if (op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=")
            return 4;
        if (op == "+" || op == "-") return 5;
        if (op == "*" || op == "/" || op == "%") return 6;
        return 0;
    }
    NodeP binary(int min_prec) {
        NodeP left = unary();
        for (;;) {
            const std::string op = op_here();
            const int p = precedence(op);
            if (p == 0 || p <= min_prec) return left;
            const Token at = peek();
            ++m_at;
            // Comparisons do not chain (a < b < c is an error, not a surprise).
            NodeP right = binary(p == 4 ? 4 : p);
            if (p == 4 && precedence(op_here()) == 4) fail("'and' or 'or' between comparisons");
            left = compound(Expr::Node::Binary, op, std::move(left), std::move(right), at);
        }
    }
    NodeP unary() {
        const std::string op = op_here();
        if (op == "not" || op == "!" || op == "-") {
            const Token at = peek();
            const Level level(*this, at);
            ++m_at;
            // not binds looser than a comparison (not a < b is not (a < b)); minus binds tight.
            NodeP a = op == "-" ? unary() : binary(3);
            return compound(op == "-" ? Expr::Node::Neg : Expr::Node::Not, "", std::move(a),
                            nullptr, at);
        }
        const Token t = peek();
        auto n = std::make_shared<Expr::Node>();
        switch (t.kind) {
            case Token::Number:
                n->kind = Expr::Node::Literal;
                n->literal = Value::of(t.text);
                ++m_at;
                return n;
            case Token::String:
                n->kind = Expr::Node::Literal;
                n->literal = Value{t.text, std::nullopt};
                ++m_at;
                return n;
            case Token::Name:
                if (t.text == "true" || t.text == "false") {
                    n->kind = Expr::Node::Literal;
                    n->literal = Value::of(t.text == "true" ? 1.0 : 0.0);
                } else {
                    n->kind = Expr::Node::Name;
                    n->name = t.text;
                    if (m_seen.insert(t.text).second) m_names.push_back(t.text);
                }
                ++m_at;
                return n;
            case Token::Op:
                if (t.text == "(") {
                    const Level level(*this, t);
                    ++m_at;
                    NodeP inner = binary(0);
                    if (op_here() != ")") fail("')'");
                    ++m_at;
                    return inner;
                }
                break;
            case Token::End:
                break;
        }
        fail("a number, a 'string', a name or '('");
    }
};

double as_number(const Value& v, const std::string& op) {
    if (!v.number)
        throw std::runtime_error("'" + op + "' needs numbers, got the text '" + v.text + "'");
    return *v.number;
}

std::optional<Value> eval_node(const Expr::Node& n, const Lookup& lookup) {
    switch (n.kind) {
        case Expr::Node::Literal:
            return n.literal;
        case Expr::Node::Name:
            return lookup(n.name);
        case Expr::Node::Not: {
            auto a = eval_node(*n.a, lookup);
            if (!a) return std::nullopt;
            return Value::of(a->truth() ? 0.0 : 1.0);
        }
        case Expr::Node::Neg: {
            auto a = eval_node(*n.a, lookup);
            if (!a) return std::nullopt;
            return Value::of(-as_number(*a, "-"));
        }
        case Expr::Node::Binary:
            break;
    }
    const std::string& op = n.op;
    auto a = eval_node(*n.a, lookup);
    if (op == "and" && a && !a->truth()) return Value::of(0.0);
    if (op == "or" && a && a->truth()) return Value::of(1.0);
    auto b = eval_node(*n.b, lookup);
    if (op == "and" || op == "or") {
        if (!a || !b) return std::nullopt;
        return Value::of(b->truth() ? 1.0 : 0.0);
    }
    if (!a || !b) return std::nullopt;
    if (op == "+" || op == "-" || op == "*" || op == "/" || op == "%") {
        const double x = as_number(*a, op), y = as_number(*b, op);
        if (op == "+") return Value::of(x + y);
        if (op == "-") return Value::of(x - y);
        if (op == "*") return Value::of(x * y);
        if (y == 0.0) throw std::runtime_error("division by zero");
        return Value::of(op == "/" ? x / y : std::fmod(x, y));
    }
    int c;
    if (a->number && b->number)
        c = *a->number < *b->number ? -1 : (*a->number > *b->number ? 1 : 0);
    else
        c = a->text.compare(b->text) < 0 ? -1 : (a->text == b->text ? 0 : 1);
    bool r = false;
    if (op == "==") r = c == 0;
    if (op == "!=") r = c != 0;
    if (op == "<") r = c < 0;
    if (op == "<=") r = c <= 0;
    if (op == ">") r = c > 0;
    if (op == ">=") r = c >= 0;
    return Value::of(r ? 1.0 : 0.0);
}

// The expression as an error message quotes it: a long one (a generated --where, 20,000 '(')
// by its start and length, since the position in the message says where the fault is.
std::string quoted(const std::string& text) {
    constexpr std::size_t kShown = 80;
    if (text.size() <= kShown) return "'" + text + "'";
    return "'" + text.substr(0, kShown) + "...' (" + std::to_string(text.size()) + " characters)";
}

}  // namespace

Expr::Expr(const std::string& text) : m_text(text) {
    try {
        m_root = Parser(text, m_names).parse();
    } catch (const std::exception& e) {
        throw std::runtime_error("expression " + quoted(text) + ": " + e.what());
    }
}

std::optional<Value> Expr::eval(const Lookup& lookup) const {
    try {
        return eval_node(*m_root, lookup);
    } catch (const std::exception& e) {
        throw std::runtime_error("expression " + quoted(m_text) + ": " + e.what());
    }
}

}  // namespace sprint::sweep

#include "platforms/sweep/expr.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

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

    const Token& peek() const { return m_tokens[m_at]; }
    [[noreturn]] void fail(const std::string& expected) const {
        const Token& t = peek();
        throw std::runtime_error("expected " + expected + " at position " +
                                 std::to_string(t.pos + 1) +
                                 (t.kind == Token::End ? " (the end)" : " ('" + t.text + "')"));
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
            ++m_at;
            // Comparisons do not chain (a < b < c is an error, not a surprise).
            NodeP right = binary(p == 4 ? 4 : p);
            if (p == 4 && precedence(op_here()) == 4) fail("'and' or 'or' between comparisons");
            auto n = std::make_shared<Expr::Node>();
            n->kind = Expr::Node::Binary;
            n->op = op;
            n->a = left;
            n->b = right;
            left = n;
        }
    }
    NodeP unary() {
        const std::string op = op_here();
        if (op == "not" || op == "!" || op == "-") {
            ++m_at;
            auto n = std::make_shared<Expr::Node>();
            n->kind = op == "-" ? Expr::Node::Neg : Expr::Node::Not;
            // not binds looser than a comparison (not a < b is not (a < b)); minus binds tight.
            n->a = op == "-" ? unary() : binary(3);
            return n;
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
                    bool seen = false;
                    for (const auto& s : m_names) seen = seen || s == t.text;
                    if (!seen) m_names.push_back(t.text);
                }
                ++m_at;
                return n;
            case Token::Op:
                if (t.text == "(") {
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

}  // namespace

Expr::Expr(const std::string& text) : m_text(text) {
    try {
        m_root = Parser(text, m_names).parse();
    } catch (const std::exception& e) {
        throw std::runtime_error("expression '" + text + "': " + e.what());
    }
}

std::optional<Value> Expr::eval(const Lookup& lookup) const {
    try {
        return eval_node(*m_root, lookup);
    } catch (const std::exception& e) {
        throw std::runtime_error("expression '" + m_text + "': " + e.what());
    }
}

}  // namespace sprint::sweep

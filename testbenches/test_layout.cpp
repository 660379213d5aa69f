// The layout docs/layout.md describes, kept true: includes run only down the layers, and no
// function of the model and its applications outgrows a screen.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kRoot(SPRINT_SOURCE_DIR);

// The source files (.h, .cpp) under a folder of the tree, relative to the root.
std::vector<std::string> sources(const std::string& folder) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(kRoot / folder)) {
        const auto ext = e.path().extension();
        if (e.is_regular_file() && (ext == ".h" || ext == ".cpp"))
            out.push_back(fs::relative(e.path(), kRoot).string());
    }
    return out;
}

std::string read(const std::string& rel) {
    std::ifstream in(kRoot / rel);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The layer a project path belongs to ("platforms/sim/cli.h" -> "platforms/sim").
std::string layer_of(const std::string& path) {
    const auto slash = path.find('/');
    const std::string top = path.substr(0, slash);
    if (top != "platforms") return top;
    const auto next = path.find('/', slash + 1);
    return path.substr(0, next);
}

// The source with comments, string and character literals blanked (newlines kept), so braces
// in them do not count.
std::string code_only(const std::string& s) {
    std::string out = s;
    std::size_t i = 0;
    auto blank = [&](std::size_t from, std::size_t to) {
        for (std::size_t k = from; k < to && k < out.size(); ++k)
            if (out[k] != '\n') out[k] = ' ';
    };
    while (i < s.size()) {
        if (s.compare(i, 2, "//") == 0) {
            const std::size_t e = s.find('\n', i);
            blank(i, e);
            i = e == std::string::npos ? s.size() : e;
        } else if (s.compare(i, 2, "/*") == 0) {
            const std::size_t e = s.find("*/", i) + 2;
            blank(i, e);
            i = e;
        } else if (s.compare(i, 2, "R\"") == 0) {
            const std::size_t open = s.find('(', i);
            const std::string close = ")" + s.substr(i + 2, open - i - 2) + "\"";
            const std::size_t e = s.find(close, open) + close.size();
            blank(i, e);
            i = e;
        } else if (s[i] == '"' || (s[i] == '\'' && !(i > 0 && std::isxdigit(s[i - 1])))) {
            const char q = s[i];
            std::size_t e = i + 1;
            while (e < s.size() && s[e] != q) e += s[e] == '\\' ? 2 : 1;
            blank(i + 1, e);
            i = e + 1;
        } else {
            ++i;
        }
    }
    return out;
}

struct Function {
    std::string head;
    std::size_t first_line, lines;
};

// Every outermost function body (lambdas and blocks inside count toward their function), from
// the first line of its signature to its closing brace.
std::vector<Function> functions(const std::string& source) {
    static const std::regex control(R"(^(if|for|while|switch|catch|do|else|try|return)\b)");
    static const std::regex type(R"((^|\s)(namespace|struct|class|enum|union)(\s|$))");
    const std::string s = code_only(source);
    std::vector<Function> out;
    struct Open {
        bool function;
        std::size_t first_line;
        std::string head;
    };
    std::vector<Open> stack;
    std::size_t last = 0;  // just after the last ';', '{' or '}'
    auto line_at = [&](std::size_t pos) {
        return std::size_t(std::count(s.begin(), s.begin() + std::ptrdiff_t(pos), '\n')) + 1;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '{') {
            std::string head = s.substr(last, i - last);
            const std::size_t lead = head.find_first_not_of(" \t\n");
            const std::size_t start = lead == std::string::npos ? i : last + lead;
            head = lead == std::string::npos ? "" : head.substr(lead);
            bool inside = false;
            for (const Open& o : stack) inside |= o.function;
            const bool fn = !inside && head.find(')') != std::string::npos &&
                            !std::regex_search(head, control) && !std::regex_search(head, type) &&
                            head.back() != '=';
            stack.push_back({fn, line_at(start), head.substr(0, head.find('\n'))});
            last = i + 1;
        } else if (s[i] == '}') {
            if (!stack.empty()) {
                const Open o = stack.back();
                stack.pop_back();
                if (o.function)
                    out.push_back({o.head, o.first_line, line_at(i) - o.first_line + 1});
            }
            last = i + 1;
        } else if (s[i] == ';') {
            last = i + 1;
        }
    }
    return out;
}

}  // namespace

TEST_CASE("layout: includes run only down the layers of docs/layout.md") {
    // What each layer may include besides itself.
    const std::map<std::string, std::set<std::string>> may = {
        {"core", {}},
        {"tlm_interfaces", {"core"}},
        {"waveforms", {"core"}},
        {"modules", {"core", "tlm_interfaces", "waveforms"}},
        {"platforms/components", {"core", "tlm_interfaces", "waveforms", "modules"}},
        {"platforms/sim",
         {"core", "tlm_interfaces", "waveforms", "modules", "platforms/components"}},
        {"platforms/sweep",
         {"core", "tlm_interfaces", "waveforms", "modules", "platforms/components",
          "platforms/sim"}}};
    const std::regex include(R"re(#include\s+"([a-z_]+/[^"]+)")re");
    std::size_t files = 0, includes = 0;
    for (const auto& [layer, allowed] : may)
        for (const std::string& f : sources(layer)) {
            ++files;
            const std::string text = read(f);
            for (std::sregex_iterator m(text.begin(), text.end(), include), end; m != end; ++m) {
                const std::string target = layer_of((*m)[1]);
                if (!may.count(target)) continue;  // a system or generated header
                ++includes;
                INFO(f << " includes " << (*m)[1]);
                CHECK((target == layer || allowed.count(target)));
            }
        }
    CHECK(files > 100);
    CHECK(includes > 200);
}

TEST_CASE("layout: the function finder sees functions, lambdas inside them and nothing else") {
    const std::string src =
        "namespace a {\n"
        "struct S {\n"
        "    int f(int x) const {\n"
        "        auto g = [&](int y) { return y + 1; };\n"
        "        if (x) { return g(x); }\n"
        "        return \"}\"[0] + '{';\n"
        "    }\n"
        "};\n"
        "// void commented() {\n"
        "int h(\n"
        "    int z) {\n"
        "    return z;\n"
        "}\n"
        "}  // namespace a\n";
    const std::vector<Function> f = functions(src);
    REQUIRE(f.size() == 2);
    CHECK(f[0].first_line == 3);
    CHECK(f[0].lines == 5);
    CHECK(f[1].first_line == 10);
    CHECK(f[1].lines == 4);
}

TEST_CASE("layout: no function in core, tlm_interfaces, modules or platforms is over 80 lines") {
    std::size_t counted = 0;
    for (const std::string folder : {"core", "tlm_interfaces", "modules", "platforms", "waveforms"})
        for (const std::string& f : sources(folder)) {
            for (const Function& fn : functions(read(f))) {
                ++counted;
                INFO(f << ":" << fn.first_line << " " << fn.head << ": " << fn.lines << " lines");
                CHECK(fn.lines <= 80);
            }
        }
    CHECK(counted > 500);
}

TEST_CASE("layout: no source file of the IP's modules is over 420 lines (one job each)") {
    std::size_t files = 0;
    for (const std::string& f : sources("modules")) {
        const std::string text = read(f);
        const auto lines = std::count(text.begin(), text.end(), '\n');
        INFO(f << ": " << lines << " lines");
        CHECK(lines <= 420);
        ++files;
    }
    CHECK(files > 20);
}

#!/bin/sh
# The C++ examples of the docs, built and run as an integrator copies them (one ctest entry), so
# they cannot go stale:
#   1. every ```cpp block of README.md and docs/**/*.md must follow the line
#      `<!-- compiled: SCAFFOLD -->`; its leading #include lines and its statements are put into
#      testbenches/doc_examples/SCAFFOLD.cpp (at `// @INCLUDES@` and `// @BODY@`; each scaffold
#      says what it declares for the example), or, with SCAFFOLD `tu`, the block is a whole
#      translation unit with its own sc_main;
#   2. each is built against the IP component installed into a temporary prefix (find_package, as
#      package_test.sh does) and run;
#   3. inline code in those files that sets or reads the configuration (`cfg.` ...) or calls the
#      IP (`sprint.` ...(...)) must appear verbatim in one of the compiled blocks.
# A failure names FILE:LINE of the example; compiler messages point into the Markdown (#line).
# Usage: doc_examples_test.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1
build=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sprint-docs-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
scaffolds=$src/testbenches/doc_examples
mkdir "$tmp/raw" "$tmp/project" "$tmp/run"
failures=0
failed() {
    echo "doc examples: $*" >&2
    failures=$((failures + 1))
}

# 1. The blocks: raw/example_N.txt each, and a list "example_N FILE LINE SCAFFOLD" (LINE: the
#    block's first line of code).
cd "$src"
docs=$(find README.md docs -name '*.md' | sort)
# shellcheck disable=SC2086
awk -v raw="$tmp/raw" -v list="$tmp/list" '
FNR == 1 { if (inblock) unclosed(); marker = ""; inblock = 0 }
function unclosed() {
    printf "doc examples: %s:%d: the ```cpp block is not closed\n", file, start > "/dev/stderr"; bad = 1
}
inblock {
    if ($0 ~ /^```[ \t]*$/) { inblock = 0; close(out) } else print > out
    next
}
/^```cpp[ \t]*$/ {
    if (marker == "") {
        printf "doc examples: %s:%d: a ```cpp example without <!-- compiled: SCAFFOLD --> on the line before\n",
            FILENAME, FNR > "/dev/stderr"
        bad = 1
    }
    n++
    out = raw "/example_" n ".txt"
    printf "" > out
    printf "example_%d %s %d %s\n", n, FILENAME, FNR + 1, (marker == "" ? "none" : marker) >> list
    inblock = 1; file = FILENAME; start = FNR; marker = ""
    next
}
{
    if (marker != "") {
        printf "doc examples: %s:%d: <!-- compiled: %s --> is not followed by a ```cpp block\n", FILENAME,
            FNR - 1, marker > "/dev/stderr"
        bad = 1
    }
    marker = ""
    if ($0 ~ /^<!-- compiled: [A-Za-z0-9_]+ -->[ \t]*$/) marker = $3
}
END { if (inblock) unclosed(); exit bad }
' $docs || failures=$((failures + 1))
[ -s "$tmp/list" ] || { echo "doc examples: no \`\`\`cpp block in README.md and docs/" >&2; exit 1; }

# 2. One translation unit per block: the scaffold with the block's includes and statements, each
#    part under a #line that names the Markdown file and line.
names=""
while read -r name file line scaffold; do
    case $scaffold in
    none) continue ;;
    tu) { printf '#line %d "%s"\n' "$line" "$file"; cat "$tmp/raw/$name.txt"; } >"$tmp/project/$name.cpp" ;;
    *)
        tpl=$scaffolds/$scaffold.cpp
        if [ ! -f "$tpl" ]; then
            failed "$file:$((line - 2)): no scaffold '$scaffold' (testbenches/doc_examples/$scaffold.cpp)"
            continue
        fi
        awk -v raw="$tmp/raw/$name.txt" -v file="$file" -v line="$line" \
            -v tpl="testbenches/doc_examples/$scaffold.cpp" '
        BEGIN {
            while ((getline l < raw) > 0) code[++n] = l
            k = 1  # the statements start after the leading #include and blank lines
            while (k <= n && (code[k] ~ /^#include/ || code[k] ~ /^[ \t]*$/)) k++
        }
        /^[ \t]*\/\/ @INCLUDES@[ \t]*$/ {
            printf "#line %d \"%s\"\n", line, file
            for (i = 1; i < k; i++) print code[i]
            printf "#line %d \"%s\"\n", FNR + 1, tpl
            next
        }
        /^[ \t]*\/\/ @BODY@[ \t]*$/ {
            printf "#line %d \"%s\"\n", line + k - 1, file
            for (i = k; i <= n; i++) print code[i]
            printf "#line %d \"%s\"\n", FNR + 1, tpl
            next
        }
        { print }
        ' "$tpl" >"$tmp/project/$name.cpp"
        ;;
    esac
    names="$names $name"
done <"$tmp/list"

cat >"$tmp/project/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.18)
project(sprint-vp-doc-examples LANGUAGES CXX)
find_package(sprint-vp 0.1 REQUIRED)
foreach(name $names)
    add_executable(\${name} \${name}.cpp)
    target_include_directories(\${name} PRIVATE "$scaffolds")
    target_link_libraries(\${name} PRIVATE sprint-vp::sprint_ip)
endforeach()
EOF
cmake --install "$build" --prefix "$tmp/prefix" --component ip >"$tmp/install.log" ||
    { cat "$tmp/install.log"; exit 1; }
cmake -S "$tmp/project" -B "$tmp/project/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
    >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; exit 1; }
while read -r name file line scaffold; do
    case " $names " in *" $name "*) ;; *) continue ;; esac
    what="$file:$line (the \`\`\`cpp example, scaffold $scaffold)"
    if ! cmake --build "$tmp/project/build" --target "$name" >"$tmp/$name.log" 2>&1; then
        failed "$what does not compile as printed:"
        grep -v '^\[\|^gmake\|^make' "$tmp/$name.log" | head -40 >&2
        continue
    fi
    if ! (cd "$tmp/run" && SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 "$tmp/project/build/$name") \
        >"$tmp/$name.run" 2>&1; then
        failed "$what compiles but fails when run:"
        head -40 "$tmp/$name.run" >&2
        continue
    fi
    echo "doc examples: $what compiles and runs"
done <"$tmp/list"

# 3. Inline code that names the configuration or calls the IP is one of the compiled lines.
for f in $docs; do
    grep -o '`cfg\.[^`]*`\|`sprint\.[^`]*([^`]*`' "$f" | tr -d '`' | sort -u >"$tmp/spans" || true
    while IFS= read -r span; do
        cat "$tmp"/raw/*.txt | grep -F -q -- "$span" ||
            failed "$f: the inline code \`$span\` is in no compiled example (mark a block that uses it)"
    done <"$tmp/spans"
done

if [ "$failures" -ne 0 ]; then
    echo "doc examples: $failures problem(s); see above" >&2
    exit 1
fi
echo "doc examples: ok"

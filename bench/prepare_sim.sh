# Sourced by the bench scripts that read sprint-sim --stats with python3 (bounds.sh, presets.sh,
# rules.sh), from the repository's top folder: python3 installed if missing, sprint-sim built in
# Release, and a temporary folder $tmp removed when the script exits.
./scripts/deps.sh python3
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target sprint-sim -j "$(nproc)" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

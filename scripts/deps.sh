#!/bin/sh
# Installs the Debian packages sprint-vp builds with, if any are missing (idempotent); the
# arguments name more packages a script needs (bench/bounds.sh: python3).
# As root it runs apt-get; otherwise it uses sudo when that works without a password prompt;
# otherwise it prints the exact command to run and fails.
set -eu

PACKAGES="cmake make g++ pkg-config libsystemc-dev libboost-program-options-dev catch2 \
nlohmann-json3-dev libxtensor-dev libyaml-cpp-dev libsqlite3-dev clang-format \
pybind11-dev python3-dev python3-numpy $*"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "sprint-vp: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
else
    echo "sprint-vp: cannot install packages without root. Run:" >&2
    echo "    sudo apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have empty package lists: refresh them once if the install fails.
$SUDO apt-get install -y -q $missing || { $SUDO apt-get update -q && $SUDO apt-get install -y -q $missing; }

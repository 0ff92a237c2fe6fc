#!/usr/bin/env bash
# Installs the system packages matx_nb needs, the ones pip cannot install.
# `make setup` (and so `make demo` / `make test`, and CI) runs it first.
#
#   scripts/install_system_deps.sh            # install what is missing (apt)
#   scripts/install_system_deps.sh --check    # only list what is missing; exit 1 if any
#   scripts/install_system_deps.sh --list     # print the table of prerequisites
#
# On Debian/Ubuntu it installs only what is missing, with apt-get (through sudo
# when not root). Elsewhere it prints the Fedora (dnf) and conda commands for the
# missing packages. Set MATX_NB_SKIP_SYSTEM_DEPS=1 to skip it altogether.
set -euo pipefail

PYTHON="${PYTHON:-python3}"

# One prerequisite per line, fields separated by '|':
#   name | needed: yes, or no (only some tests use it) | check (a shell test
#   that succeeds when it is there) | Debian/Ubuntu package | Fedora package |
#   conda-forge package ('-': none) | what it is for
# README.md's "Quick start" lists the same table: keep them together.
PREREQUISITES='
g++          |yes|have_cxx                      |g++          |gcc-c++     |cxx-compiler|compiles the generated C++ and the pybind11 module
cmake        |yes|have_cmd cmake                |cmake        |cmake       |cmake       |builds the pybind11 module (pip install)
make         |yes|have_cmd make                 |make         |make        |make        |runs the README commands
python3      |yes|have_cmd "$PYTHON"            |python3      |python3     |python      |runs matx_nb (>= 3.10)
python3-venv |yes|py_has_venv                   |python3-venv |python3     |python      |creates .venv
python3-dev  |yes|py_has_headers                |python3-dev  |python3-devel|python     |Python.h, to build the pybind11 module
libpcre2-dev |yes|have_header pcre2.h           |libpcre2-dev |pcre2-devel |pcre2       |re / matx_nb.Regex in compiled code (PCRE2)
opencv       |yes|have_header opencv4/opencv2/imgcodecs.hpp|libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev libjpeg-dev|opencv-devel libjpeg-turbo-devel|libopencv libjpeg-turbo|matx_nb.vision: the vision ops (OpenCV 4 C++)
chromium     |no |have_cmd chromium             |chromium     |chromium    |-           |the JupyterLab browser test (tests/test_lab.py)
'

have_cmd() { command -v "$1" >/dev/null 2>&1; }

# A check is one shell command; '|' separates the table's fields, so no pipes in it.
have_cxx() { have_cmd g++ || have_cmd c++; }

py_has_venv() { "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; }

py_has_headers() {
    "$PYTHON" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' >/dev/null 2>&1
}

# A header the C++ compiler finds as it will when matx_nb compiles (or, before
# there is a compiler, one in the usual include folders).
have_header() {
    local cxx="${MATX_NB_CXX:-}"
    [ -n "$cxx" ] || cxx="$(command -v g++ || command -v c++ || true)"
    if [ -n "$cxx" ]; then
        # __has_include, not #include: some headers #error without their macros.
        printf '#if !__has_include(<%s>)\n#error missing\n#endif\n' "$1" |
            "$cxx" -x c++ -std=c++17 -E - -o /dev/null >/dev/null 2>&1
    else
        [ -f "/usr/include/$1" ] || [ -f "/usr/local/include/$1" ]
    fi
}

# Each row as: name needed debian fedora conda (check and purpose via field()).
rows() { printf '%s\n' "$PREREQUISITES" | sed -e '/^[[:space:]]*$/d'; }
field() { printf '%s' "$1" | cut -d'|' -f"$2" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'; }

mode=install
case "${1:-}" in
    "") ;;
    --check) mode=check ;;
    --list) mode=list ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--check|--list]" >&2; exit 2 ;;
esac

if [ "$mode" = list ]; then
    printf '%-13s %-7s %-14s %-14s %-13s %s\n' name needed debian fedora conda "what for"
    while IFS= read -r row; do
        printf '%-13s %-7s %-14s %-14s %-13s %s\n' "$(field "$row" 1)" "$(field "$row" 2)" \
            "$(field "$row" 4)" "$(field "$row" 5)" "$(field "$row" 6)" "$(field "$row" 7)"
    done < <(rows)
    exit 0
fi

if [ "${MATX_NB_SKIP_SYSTEM_DEPS:-0}" = 1 ]; then
    echo "matx_nb: MATX_NB_SKIP_SYSTEM_DEPS=1, not checking system packages"
    exit 0
fi

missing_rows=()
while IFS= read -r row; do
    if ! eval "$(field "$row" 3)"; then missing_rows+=("$row"); fi
done < <(rows)

if [ "${#missing_rows[@]}" -eq 0 ]; then
    echo "matx_nb: system prerequisites present"
    exit 0
fi

# The packages of column $1 for the missing rows ($2 = yes: the needed ones only).
packages() {
    local col="$1" only_needed="${2:-}" row pkg out=()
    for row in "${missing_rows[@]}"; do
        [ -z "$only_needed" ] || [ "$(field "$row" 2)" = yes ] || continue
        pkg="$(field "$row" "$col")"
        [ "$pkg" = - ] && continue
        case " ${out[*]:-} " in *" $pkg "*) ;; *) out+=("$pkg") ;; esac
    done
    printf '%s' "${out[*]:-}"
}

echo "matx_nb: missing system packages:"
for row in "${missing_rows[@]}"; do
    printf '  %-13s %s%s\n' "$(field "$row" 1)" "$(field "$row" 7)" \
        "$([ "$(field "$row" 2)" = yes ] || echo ' (optional)')"
done

if [ "$mode" = check ]; then
    exit 1
fi

if have_cmd apt-get && have_cmd dpkg; then
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        if have_cmd sudo; then
            SUDO=(sudo)
        else
            echo "matx_nb: not root and no sudo; as root run: apt-get install $(packages 4)" >&2
            exit 1
        fi
    fi
    debian="$(packages 4)"
    echo "+ apt-get install $debian"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -y -q
    # shellcheck disable=SC2086  # a list of package names
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $debian
    exit 0
fi

needed="$(packages 4 yes)"
cat >&2 <<EOF
matx_nb: this is not Debian/Ubuntu (no apt-get); install them yourself:
  Debian/Ubuntu: sudo apt-get install $(packages 4)
  Fedora:        sudo dnf install $(packages 5)
  conda:         conda install -c conda-forge $(packages 6)
then run this again (or set MATX_NB_SKIP_SYSTEM_DEPS=1 to go on without them).
EOF
# Only the optional ones missing (e.g. chromium): the install can go on.
[ -z "$needed" ] || exit 1

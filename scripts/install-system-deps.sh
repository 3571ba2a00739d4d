#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Gatehouse needs, and nothing that is already there.
#
#   scripts/install-system-deps.sh [--check] PROFILE...
#
# Profiles:
#   build    compilers and CMake for the native addon
#   test     build + what the test suite starts or uses (clang/libFuzzer for the fuzz target)
#   runtime  what a running gatehouse needs beyond Node.js
#
# Idempotent: packages already installed are skipped, and apt is not touched when nothing is missing.
# Not root, or not Debian/Ubuntu: prints the exact install line and exits 1.
# --check: only report what is missing (exit 1 if anything is).
set -euo pipefail

pkgs_build=(cmake g++ make pkg-config python3 freerdp2-dev libwebp-dev libjpeg62-turbo-dev libpng-dev)
pkgs_test=("${pkgs_build[@]}" clang libclang-rt-14-dev llvm
  xvfb x11vnc tigervnc-standalone-server tigervnc-tools xterm x11-apps x11-utils x11-xserver-utils xdotool xclip
  chromium fonts-dejavu-core postgresql openssl
  freerdp2-shadow-x11 freerdp2-x11 xrdp xorgxrdp winpr-utils xauth iproute2)
pkgs_runtime=(ca-certificates)

check_only=0
profiles=()
for arg in "$@"; do
  case "$arg" in
    --check) check_only=1 ;;
    build | test | runtime) profiles+=("$arg") ;;
    -h | --help)
      sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "install-system-deps: unknown profile or option '$arg' (expected build, test, runtime, --check)" >&2
      exit 2
      ;;
  esac
done
[ ${#profiles[@]} -gt 0 ] || profiles=(build)

wanted=()
for p in "${profiles[@]}"; do
  eval 'wanted+=("${pkgs_'"$p"'[@]}")'
done
# de-duplicate, keep order
mapfile -t wanted < <(printf '%s\n' "${wanted[@]}" | awk '!seen[$0]++')

is_debian_like() {
  [ -r /etc/os-release ] || return 1
  # shellcheck disable=SC1091
  . /etc/os-release
  case " ${ID:-} ${ID_LIKE:-} " in
    *" debian "* | *" ubuntu "*) command -v apt-get >/dev/null && command -v dpkg-query >/dev/null ;;
    *) return 1 ;;
  esac
}

install_line() {
  echo "apt-get update && apt-get install -y --no-install-recommends $*"
}

if ! is_debian_like; then
  echo "install-system-deps: this script installs packages on Debian/Ubuntu only." >&2
  echo "install-system-deps: on Debian 12 the equivalent is (as root):" >&2
  echo "  $(install_line "${wanted[@]}")" >&2
  exit 1
fi

missing=()
for p in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$check_only" = 1 ]; then
  echo "install-system-deps: missing packages for ${profiles[*]}: ${missing[*]}" >&2
  echo "  $(install_line "${missing[@]}")" >&2
  exit 1
fi

if [ "$(id -u)" != 0 ]; then
  echo "install-system-deps: missing packages for ${profiles[*]}: ${missing[*]}" >&2
  echo "install-system-deps: not root; run this as root (or with sudo):" >&2
  echo "  $(install_line "${missing[@]}")" >&2
  exit 1
fi

echo "install-system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
echo "install-system-deps: done" >&2

#!/usr/bin/env bash
# Install what the test suite needs on a fresh Debian 12 machine (run as root).
# Idempotent: skips whatever is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

have_initdb() {
    command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

apt_packages=()
have_initdb || apt_packages+=(postgresql)
command -v java >/dev/null 2>&1 || apt_packages+=(openjdk-17-jre-headless)

if [ "${#apt_packages[@]}" -gt 0 ]; then
    echo "install.sh: apt-get install ${apt_packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${apt_packages[@]}"
fi

echo "install.sh: pip install -e .[dev,postgres,clickhouse,spark]"
python -m pip install -q --disable-pip-version-check --root-user-action=ignore \
    -e ".[dev,postgres,clickhouse,spark]"

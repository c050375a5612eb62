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
# a real headless browser for tests/test_docs_site.py (selenium drives it)
command -v chromium >/dev/null 2>&1 || apt_packages+=(chromium)
command -v chromedriver >/dev/null 2>&1 || apt_packages+=(chromium-driver)

if [ "${#apt_packages[@]}" -gt 0 ]; then
    echo "install.sh: apt-get install ${apt_packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${apt_packages[@]}"
fi

echo "install.sh: pip install -e .[dev,postgres,clickhouse,spark]"
python -m pip install -q --disable-pip-version-check --root-user-action=ignore \
    -e ".[dev,postgres,clickhouse,spark]"

# Apache Airflow, in its own virtualenv (its pins would fight the test environment's), for
# tests/test_examples.py (`airflow dags test` on examples/airflow). Kept across CI runs on
# the same machine: skipped when that Airflow already answers. Airflow's official
# constraint files are not on the package index, so the version is pinned here instead.
AIRFLOW_VENV="${SEGSQL_AIRFLOW_VENV:-/opt/segsql-ci/airflow}"
AIRFLOW_VERSION=3.3.2
if [ "$("$AIRFLOW_VENV/bin/airflow" version 2>/dev/null | tail -n 1)" != "$AIRFLOW_VERSION" ]; then
    echo "install.sh: Apache Airflow $AIRFLOW_VERSION into $AIRFLOW_VENV"
    rm -rf "$AIRFLOW_VENV"
    python -m venv "$AIRFLOW_VENV"
    "$AIRFLOW_VENV/bin/pip" install -q --disable-pip-version-check \
        "apache-airflow==$AIRFLOW_VERSION" apache-airflow-providers-standard
fi

#!/usr/bin/env bash
# What the bridge and its tests need beyond the Swift toolchain. Installs only what is missing.
# - SQLite's headers (GRDB links the system libsqlite3), libxcrypt's (bcrypt for agent passwords)
#   and libcurl's (SMTP with STARTTLS and AUTH for e-mail); openssl makes the tests' certificates.
# - PostgreSQL 15 with its contrib modules (pg_trgm): scripts/test.sh runs the tests against a
#   throwaway cluster of its own (scripts/postgres.sh), never the system's.
# - For the tests: a Python virtual environment in .build/python with aiosmtpd, the real SMTP
#   server the e-mail tests start (scripts/smtp_test_server.py), and schemathesis, which checks the
#   served OpenAPI document against the server (scripts/schemathesis.sh).
# - For the browser tests (scripts/browser-tests.sh): Debian's chromium, a Japanese and a Chinese font (the
#   Japanese screens render as text, not boxes), and in .build/python
#   Playwright for Python (which drives that chromium through executable_path; never
#   `playwright install`, which would download a browser) and pytest.
# - For the same flow in Firefox and WebKit (Tests/browser/test_engines.py): Debian's firefox-esr
#   (driven over its own WebDriver BiDi socket, so `websockets` in .build/python), webkit2gtk-driver
#   (WebKitWebDriver and WebKitGTK's MiniBrowser, Safari's engine) and xvfb (MiniBrowser's display).
# - For Benchmarks/ingest: wrk, the load generator that is not itself the limit (the benchmark's
#   own client falls well short of the server's /health ceiling), and nginx, the load balancer in
#   front of several bridge processes (deploy/nginx/bridge.conf, run by the benchmark and the
#   cluster test in a directory of their own, never as the system's service).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for package in libsqlite3-dev libcrypt-dev libcurl4-openssl-dev openssl postgresql postgresql-contrib chromium fonts-ipafont-gothic fonts-wqy-zenhei firefox-esr webkit2gtk-driver xvfb wrk nginx dovecot-imapd; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
if ! .build/python/bin/python -c 'import aiosmtpd' >/dev/null 2>&1; then
  echo "installing: aiosmtpd (Python, for the e-mail tests) in .build/python"
  python3 -m venv .build/python
  .build/python/bin/pip install -q 'aiosmtpd>=1.4,<2'
fi
if ! .build/python/bin/schemathesis --version 2>/dev/null | grep -q ' 4\.32\.5$'; then
  echo "installing: schemathesis (Python, for scripts/schemathesis.sh) in .build/python"
  .build/python/bin/pip install -q 'schemathesis==4.32.5'
fi
if ! .build/python/bin/python -c 'import playwright, pytest, sys; from importlib.metadata import version as v; sys.exit(v("playwright") != "1.65.2" or v("pytest") != "9.2.0")' >/dev/null 2>&1; then
  echo "installing: playwright and pytest (Python, for the browser tests) in .build/python"
  .build/python/bin/pip install -q 'playwright==1.65.2' 'pytest==9.2.0'
fi
if ! .build/python/bin/python -c 'import sys; from importlib.metadata import version as v; sys.exit(v("websockets") != "17.4")' >/dev/null 2>&1; then
  echo "installing: websockets (Python, drives firefox-esr over WebDriver BiDi) in .build/python"
  .build/python/bin/pip install -q 'websockets==17.4'
fi
if ! .build/python/bin/python -c 'import sys; from importlib.metadata import version as v; sys.exit(v("cryptography") != "50.0.2")' >/dev/null 2>&1; then
  echo "installing: cryptography (Python, the Web Push stand-in's ECDH, HKDF, AES-GCM and ES256) in .build/python"
  .build/python/bin/pip install -q 'cryptography==50.0.2'
fi

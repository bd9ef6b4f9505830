#!/usr/bin/env bash
# The browser tests (Tests/browser): Playwright for Python drives Debian's chromium against the
# debug `bridge serve` (build it first) and LINE and WhatsApp stand-ins; screenshots of every screen go to
# .build/screenshots/. test_engines.py runs the main flow in firefox-esr and WebKitGTK too (engines.py).
# scripts/install-deps.sh installs the browsers, playwright, websockets and pytest.
#
#   scripts/browser-tests.sh [pytest options, e.g. -k keyboard]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .build/debug/bridge ] || { echo ".build/debug/bridge is missing: run swift build first" >&2; exit 1; }
[ -x .build/python/bin/pytest ] || { echo "pytest is missing: run scripts/install-deps.sh" >&2; exit 1; }
rm -rf .build/screenshots
exec .build/python/bin/pytest Tests/browser -q -p no:cacheprovider "$@"

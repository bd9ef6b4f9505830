#!/usr/bin/env bash
# The test command (README.md, .ci/run): builds everything, plays the demo, checks the API against
# its OpenAPI document (schemathesis), runs the SIGKILL crash tests (ingest and campaigns) and the
# benchmarks (the web page's too) in quick mode on a release build, then every unit, fixture and
# end-to-end test (the server tests a second time with every bridge on PostgreSQL), then a bounded
# fuzzing run. Exits non-zero on the first failure.
# A throwaway PostgreSQL (scripts/postgres.sh) runs for the whole script; its URL is
# BRIDGE_TEST_POSTGRES_URL (BRIDGE_TEST_POSTGRES_SOCKET_URL through its Unix socket), and it is
# stopped and removed on any exit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

# Every temporary file of the run (the tests' databases, mail directories, backups, benchmark
# files) goes under one directory, removed at the end: the tests do not remove theirs, which on a
# shared machine was thousands of directories in /tmp. It is 0755 so that the PostgreSQL server's
# own user reaches its cluster inside it.
scratch=$(mktemp -d)
chmod 755 "$scratch"
export TMPDIR=$scratch

echo "== a throwaway PostgreSQL for the tests"
postgres_dir=$(mktemp -d)
trap 'scripts/postgres.sh stop "$postgres_dir" || true; rm -rf "$scratch"' EXIT
BRIDGE_TEST_POSTGRES_URL=$(scripts/postgres.sh start "$postgres_dir")
BRIDGE_TEST_POSTGRES_SOCKET_URL=$(scripts/postgres.sh socket-url "$postgres_dir")
export BRIDGE_TEST_POSTGRES_URL BRIDGE_TEST_POSTGRES_SOCKET_URL

echo "== debug build with tests"
swift build --build-tests

echo "== bridge migrate on the throwaway PostgreSQL (twice: the second finds it current)"
BRIDGE_DATABASE_URL=$BRIDGE_TEST_POSTGRES_URL swift run --skip-build bridge migrate
BRIDGE_DATABASE_URL=$BRIDGE_TEST_POSTGRES_SOCKET_URL swift run --skip-build bridge migrate

echo "== demo (the whole loop once)"
swift run --skip-build bridge demo --once --port 0

echo "== the web inbox in a real browser (Playwright + Debian's chromium; screenshots in .build/screenshots)"
scripts/browser-tests.sh

echo "== the API against its OpenAPI document (schemathesis, bounded)"
scripts/schemathesis.sh --skip-build --seed 20261128  # a fixed seed: the same cases every run (another seed: scripts/schemathesis.sh)

echo "== release build for the benchmark and crash test"
swift build -c release --product bridge
swift build -c release --product IngestBenchmark
swift build -c release --product InboxBenchmark
swift build -c release --product BroadcastBenchmark
swift build -c release --product ClusterTest

echo "== crash test: SIGKILL mid-load, restart, redeliver"
.build/release/IngestBenchmark crash --quick

echo "== Benchmarks/ingest (quick mode; figures only, nothing asserted on time)"
.build/release/IngestBenchmark run --quick
.build/release/IngestBenchmark store --quick

echo "== Benchmarks/inbox (quick mode; figures only)"
.build/release/InboxBenchmark --quick

echo "== Benchmarks/widget (quick mode; figures only): what open website widgets cost the bridge while webhooks arrive"
.build/python/bin/python Benchmarks/widget/widget_feeds.py --quick

echo "== campaign crash test: SIGKILL mid-campaign, restart, every recipient exactly once"
.build/release/BroadcastBenchmark crash --quick

echo "== Benchmarks/broadcast (quick mode; figures only)"
.build/release/BroadcastBenchmark run --quick

echo "== cluster test: nginx (deploy/nginx/bridge.conf) in front of two bridges on PostgreSQL, the campaign's holder SIGKILLed mid-run"
.build/release/ClusterTest --database "$BRIDGE_TEST_POSTGRES_URL" --quick

echo "== Benchmarks/ingest on PostgreSQL: 1 process, then 2 behind nginx (quick mode; figures only)"
.build/release/IngestBenchmark run --quick --database "$BRIDGE_TEST_POSTGRES_URL" --processes 2

echo "== Benchmarks/inbox on PostgreSQL (quick mode; figures only): the same lists and searches, in a database of their own"
.build/release/InboxBenchmark --quick --database "$BRIDGE_TEST_POSTGRES_URL"

echo "== Benchmarks/broadcast on PostgreSQL: 1 process, then 2 behind nginx, and the 80/s limit across both (quick mode; figures only, every recipient checked reached once)"
.build/release/BroadcastBenchmark run --quick --database "$BRIDGE_TEST_POSTGRES_URL" --processes 2

echo "== Benchmarks/web: the inbox page in headless chromium on a generated inbox (quick mode; figures only)"
page_bench=$(mktemp -d)
.build/release/InboxBenchmark generate --quick --path "$page_bench/inbox.sqlite"
.build/python/bin/python Benchmarks/web/page_benchmark.py --quick --db "$page_bench/inbox.sqlite"
rm -rf "$page_bench"

echo "== tests"
swift test --skip-build

echo "== the server tests again on PostgreSQL: every test bridge serves from a fresh database (BRIDGE_TEST_DATABASE=postgres)"
BRIDGE_TEST_DATABASE=postgres swift test --skip-build --filter ServerTests

echo "== fuzzing: every channel's verify+parse and the config loader, 15 s each (long run: scripts/fuzz.sh 3600)"
scripts/fuzz.sh 15

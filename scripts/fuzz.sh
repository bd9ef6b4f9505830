#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of every channel's verify+parse (each input is a raw webhook
# body, signed with the test secret so parsing is reached) and of the configuration loader (each
# input is a bridge.yaml). Seeded from fixtures/ and from every input kept in fixtures/fuzz/.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (targets: the channels, config)
# README's test command runs it briefly; for a long run: scripts/fuzz.sh 3600
# A crash is copied into fixtures/fuzz/<target>/ (where the tests replay it) and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(line whatsapp messenger instagram sms wechat slack email config)

# One instrumented build for both fuzzers: WebhookFuzz (the channels) and bridge itself, whose
# fuzzing build reads bridge.yaml inputs (Sources/BridgeServer/Configuration/ConfigFuzzing.swift).
echo "== building the fuzzers (-sanitize=fuzzer, .build-fuzz)"
for product in WebhookFuzz bridge; do
  swift build --scratch-path .build-fuzz --product "$product" \
    -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING -Xswiftc -use-ld=lld 2>&1 | grep -E "error|Build" | tail -3
done

status=0
for target in "${targets[@]}"; do
  corpus=.build-fuzz/corpus/$target
  crashes=.build-fuzz/crashes/$target
  mkdir -p "$corpus" "$crashes"
  fuzzer=.build-fuzz/debug/WebhookFuzz
  [ "$target" = config ] && fuzzer=.build-fuzz/debug/bridge
  # Seeds: the platform's real payloads and every crash found before.
  for f in fixtures/"$target"/*.json fixtures/"$target"/*.eml fixtures/fuzz/"$target"/*; do
    [ -f "$f" ] || continue
    case "$f" in *.expected.json) continue ;; esac
    cp "$f" "$corpus/$(basename "$f")"
  done
  log=.build-fuzz/$target.log
  if FUZZ_TARGET=$target "$fuzzer" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$crashes/" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -Eo 'Done [0-9]+ runs' "$log" | grep -Eo '[0-9]+' || echo "?")
    echo "fuzz $target: $runs inputs in ${seconds}s, no crash"
  else
    status=1
    echo "fuzz $target: CRASH (log: $log)"
    tail -30 "$log"
    mkdir -p fixtures/fuzz/"$target"
    for artifact in "$crashes"/*; do
      [ -f "$artifact" ] && cp "$artifact" fixtures/fuzz/"$target"/ && echo "kept $(basename "$artifact") in fixtures/fuzz/$target/"
    done
  fi
done
exit $status

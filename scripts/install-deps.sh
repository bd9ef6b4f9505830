#!/usr/bin/env bash
# System packages the bridge needs beyond the Swift toolchain: SQLite's headers (GRDB links the
# system libsqlite3) and libxcrypt's (bcrypt for agent passwords). Installs only what is missing.
set -euo pipefail
missing=()
dpkg -s libsqlite3-dev >/dev/null 2>&1 || missing+=(libsqlite3-dev)
dpkg -s libcrypt-dev >/dev/null 2>&1 || missing+=(libcrypt-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

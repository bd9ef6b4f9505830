#!/usr/bin/env bash
# A throwaway IMAP server for the e-mail channel's tests (Debian's dovecot-imapd, scripts/install-deps.sh).
#   scripts/dovecot.sh start DIR   write a config of its own in DIR (a passwd-file user `bridge`,
#                                  Maildir under DIR/home), start `dovecot -F` on a free loopback port
#                                  (plain IMAP, and IMAPS on a second port with a self-signed
#                                  certificate in DIR/cert.pem), print "IMAP_PORT IMAPS_PORT"
#   scripts/dovecot.sh stop DIR    stop it and remove DIR (quietly if it never started)
# The user's password is in DIR/password. Nothing of the system's dovecot is used or touched.
set -euo pipefail
usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
command=$1
dir=$2
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

case "$command" in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -z "$(ls -A "$dir")" ] || { echo "$dir is not empty" >&2; exit 1; }
  mkdir -p "$dir/run" "$dir/state" "$dir/home"
  chmod 755 "$dir"
  password=$(openssl rand -hex 12)
  printf '%s\n' "$password" >"$dir/password"
  printf 'bridge:{PLAIN}%s\n' "$password" >"$dir/users"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
  uid=$(id -u)
  gid=$(id -g)
  if [ "$uid" = 0 ]; then
    # Dovecot never runs a mail process as root: as root (CI), the mailbox belongs to `nobody`.
    uid=$(id -u nobody)
    gid=$(id -g nobody)
    chown "$uid:$gid" "$dir/home"
  fi
  started=
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    tls_port=$(free_port)
    cat >"$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/state
instance_name = bridge-test-$port
log_path = $dir/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
mail_location = maildir:~/Maildir
# IDLE learns of a delivery from inotify; where a busy machine has no inotify instance left, from
# this check instead (the default, 30 s, would let a test wait on it).
mailbox_idle_check_interval = 1 secs
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/users
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$dir/home/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $tls_port
    ssl = yes
  }
}
service anvil {
  chroot =
}
CONF
    # With no signal blocked (a test runner may start this script with SIGTERM blocked, which
    # dovecot would inherit and then not stop) and no descriptor of the caller's but 0-2.
    python3 -c 'import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.closerange(3, 1024); os.execvp("dovecot", ["dovecot", "-F", "-c", sys.argv[1]])' \
      "$dir/dovecot.conf" </dev/null >>"$dir/stdout.log" 2>&1 &
    echo $! >"$dir/pid"
    for _ in $(seq 1 100); do
      if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2).close()" 2>/dev/null; then started=1; break; fi
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
      sleep 0.1
    done
    [ -n "$started" ] && break
    kill "$(cat "$dir/pid")" 2>/dev/null || true
  done
  [ -n "$started" ] || { cat "$dir/stdout.log" "$dir/dovecot.log" 2>/dev/null | tail -20 >&2; exit 1; }
  echo "$port $tls_port"
  ;;
stop)
  if [ -f "$dir/pid" ]; then
    pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
  ;;
*) usage ;;
esac

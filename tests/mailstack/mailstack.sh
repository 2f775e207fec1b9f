#!/usr/bin/env bash
# A real mail stack on loopback for yjsend's integration tests: Dovecot (IMAP with IDLE, IMAPS,
# LMTP, and its submission service with STARTTLS + AUTH) and OpenSMTPD (SMTP, delivering to
# Dovecot over LMTP), everything kept in one folder, on 127.0.0.1 high ports.
#
#   tests/mailstack/mailstack.sh install          # Debian packages (root)
#   tests/mailstack/mailstack.sh start DIR        # configure and start; waits until both greet
#   tests/mailstack/mailstack.sh stop DIR
#   tests/mailstack/mailstack.sh status DIR
#
# Ports (override with the environment): MAILSTACK_SMTP_PORT (10025), MAILSTACK_SUBMISSION_PORT
# (10587), MAILSTACK_IMAP_PORT (10143), MAILSTACK_IMAPS_PORT (10993). Every user's password is
# "secret". DIR/mailstack.env records the ports and the CA file for tests.
#
# OAuth2: with MAILSTACK_OAUTH2_PORT set at start, token_server.py (beside this script) runs on
# that port and Dovecot also accepts SASL XOAUTH2 and OAUTHBEARER (IMAP and submission), checking
# each token by introspection at the token server. The token server's other settings come from
# MAILSTACK_OAUTH2_* in the environment (see token_server.py); its stats are in
# DIR/run/token_server.json. Without MAILSTACK_OAUTH2_PORT nothing of this exists.
# MAILSTACK_AUTH_NO_DELAY=1 (either mode): failed logins are answered at once and do not slow
# the next ones (Dovecot's failure delay and per-IP penalty off).
#
# Why it is built this way (see README.md beside this script): OpenSMTPD 6.8 in Debian 12 cannot
# do TLS with OpenSSL 3, so Dovecot's submission service does STARTTLS + AUTH and relays to it;
# OpenSMTPD's queue path is compiled in, so it runs in a private mount namespace with DIR bound
# over /var/spool; Dovecot refuses to run mail processes as root, so mail belongs to uid 8.
set -euo pipefail

PACKAGES=(dovecot-core dovecot-imapd dovecot-lmtpd dovecot-submissiond opensmtpd openssl)
DOMAINS=(example.org oxfordshire.example swindon.example warwickshire.example sthelens.example newshire.example lowshire.example)
PROJECT_USERS=(youthjusticesend projectteam panel)
LEADS=(send.lead yjs.manager)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "mailstack: $*" >&2; exit 1; }

# Whether a process is still running: a zombie waiting for PID 1 to reap it counts as gone
# (PID 1 in these sandboxes reaps late, and kill -0 still succeeds on a zombie).
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

install_packages() {
  [ "$(id -u)" = 0 ] || die "install needs root"
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && { echo "mailstack: packages already installed"; return 0; }
  # Keep the packages' init scripts from starting system daemons on ports 25/143/993.
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends
    -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  apt-get update -qq || true
  if ! "${apt[@]}" "${missing[@]}"; then
    apt-get update -qq
    "${apt[@]}" "${missing[@]}"
  fi
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  # The packages may have started daemons anyway (no policy-rc.d honoured): stop them.
  service dovecot stop >/dev/null 2>&1 || true
  service opensmtpd stop >/dev/null 2>&1 || true
  echo "mailstack: installed ${missing[*]}"
}

ports() {
  SMTP_PORT=${MAILSTACK_SMTP_PORT:-10025}
  SUBMISSION_PORT=${MAILSTACK_SUBMISSION_PORT:-10587}
  IMAP_PORT=${MAILSTACK_IMAP_PORT:-10143}
  IMAPS_PORT=${MAILSTACK_IMAPS_PORT:-10993}
  OAUTH2_PORT=${MAILSTACK_OAUTH2_PORT:-}
  OAUTH2_USER=${MAILSTACK_OAUTH2_USER:-youthjusticesend@example.org}
  OAUTH2_CLIENT_ID=${MAILSTACK_OAUTH2_CLIENT_ID:-yjsend}
  OAUTH2_CLIENT_SECRET=${MAILSTACK_OAUTH2_CLIENT_SECRET:-client-secret}
  OAUTH2_REFRESH_TOKEN=${MAILSTACK_OAUTH2_REFRESH_TOKEN:-refresh-1}
  OAUTH2_LIFETIME=${MAILSTACK_OAUTH2_LIFETIME:-3600}
}

preconditions() {
  local dir=$1
  [ "$(id -u)" = 0 ] || die "needs root (Dovecot and OpenSMTPD drop privileges themselves)"
  command -v dovecot >/dev/null && command -v smtpd >/dev/null \
    || die "dovecot or smtpd missing: run '$0 install' first"
  case "$dir" in *[[:space:]]*) die "DIR may not contain whitespace: $dir";; esac
  [ ${#dir} -lt 70 ] || die "DIR is too long for unix socket paths (< 70 characters): $dir"
  unshare --mount --uts --propagation private true 2>/dev/null \
    || die "unshare --mount --uts does not work here (needs CAP_SYS_ADMIN)"
  # Mail processes run as uid 8: every parent of DIR must be searchable by it.
  local p
  p=$(dirname "$dir")
  while [ "$p" != "/" ]; do
    [ -x "$p" ] && setpriv --reuid=8 --regid=8 --clear-groups test -x "$p" 2>/dev/null \
      || die "uid 8 cannot enter $p: put DIR under /tmp or /dev/shm"
    p=$(dirname "$p")
  done
  [ -z "$OAUTH2_PORT" ] || command -v python3 >/dev/null || die "MAILSTACK_OAUTH2_PORT needs python3"
}

write_configs() {
  local dir=$1
  mkdir -p "$dir"/{etc,ssl,mail,run/dovecot,state/dovecot,log,smtpd/spool,smtpd/run}
  chmod 755 "$dir" "$dir/run" "$dir/run/dovecot"
  chmod 711 "$dir/smtpd/spool"
  chown 8:8 "$dir/mail"

  if [ ! -s "$dir/ssl/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=yjsend test CA" \
      -keyout "$dir/ssl/ca-key.pem" -out "$dir/ssl/ca.pem" >"$dir/log/openssl.log" 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=mx.example.org" \
      -keyout "$dir/ssl/key.pem" -out "$dir/ssl/cert.csr" >>"$dir/log/openssl.log" 2>&1
    printf 'subjectAltName=DNS:mx.example.org,DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$dir/ssl/cert.ext"
    openssl x509 -req -in "$dir/ssl/cert.csr" -CA "$dir/ssl/ca.pem" -CAkey "$dir/ssl/ca-key.pem" \
      -CAcreateserial -days 3650 -extfile "$dir/ssl/cert.ext" -out "$dir/ssl/cert.pem" >>"$dir/log/openssl.log" 2>&1
    chmod 644 "$dir/ssl/cert.pem" "$dir/ssl/ca.pem"
    chmod 600 "$dir/ssl/key.pem" "$dir/ssl/ca-key.pem"
  fi

  : > "$dir/etc/users.passwd"
  : > "$dir/etc/virtuals"
  : > "$dir/users.txt"
  add_user() { # address home
    echo "$1:{PLAIN}secret:8:8::$2::" >> "$dir/etc/users.passwd"
    echo "$1 vmail" >> "$dir/etc/virtuals"
    echo "$1" >> "$dir/users.txt"
  }
  for u in "${PROJECT_USERS[@]}"; do
    add_user "$u@example.org" "$dir/mail/example.org/$u"
    # The bare name logs in to the same mailbox.
    echo "$u:{PLAIN}secret:8:8::$dir/mail/example.org/$u::" >> "$dir/etc/users.passwd"
  done
  for d in "${DOMAINS[@]}"; do
    if [ "$d" != example.org ]; then
      for l in "${LEADS[@]}"; do add_user "$l@$d" "$dir/mail/$d/$l"; done
    fi
    add_user "catchall@$d" "$dir/mail/$d/catchall"
    echo "@$d catchall@$d" >> "$dir/etc/virtuals"
  done
  printf '%s\n' "${DOMAINS[@]}" > "$dir/etc/domains"
  echo "vmail 8:8:$dir/mail" > "$dir/etc/userinfo"
  chmod 644 "$dir/etc/"*

  # OAuth2 mode: the extra mechanisms, the password passdb kept to the password mechanisms (so a
  # bearer token is never compared with a password: a token "secret" would pass), and a passdb
  # asking the token server.
  local mechanisms="plain login" passwd_mechanisms="" oauth2_passdb="" no_delay=""
  if [ -n "$OAUTH2_PORT" ]; then
    mechanisms="plain login xoauth2 oauthbearer"
    # "none": passdb lookups without a mechanism (doveadm auth lookup) still find the users.
    passwd_mechanisms=$'\n  mechanisms = plain login none'
    oauth2_passdb=$(cat <<EOF

passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $dir/etc/dovecot-oauth2.conf.ext
}
EOF
)
    # Read by the auth process, which runs as user dovecot: world-readable like the rest of etc/.
    cat > "$dir/etc/dovecot-oauth2.conf.ext" <<EOF
# Generated by tests/mailstack/mailstack.sh: tokens are checked at token_server.py.
introspection_url = http://127.0.0.1:$OAUTH2_PORT/introspect
introspection_mode = post
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
EOF
    chmod 644 "$dir/etc/dovecot-oauth2.conf.ext"
  else
    rm -f "$dir/etc/dovecot-oauth2.conf.ext"
  fi

  # Opt-in: a failed login answers at once (not after 2 s) and does not slow the next logins from
  # 127.0.0.1 (Dovecot's per-IP penalty: 2, 4, 8, 15 s, successful logins included).
  if [ -n "${MAILSTACK_AUTH_NO_DELAY:-}" ]; then
    no_delay=$(cat <<EOF

auth_failure_delay = 0
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
)
    # A socket left by an earlier start would make the auth process log a connect error.
    rm -f "$dir/run/dovecot/anvil-auth-penalty"
  fi

  cat > "$dir/etc/dovecot.conf" <<EOF
# Generated by tests/mailstack/mailstack.sh; rewritten at every start.
instance_name = mailstack-$(echo -n "$dir" | md5sum | cut -c1-12)
base_dir = $dir/run/dovecot
state_dir = $dir/state/dovecot
log_path = $dir/log/dovecot.log
protocols = imap lmtp submission
listen = 127.0.0.1
hostname = mx.example.org
postmaster_address = postmaster@example.org
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 8
last_valid_uid = 8
first_valid_gid = 8
last_valid_gid = 8

ssl = yes
ssl_cert = <$dir/ssl/cert.pem
ssl_key = <$dir/ssl/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
ssl_min_protocol = TLSv1.2

auth_mechanisms = $mechanisms
disable_plaintext_auth = no
auth_cache_size = 0
passdb {
  driver = passwd-file$passwd_mechanisms
  args = scheme=PLAIN $dir/etc/users.passwd
}$oauth2_passdb
userdb {
  driver = passwd-file
  args = $dir/etc/users.passwd
}

mail_location = maildir:~/Maildir
mailbox_list_index = yes
mail_fsync = ${MAILSTACK_FSYNC:-never}
mail_max_userip_connections = 1000
mailbox_idle_check_interval = 1 secs
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Trash {
    special_use = \\Trash
  }
}

submission_relay_host = 127.0.0.1
submission_relay_port = $SMTP_PORT
submission_relay_ssl = no
submission_relay_trusted = yes
submission_max_mail_size = 64M
protocol submission {
  disable_plaintext_auth = yes
}

service imap-login {
  process_min_avail = 2
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service submission-login {
  inet_listener submission {
    address = 127.0.0.1
    port = $SUBMISSION_PORT
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}$no_delay
EOF

  cat > "$dir/etc/smtpd.conf" <<EOF
# Generated by tests/mailstack/mailstack.sh; rewritten at every start.
table domains file:$dir/etc/domains
table virtuals file:$dir/etc/virtuals
table userinfo file:$dir/etc/userinfo

smtp max-message-size 64M
smtp limit max-mails 1000000
queue ttl 1h

listen on 127.0.0.1 port $SMTP_PORT hostname mx.example.org

action "to_dovecot" lmtp "$dir/run/dovecot/lmtp" rcpt-to virtual <virtuals> userbase <userinfo>
match from any for domain <domains> action "to_dovecot"
EOF

  cat > "$dir/mailstack.env" <<EOF
MAILSTACK_DIR=$dir
MAILSTACK_SMTP_PORT=$SMTP_PORT
MAILSTACK_SUBMISSION_PORT=$SUBMISSION_PORT
MAILSTACK_IMAP_PORT=$IMAP_PORT
MAILSTACK_IMAPS_PORT=$IMAPS_PORT
MAILSTACK_PASSWORD=secret
MAILSTACK_CA=$dir/ssl/ca.pem
EOF
  if [ -n "$OAUTH2_PORT" ]; then
    cat >> "$dir/mailstack.env" <<EOF
MAILSTACK_OAUTH2_PORT=$OAUTH2_PORT
MAILSTACK_OAUTH2_TOKEN_URL=http://127.0.0.1:$OAUTH2_PORT/token
MAILSTACK_OAUTH2_STATE=$dir/run/token_server.json
MAILSTACK_OAUTH2_USER=$OAUTH2_USER
MAILSTACK_OAUTH2_CLIENT_ID=$OAUTH2_CLIENT_ID
MAILSTACK_OAUTH2_CLIENT_SECRET=$OAUTH2_CLIENT_SECRET
MAILSTACK_OAUTH2_REFRESH_TOKEN=$OAUTH2_REFRESH_TOKEN
MAILSTACK_OAUTH2_LIFETIME=$OAUTH2_LIFETIME
EOF
  fi
}

# Waits until a TCP port answers with a greeting that starts with $2.
wait_greeting() { # port prefix what
  local i
  for i in $(seq 1 200); do
    if exec 3<>"/dev/tcp/127.0.0.1/$1" 2>/dev/null; then
      local line=""
      read -r -t 2 line <&3 || true
      exec 3<&- 3>&-
      case "$line" in "$2"*) return 0;; esac
    fi
    sleep 0.1
  done
  return 1
}

start_smtpd() { # dir
  local dir=$1
  # OpenSMTPD: private mount and UTS namespaces, so its compiled-in /var/spool/smtpd and
  # /run/smtpd.sock live in DIR and its host name resolves to something with a dot.
  setsid unshare --mount --uts --propagation private sh -c "
    hostname mx.example.org
    mount --bind '$dir/smtpd/spool' /var/spool
    mount --bind '$dir/smtpd/run' /run
    echo \$\$ \$(cut -d' ' -f22 /proc/\$\$/stat) > '$dir/run/smtpd.pid'
    exec smtpd -d -f '$dir/etc/smtpd.conf'
  " >>"$dir/log/smtpd.log" 2>&1 < /dev/null &
}

# The OAuth2 token server (token_server.py), in the background like smtpd: DIR/run/token_server.pid
# holds "PID STARTTIME", its state (stats) is DIR/run/token_server.json.
start_token_server() { # dir
  local dir=$1
  # A server already answering there (another stack's) would pass the readiness check below.
  if (exec 3<>"/dev/tcp/127.0.0.1/$OAUTH2_PORT") 2>/dev/null; then
    echo "mailstack: port $OAUTH2_PORT is already in use" >&2
    return 1
  fi
  rm -f "$dir/run/token_server.json"
  setsid sh -c "
    echo \$\$ \$(cut -d' ' -f22 /proc/\$\$/stat) > '$dir/run/token_server.pid'
    exec python3 '$HERE/token_server.py' --port '$OAUTH2_PORT' --state '$dir/run/token_server.json' \\
      --user '$OAUTH2_USER' --client-id '$OAUTH2_CLIENT_ID' --client-secret '$OAUTH2_CLIENT_SECRET' \\
      --refresh-token '$OAUTH2_REFRESH_TOKEN' --lifetime '$OAUTH2_LIFETIME'
  " >>"$dir/log/token_server.log" 2>&1 < /dev/null &
  # Up when it answers an HTTP request.
  local i line
  for i in $(seq 1 100); do
    if { exec 3<>"/dev/tcp/127.0.0.1/$OAUTH2_PORT"; } 2>/dev/null; then
      printf 'GET /admin/stats HTTP/1.0\r\n\r\n' >&3
      line=""
      read -r -t 2 line <&3 || true
      exec 3<&- 3>&-
      case "$line" in "HTTP/1."*" 200"*) return 0;; esac
    fi
    sleep 0.1
  done
  tail -5 "$dir/log/token_server.log" >&2 || true
  return 1
}

start() {
  local dir
  dir=$(realpath -m "$1")
  ports
  preconditions "$dir"
  stop "$dir" >/dev/null 2>&1 || true
  write_configs "$dir"
  if [ -n "$OAUTH2_PORT" ]; then
    start_token_server "$dir" || { stop "$dir" >/dev/null 2>&1 || true; die "the token server did not answer on $OAUTH2_PORT"; }
  fi
  # Dovecot daemonizes; its master must not keep the caller's stdout open (a test runner
  # reading our output would wait for ever).
  dovecot -c "$dir/etc/dovecot.conf" </dev/null >>"$dir/log/dovecot.start.log" 2>&1 || die "dovecot did not start: $(tail -5 "$dir/log/dovecot.log" 2>/dev/null)"
  start_smtpd "$dir"
  if ! wait_greeting "$IMAP_PORT" "* OK" || ! wait_greeting "$SMTP_PORT" "220"; then
    echo "--- dovecot.log" >&2; tail -15 "$dir/log/dovecot.log" >&2 || true
    echo "--- smtpd.log" >&2; tail -15 "$dir/log/smtpd.log" >&2 || true
    stop "$dir" || true
    die "the servers did not greet within 20 s"
  fi
  wait_greeting "$SUBMISSION_PORT" "220" || die "the submission service did not greet"
  echo "mailstack: up in $dir (smtp $SMTP_PORT, submission $SUBMISSION_PORT, imap $IMAP_PORT, imaps $IMAPS_PORT${OAUTH2_PORT:+, oauth2 $OAUTH2_PORT})"
}

stop_smtpd() { # dir
  stop_pidfile "$1/run/smtpd.pid"
}

# Stops the process a "PID STARTTIME" file names, then removes the file.
stop_pidfile() { # file
  if [ -s "$1" ]; then
    local pid start now
    read -r pid start < "$1" || true
    now=$(cut -d' ' -f22 "/proc/$pid/stat" 2>/dev/null || true)
    # Only the process we started: a recycled pid has another start time.
    if [ -n "$pid" ] && [ "$now" = "$start" ]; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
  fi
}

stop() {
  local dir
  dir=$(realpath -m "$1")
  stop_smtpd "$dir"
  stop_pidfile "$dir/run/token_server.pid"
  if [ -s "$dir/run/dovecot/master.pid" ]; then
    local dpid
    dpid=$(cat "$dir/run/dovecot/master.pid")
    kill "$dpid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$dpid" || break; sleep 0.1; done
    kill -9 "$dpid" 2>/dev/null || true
  fi
  echo "mailstack: stopped $dir"
}

status() {
  local dir
  dir=$(realpath -m "$1")
  local ok=0
  if [ -s "$dir/run/dovecot/master.pid" ] && kill -0 "$(cat "$dir/run/dovecot/master.pid")" 2>/dev/null; then
    echo "dovecot: running"
  else
    echo "dovecot: stopped"; ok=1
  fi
  if [ -s "$dir/run/smtpd.pid" ] && kill -0 "$(cut -d' ' -f1 "$dir/run/smtpd.pid")" 2>/dev/null; then
    echo "smtpd: running"
  else
    echo "smtpd: stopped"; ok=1
  fi
  if [ -e "$dir/etc/dovecot-oauth2.conf.ext" ]; then
    if [ -s "$dir/run/token_server.pid" ] && alive "$(cut -d' ' -f1 "$dir/run/token_server.pid")"; then
      echo "token_server: running"
    else
      echo "token_server: stopped"; ok=1
    fi
  fi
  return $ok
}

case "${1:-}" in
  install) install_packages ;;
  start) [ $# -eq 2 ] || die "usage: $0 start DIR"; start "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
  # The SMTP server alone, for tests of the outbox catching up after an outage.
  stop-smtp) [ $# -eq 2 ] || die "usage: $0 stop-smtp DIR"; stop_smtpd "$(realpath -m "$2")"; echo "mailstack: smtpd stopped" ;;
  start-smtp) [ $# -eq 2 ] || die "usage: $0 start-smtp DIR"
    d=$(realpath -m "$2"); ports; start_smtpd "$d"
    wait_greeting "$SMTP_PORT" "220" || die "smtpd did not greet"; echo "mailstack: smtpd started" ;;
  status) [ $# -eq 2 ] || die "usage: $0 status DIR"; status "$2" ;;
  *) die "usage: $0 install | start DIR | stop DIR | stop-smtp DIR | start-smtp DIR | status DIR" ;;
esac

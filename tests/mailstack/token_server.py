#!/usr/bin/env python3
"""A small OAuth2 token endpoint for the test mail stack (Python standard library only).

Issues access tokens for one user, expires and rotates them, and answers Dovecot's token
introspection, so yjsend can be tested signing in with SASL XOAUTH2 / OAUTHBEARER.

    python3 token_server.py [--port 10080] [--state FILE] [--user U] [--client-id ID]
                            [--client-secret S] [--refresh-token R] [--lifetime SECONDS]

Each option defaults to its environment variable MAILSTACK_OAUTH2_<NAME> (PORT, STATE, USER,
CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, LIFETIME), then to 10080, no state file,
youthjusticesend@example.org, yjsend, client-secret, refresh-1, 3600.

Requests are form-encoded, answers JSON (RFC 6749, RFC 7662):

  POST /token       grant_type=client_credentials (client_id, client_secret, scope), or
                    grant_type=refresh_token (refresh_token): a new access token and, for the
                    refresh grant, a new refresh token (the old one stops working). The client
                    authenticates by form fields or HTTP Basic, for both grants.
                    Errors: 401 invalid_client, 400 invalid_grant / invalid_request /
                    unsupported_grant_type.
  POST /introspect  token=T -> {"active": true, "username": USER, ...} or {"active": false}
  POST /admin/expire         every access token issued so far expires now
  POST /admin/revoke-secret  the client secret stops working
  POST /admin/lifetime?seconds=N   lifetime of the access tokens issued from now on
  GET  /admin/stats          counts and the current refresh token (also written to --state)
"""
import argparse
import base64
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.user = args.user
        self.client_id = args.client_id
        self.client_secret = args.client_secret
        self.secret_revoked = False
        self.lifetime = args.lifetime
        self.refresh_token = args.refresh_token
        self.tokens = {}  # access token -> expiry (time.time())
        self.issued = {"client_credentials": 0, "refresh_token": 0}
        self.errors = {}  # OAuth2 error code -> count
        self.introspections = {"active": 0, "inactive": 0}
        self.last_access_token = None
        self.state_file = args.state

    def stats(self):
        now = time.time()
        return {
            "user": self.user,
            "client_id": self.client_id,
            "secret_revoked": self.secret_revoked,
            "lifetime": self.lifetime,
            "issued": dict(self.issued),
            "issued_total": sum(self.issued.values()),
            "live_tokens": sum(1 for exp in self.tokens.values() if exp > now),
            "last_access_token": self.last_access_token,
            "refresh_token": self.refresh_token,
            "introspections": dict(self.introspections),
            "errors": dict(self.errors),
        }

    def save(self):
        """Writes the stats to the state file (atomically), for tests to read. Holds the lock."""
        if not self.state_file:
            return
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.stats(), f, indent=1)
        os.replace(tmp, self.state_file)


class Handler(BaseHTTPRequestHandler):
    server_version = "mailstack-token-server/1"
    state: State  # set on the class in main()

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Pragma", "no-cache")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, code, description):
        st = self.state
        st.errors[code] = st.errors.get(code, 0) + 1
        st.save()
        headers = [("WWW-Authenticate", 'Basic realm="token"')] if status == 401 else []
        self.reply(status, {"error": code, "error_description": description}, headers)

    def form(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        query = urllib.parse.urlsplit(self.path).query
        fields = dict(urllib.parse.parse_qsl(query))
        fields.update(urllib.parse.parse_qsl(body))
        return fields

    def do_GET(self):
        if urllib.parse.urlsplit(self.path).path == "/admin/stats":
            with self.state.lock:
                self.reply(200, self.state.stats())
        else:
            self.reply(404, {"error": "not_found"})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        fields = self.form()
        handler = {
            "/token": self.token,
            "/introspect": self.introspect,
            "/admin/expire": self.admin_expire,
            "/admin/revoke-secret": self.admin_revoke_secret,
            "/admin/lifetime": self.admin_lifetime,
        }.get(path)
        if handler is None:
            self.reply(404, {"error": "not_found"})
            return
        with self.state.lock:
            handler(fields)

    def client_credentials(self, fields):
        """(client_id, client_secret) from HTTP Basic (RFC 6749 2.3.1) or the form."""
        auth = self.headers.get("Authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(auth[6:].strip()).decode()
                cid, _, secret = decoded.partition(":")
                return urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(secret)
            except ValueError:
                return None, None
        return fields.get("client_id"), fields.get("client_secret")

    def token(self, fields):
        st = self.state
        cid, secret = self.client_credentials(fields)
        if cid != st.client_id or secret is None:
            return self.error(401, "invalid_client", "unknown client or no client secret")
        if st.secret_revoked:
            return self.error(401, "invalid_client", "the client secret has been revoked")
        if not secrets.compare_digest(secret, st.client_secret):
            return self.error(401, "invalid_client", "wrong client secret")
        grant = fields.get("grant_type")
        body = {"token_type": "Bearer", "expires_in": st.lifetime}
        if grant == "client_credentials":
            pass
        elif grant == "refresh_token":
            given = fields.get("refresh_token")
            if not given:
                return self.error(400, "invalid_request", "refresh_token missing")
            if given != st.refresh_token:
                return self.error(400, "invalid_grant", "unknown or already used refresh token")
            st.refresh_token = "refresh-" + secrets.token_urlsafe(16)
            body["refresh_token"] = st.refresh_token
        else:
            return self.error(400, "unsupported_grant_type", "grant_type %r" % grant)
        access = secrets.token_urlsafe(24)
        st.tokens[access] = time.time() + st.lifetime
        st.issued[grant] += 1
        st.last_access_token = access
        body["access_token"] = access
        if fields.get("scope"):
            body["scope"] = fields["scope"]
        st.save()
        self.reply(200, body)

    def introspect(self, fields):
        st = self.state
        exp = st.tokens.get(fields.get("token", ""))
        if exp is not None and exp > time.time():
            st.introspections["active"] += 1
            body = {"active": True, "username": st.user, "client_id": st.client_id,
                    "token_type": "Bearer", "exp": int(exp)}
        else:
            st.introspections["inactive"] += 1
            body = {"active": False}
        st.save()
        self.reply(200, body)

    def admin_expire(self, fields):
        st = self.state
        now = time.time()
        for token in st.tokens:
            st.tokens[token] = min(st.tokens[token], now)
        st.save()
        self.reply(200, {"expired": len(st.tokens)})

    def admin_revoke_secret(self, fields):
        self.state.secret_revoked = True
        self.state.save()
        self.reply(200, {"secret_revoked": True})

    def admin_lifetime(self, fields):
        try:
            seconds = int(fields["seconds"])
            if seconds < 0:
                raise ValueError
        except (KeyError, ValueError):
            self.reply(400, {"error": "invalid_request", "error_description": "seconds=N (N >= 0)"})
            return
        self.state.lifetime = seconds
        self.state.save()
        self.reply(200, {"lifetime": seconds})


def main():
    env = os.environ.get
    p = argparse.ArgumentParser(description="OAuth2 token endpoint for the test mail stack")
    p.add_argument("--port", type=int, default=int(env("MAILSTACK_OAUTH2_PORT", "10080")))
    p.add_argument("--state", default=env("MAILSTACK_OAUTH2_STATE"))
    p.add_argument("--user", default=env("MAILSTACK_OAUTH2_USER", "youthjusticesend@example.org"))
    p.add_argument("--client-id", default=env("MAILSTACK_OAUTH2_CLIENT_ID", "yjsend"))
    p.add_argument("--client-secret", default=env("MAILSTACK_OAUTH2_CLIENT_SECRET", "client-secret"))
    p.add_argument("--refresh-token", default=env("MAILSTACK_OAUTH2_REFRESH_TOKEN", "refresh-1"))
    p.add_argument("--lifetime", type=int, default=int(env("MAILSTACK_OAUTH2_LIFETIME", "3600")))
    args = p.parse_args()

    Handler.state = State(args)
    with Handler.state.lock:
        Handler.state.save()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print("token server on 127.0.0.1:%d for %s" % (args.port, args.user), file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

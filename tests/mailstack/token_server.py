#!/usr/bin/env python3
"""A small OAuth2 token endpoint for the test mail stack (Python standard library only).

Issues access tokens for one user, expires and rotates them, and answers Dovecot's token
introspection, so yjsend can be tested signing in with SASL XOAUTH2 / OAUTHBEARER.

    python3 token_server.py [--port 10080] [--state FILE] [--user U] [--client-id ID]
                            [--client-secret S] [--refresh-token R] [--lifetime SECONDS]

Each option defaults to its environment variable MAILSTACK_OAUTH2_<NAME> (PORT, STATE, USER,
CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, LIFETIME, CERTIFICATE, SERVICE_ACCOUNT), then to
10080, no state file, youthjusticesend@example.org, yjsend, client-secret, refresh-1, 3600,
tests/data/oauth2/test-certificate.pem, yjsend@yjsend-test.iam.gserviceaccount.com.

Requests are form-encoded, answers JSON (RFC 6749, RFC 7662):

  POST /token       grant_type=client_credentials (client_id, client_secret, scope), or
                    grant_type=refresh_token (refresh_token): a new access token and, for the
                    refresh grant, a new refresh token (the old one stops working). The client
                    authenticates by form fields or HTTP Basic, for both grants, or by a
                    certificate: client_assertion_type=...:jwt-bearer and a PS256/RS256
                    client_assertion (RFC 7523, Microsoft's "certificate credentials") whose
                    x5t#S256 or x5t is the --certificate's thumbprint.
                    grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer (assertion): a Google
                    service account (--service-account) acting for --user (RS256, its sub).
                    Signatures are checked with `openssl dgst` against the --certificate's key;
                    aud must be this endpoint's URL, exp in the future, a jti not seen before.
                    Errors: 401 invalid_client, 400 invalid_grant / invalid_request /
                    unsupported_grant_type.
  POST /introspect  token=T -> {"active": true, "username": USER, ...} or {"active": false}
  POST /admin/expire         every access token issued so far expires now
  POST /admin/revoke-secret  the client secret (and the certificate) stop working
  POST /admin/lifetime?seconds=N   lifetime of the access tokens issued from now on
  GET  /admin/stats          counts and the current refresh token (also written to --state)
"""
import argparse
import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
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
        self.issued = {"client_credentials": 0, "refresh_token": 0, "jwt_bearer": 0,
                       "client_assertion": 0}
        self.certificate = Certificate(args.certificate)
        self.service_account = args.service_account
        self.seen_jti = set()
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


JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Certificate:
    """The certificate whose key signs assertions: its thumbprints and public key."""

    def __init__(self, path):
        text = open(path).read()
        body = text.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
        der = base64.b64decode("".join(body.split()))
        self.x5t = b64url(hashlib.sha1(der).digest())
        self.x5t_s256 = b64url(hashlib.sha256(der).digest())
        self.public_key = tempfile.NamedTemporaryFile(suffix=".pem", delete=False).name
        subprocess.run(["openssl", "x509", "-in", path, "-pubkey", "-noout", "-out",
                        self.public_key], check=True)

    def verify(self, jwt):
        """(header, claims) of a JWT signed by this certificate's key, or raises ValueError."""
        try:
            head, body, sig = jwt.split(".")
            header = json.loads(b64url_decode(head))
            claims = json.loads(b64url_decode(body))
            signature = b64url_decode(sig)
        except (ValueError, AttributeError) as e:
            raise ValueError("not a JWT: %s" % e)
        options = {"RS256": [], "PS256": ["-sigopt", "rsa_padding_mode:pss",
                                          "-sigopt", "rsa_pss_saltlen:-1"]}.get(header.get("alg"))
        if options is None:
            raise ValueError("alg %r" % header.get("alg"))
        with tempfile.TemporaryDirectory() as d:
            data, sigfile = os.path.join(d, "data"), os.path.join(d, "sig")
            open(data, "wb").write(("%s.%s" % (head, body)).encode())
            open(sigfile, "wb").write(signature)
            done = subprocess.run(["openssl", "dgst", "-sha256", *options, "-verify",
                                   self.public_key, "-signature", sigfile, data],
                                  capture_output=True)
        if done.returncode != 0:
            raise ValueError("bad signature")
        return header, claims


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

    def endpoint(self):
        return "http://%s%s" % (self.headers.get("Host", ""), urllib.parse.urlsplit(self.path).path)

    def check_assertion(self, jwt, alg_ok):
        """The claims of a signed, fresh, unreplayed assertion meant for this endpoint."""
        st = self.state
        header, claims = st.certificate.verify(jwt or "")
        if header.get("alg") not in alg_ok:
            raise ValueError("alg %s where %s is expected" % (header.get("alg"), alg_ok))
        if claims.get("aud") != self.endpoint():
            raise ValueError("aud %r is not %r" % (claims.get("aud"), self.endpoint()))
        now = time.time()
        exp, iat = claims.get("exp", 0), claims.get("iat", 0)
        if not (now < exp <= now + 3600 and iat <= now + 60):
            raise ValueError("expired or not yet valid")
        jti = claims.get("jti") or "%s/%s" % (claims.get("iss"), iat)
        if jti in st.seen_jti and claims.get("jti"):
            raise ValueError("replayed jti")
        st.seen_jti.add(jti)
        return header, claims

    def token(self, fields):
        st = self.state
        grant = fields.get("grant_type")
        if grant == JWT_BEARER:
            try:
                _, claims = self.check_assertion(fields.get("assertion"), ["RS256"])
            except ValueError as e:
                return self.error(400, "invalid_grant", "assertion: %s" % e)
            if claims.get("iss") != st.service_account:
                return self.error(401, "unauthorized_client", "unknown service account")
            if claims.get("sub") != st.user:
                return self.error(401, "unauthorized_client", "no delegation for %r" % claims.get("sub"))
            if "https://mail.google.com/" not in (claims.get("scope") or "").split():
                return self.error(400, "invalid_scope", "scope %r" % claims.get("scope"))
            return self.issue("jwt_bearer", fields, {"token_type": "Bearer", "expires_in": st.lifetime})
        if fields.get("client_assertion_type") == CLIENT_ASSERTION:
            try:
                header, claims = self.check_assertion(fields.get("client_assertion"), ["PS256", "RS256"])
            except ValueError as e:
                return self.error(401, "invalid_client", "client_assertion: %s" % e)
            if header.get("x5t#S256", st.certificate.x5t_s256) != st.certificate.x5t_s256 or \
                    header.get("x5t", st.certificate.x5t) != st.certificate.x5t or \
                    not (header.get("x5t#S256") or header.get("x5t")):
                return self.error(401, "invalid_client", "unknown certificate thumbprint")
            cid = fields.get("client_id", claims.get("iss"))
            if not (cid == claims.get("iss") == claims.get("sub") == st.client_id):
                return self.error(401, "invalid_client", "iss/sub/client_id do not name this client")
            if st.secret_revoked:
                return self.error(401, "invalid_client", "the certificate has been revoked")
            if grant != "client_credentials":
                return self.error(400, "unsupported_grant_type", "grant_type %r" % grant)
            return self.issue("client_assertion", fields, {"token_type": "Bearer", "expires_in": st.lifetime})
        cid, secret = self.client_credentials(fields)
        if cid != st.client_id or secret is None:
            return self.error(401, "invalid_client", "unknown client or no client secret")
        if st.secret_revoked:
            return self.error(401, "invalid_client", "the client secret has been revoked")
        if not secrets.compare_digest(secret, st.client_secret):
            return self.error(401, "invalid_client", "wrong client secret")
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
        self.issue(grant, fields, body)

    def issue(self, grant, fields, body):
        st = self.state
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
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--certificate", default=env(
        "MAILSTACK_OAUTH2_CERTIFICATE", os.path.join(here, "..", "data", "oauth2", "test-certificate.pem")))
    p.add_argument("--service-account", default=env(
        "MAILSTACK_OAUTH2_SERVICE_ACCOUNT", "yjsend@yjsend-test.iam.gserviceaccount.com"))
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

#!/usr/bin/env python3
"""Checks a mail stack started with MAILSTACK_OAUTH2_PORT by hand (standard library only):

    MAILSTACK_OAUTH2_PORT=10080 tests/mailstack/mailstack.sh start /tmp/yjs-stack
    python3 tests/mailstack/oauth2_check.py /tmp/yjs-stack

Signs in to IMAP with XOAUTH2 and OAUTHBEARER and to submission (after STARTTLS) with both,
rotates the refresh token, expires the tokens and shows what Dovecot answers then, checks that
password LOGIN still works, and finally revokes the client secret. It changes the token server's
state (expired tokens, rotated refresh token, revoked secret): restart the stack afterwards.
"""
import base64
import imaplib
import json
import smtplib
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

ENV = {}
HOST = "127.0.0.1"


def post(path, **fields):
    """POSTs a form to the token server; returns (status, JSON body)."""
    url = "http://%s:%s%s" % (HOST, ENV["MAILSTACK_OAUTH2_PORT"], path)
    data = urllib.parse.urlencode(fields).encode()
    try:
        with urllib.request.urlopen(url, data=data, timeout=5) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def get_token(grant="client_credentials", **extra):
    return post("/token", grant_type=grant, client_id=ENV["MAILSTACK_OAUTH2_CLIENT_ID"],
                client_secret=ENV["MAILSTACK_OAUTH2_CLIENT_SECRET"], **extra)


def xoauth2(user, token):
    return "user=%s\x01auth=Bearer %s\x01\x01" % (user, token)


def oauthbearer(user, token, port):
    # RFC 7628: GS2 header "n,a=USER," then key=value pairs, each ended by ^A, and a final ^A.
    return "n,a=%s,\x01host=%s\x01port=%s\x01auth=Bearer %s\x01\x01" % (user, HOST, port, token)


def imap_auth(mech, payload, answer_to_challenge):
    """AUTHENTICATE over IMAP; returns ('OK'|'NO', text, the server's challenge on failure)."""
    challenges = []

    def respond(challenge):
        if challenge:  # a failure: Dovecot sends a JSON error as a continuation
            challenges.append(challenge.decode())
            return answer_to_challenge
        return payload.encode()

    m = imaplib.IMAP4(HOST, int(ENV["MAILSTACK_IMAP_PORT"]))
    try:
        typ, data = m.authenticate(mech, respond)
        m.select("INBOX")
        m.logout()
        return typ, data[0].decode(), None
    except imaplib.IMAP4.error as e:
        return "NO", str(e), challenges[0] if challenges else None


def smtp_auth(mech, payload, answer_to_challenge="", send_to=None):
    """AUTH on submission after STARTTLS; returns (code, text, challenge on failure)."""
    ctx = ssl.create_default_context(cafile=ENV["MAILSTACK_CA"])
    challenges = []

    def respond(challenge=None):
        if challenge is None:
            return payload
        challenges.append(challenge.decode())
        return answer_to_challenge

    with smtplib.SMTP(HOST, int(ENV["MAILSTACK_SUBMISSION_PORT"]), timeout=10) as s:
        s.starttls(context=ctx)
        s.ehlo("check.example.org")
        advertised = s.esmtp_features.get("auth", "")
        try:
            code, text = s.auth(mech, respond)
        except smtplib.SMTPAuthenticationError as e:
            return e.smtp_code, e.smtp_error.decode(), challenges[0] if challenges else None
        if send_to:
            s.sendmail(ENV["MAILSTACK_OAUTH2_USER"], [send_to],
                       "Subject: oauth2 check\r\n\r\nsent after AUTH %s\r\n" % mech)
        return code, "%s (AUTH advertised: %s)" % (text.decode(), advertised), None


def check(what, ok, detail):
    print("%-4s %s: %s" % ("ok" if ok else "FAIL", what, detail))
    if not ok:
        check.failed = True


check.failed = False


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1] + "/mailstack.env") as f:
        ENV.update(line.strip().split("=", 1) for line in f if "=" in line)
    if "MAILSTACK_OAUTH2_PORT" not in ENV:
        sys.exit("this stack was not started with MAILSTACK_OAUTH2_PORT")
    user = ENV["MAILSTACK_OAUTH2_USER"]
    sub_port = ENV["MAILSTACK_SUBMISSION_PORT"]
    imap_port = ENV["MAILSTACK_IMAP_PORT"]

    status, body = get_token(scope="mail")
    check("client_credentials grant", status == 200 and "access_token" in body, body)
    token = body["access_token"]

    m = imaplib.IMAP4(HOST, int(imap_port))
    caps = m.capabilities
    m.logout()
    check("IMAP advertises", "AUTH=XOAUTH2" in caps and "AUTH=OAUTHBEARER" in caps, " ".join(caps))

    r = imap_auth("XOAUTH2", xoauth2(user, token), b"")
    check("IMAP XOAUTH2", r[0] == "OK", r)
    r = imap_auth("OAUTHBEARER", oauthbearer(user, token, imap_port), b"\x01")
    check("IMAP OAUTHBEARER", r[0] == "OK", r)
    r = smtp_auth("XOAUTH2", xoauth2(user, token), send_to="projectteam@example.org")
    check("submission XOAUTH2 + send", r[0] == 235, r)
    r = smtp_auth("OAUTHBEARER", oauthbearer(user, token, sub_port), "\x01")
    check("submission OAUTHBEARER", r[0] == 235, r)

    r = imap_auth("XOAUTH2", xoauth2("projectteam@example.org", token), b"")
    check("IMAP XOAUTH2, token of another user refused", r[0] == "NO", r)
    r = imap_auth("XOAUTH2", xoauth2(user, "secret"), b"")
    check("IMAP XOAUTH2, the password as token refused", r[0] == "NO", r)

    status, body = get_token("refresh_token", refresh_token=ENV["MAILSTACK_OAUTH2_REFRESH_TOKEN"])
    check("refresh_token grant rotates", status == 200 and "refresh_token" in body, body)
    status, again = get_token("refresh_token", refresh_token=ENV["MAILSTACK_OAUTH2_REFRESH_TOKEN"])
    check("old refresh token refused", status == 400 and again["error"] == "invalid_grant", again)
    r = imap_auth("XOAUTH2", xoauth2(user, body["access_token"]), b"")
    check("IMAP XOAUTH2 with the refreshed token", r[0] == "OK", r)

    print("     expire:", post("/admin/expire"))
    r = imap_auth("XOAUTH2", xoauth2(user, token), b"")
    check("IMAP XOAUTH2, expired token refused", r[0] == "NO", r)
    r = imap_auth("OAUTHBEARER", oauthbearer(user, token, imap_port), b"\x01")
    check("IMAP OAUTHBEARER, expired token refused", r[0] == "NO", r)
    r = smtp_auth("XOAUTH2", xoauth2(user, token))
    check("submission XOAUTH2, expired token refused", r[0] == 535, r)

    for who in ("youthjusticesend", "projectteam@example.org", "send.lead@oxfordshire.example"):
        m = imaplib.IMAP4(HOST, int(imap_port))
        typ, _ = m.login(who, "secret")
        m.logout()
        check("IMAP LOGIN %s with the password" % who, typ == "OK", typ)
    with smtplib.SMTP(HOST, int(sub_port), timeout=10) as s:
        s.starttls(context=ssl.create_default_context(cafile=ENV["MAILSTACK_CA"]))
        code, _ = s.login("panel@example.org", "secret")
        check("submission AUTH PLAIN panel@example.org with the password", code == 235, code)

    print("     revoke-secret:", post("/admin/revoke-secret"))
    status, body = get_token()
    check("revoked client secret refused", status == 401 and body["error"] == "invalid_client", body)

    url = "http://%s:%s/admin/stats" % (HOST, ENV["MAILSTACK_OAUTH2_PORT"])
    with urllib.request.urlopen(url, timeout=5) as r:
        print("     stats:", json.load(r))
    sys.exit(1 if check.failed else 0)


if __name__ == "__main__":
    main()

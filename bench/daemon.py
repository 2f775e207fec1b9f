#!/usr/bin/env python3
"""The daemon on a real mail stack: reply latency against the servers' own floor, backlog
throughput against a bare client, and memory. Needs root and the stack's packages
(tests/mailstack/mailstack.sh install). Compares ratios measured in the same run, since the
machines are shared.

    bench/daemon.py [--latency N] [--backlog N]

Latency: N submissions sent one at a time over SMTP; for each, the time from SMTP acceptance
to the reply's arrival in the partnership's INBOX (seen by IDLE). The floor, measured first
with the same servers: a bare client's IDLE notice of the delivery plus the time for a reply
submitted through the same submission service to reach the partnership's INBOX.

Backlog: N submissions waiting in the INBOX when the daemon starts; the time until every reply
has been accepted by the submission service. The bare client FETCHes the same N messages and
sends the daemon's own N reply messages, to the same recipients (the sender, and the other
lead in Cc), over one submission connection.
"""

import argparse
import email
import email.utils
import imaplib
import os
import re
import shutil
import signal
import smtplib
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "tests/mailstack/mailstack.sh"
# Another stack beside this one (two benches at once): YJS_BENCH_DIR and YJS_BENCH_PORTS=N
# (ports N025, N587, N143, N993).
DIR = Path(os.environ.get("YJS_BENCH_DIR", "/tmp/yjs-bench"))
_N = int(os.environ.get("YJS_BENCH_PORTS", "11"))
PORTS = dict(smtp=_N * 1000 + 25, submission=_N * 1000 + 587, imap=_N * 1000 + 143,
             imaps=_N * 1000 + 993)
PROJECT = "youthjusticesend@example.org"
LEAD = "send.lead@oxfordshire.example"
TEMPLATE = (ROOT / "fixtures/eml/001-xlsx-plain.eml").read_bytes()


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def stack(cmd):
    env = dict(os.environ, MAILSTACK_SMTP_PORT=str(PORTS["smtp"]), MAILSTACK_SUBMISSION_PORT=str(PORTS["submission"]),
               MAILSTACK_IMAP_PORT=str(PORTS["imap"]), MAILSTACK_IMAPS_PORT=str(PORTS["imaps"]))
    sh(str(STACK), cmd, str(DIR), env=env)


def variant(n: int) -> bytes:
    return (TEMPLATE.replace(b"<001-xlsx-plain@mail.oxfordshire.example>", f"<bench-{n}@mail.oxfordshire.example>".encode())
            .replace(b"Subject: Oxfordshire re-score grid", f"Subject: Oxfordshire re-score grid {n}".encode()))


def imap(user):
    c = imaplib.IMAP4("127.0.0.1", PORTS["imap"])
    c.login(user, "secret")
    return c


def clear(user, folder="INBOX"):
    c = imap(user)
    typ, data = c.select(folder)
    if typ == "OK" and int(data[0]) > 0:
        c.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
        c.expunge()
    c.logout()


def count(user, folder="INBOX"):
    c = imap(user)
    typ, data = c.select(folder, readonly=True)
    n = int(data[0]) if typ == "OK" else 0
    c.logout()
    return n


class Idler:
    """A bare IDLE client on a user's INBOX: records the time of every EXISTS."""

    def __init__(self, user):
        self.c = imap(user)
        self.c.select("INBOX")
        self.times = []
        self.stop = False
        self.sock = self.c.socket()
        tag = self.c._new_tag().decode()
        self.c.send(f"{tag} IDLE\r\n".encode())
        self.c.readline()  # + idling
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        self.sock.settimeout(0.5)
        buf = b""
        while not self.stop:
            try:
                chunk = self.sock.recv(4096)
            except (TimeoutError, OSError):
                continue
            if not chunk:
                break
            now = time.monotonic()
            buf += chunk
            while b"\r\n" in buf:
                line, buf = buf.split(b"\r\n", 1)
                if re.match(rb"\* \d+ EXISTS", line):
                    self.times.append(now)

    def wait(self, n, timeout=30):
        end = time.monotonic() + timeout
        while len(self.times) < n and time.monotonic() < end:
            time.sleep(0.002)
        if len(self.times) < n:
            raise SystemExit(f"timed out waiting for message {n}")
        return self.times[n - 1]

    def close(self):
        self.stop = True
        try:
            self.c.send(b"DONE\r\n")
        except OSError:
            pass


def submission():
    s = smtplib.SMTP("127.0.0.1", PORTS["submission"])
    ctx = ssl.create_default_context(cafile=str(DIR / "ssl/ca.pem"))
    ctx.check_hostname = False
    s.starttls(context=ctx)
    s.login(PROJECT, "secret")
    return s


def config(dirpath: Path, max_per_sender=10000) -> Path:
    shutil.copy(ROOT / "fixtures/config/partnerships.toml", dirpath / "partnerships.toml")
    (dirpath / "password").write_text("secret\n")
    cfg = dirpath / "yjsend.toml"
    cfg.write_text(f"""[round]
name = "Quality Mark and Quality Lead 2018"
reference_prefix = "YJS-2018"
deadline = "2018-02-23T23:59:59"
timezone = "Europe/London"
roster = "partnerships.toml"

[mailbox]
kind = "imap"
host = "localhost"
port = {PORTS['imap']}
tls = "starttls"
ca_file = "{DIR}/ssl/ca.pem"
username = "youthjusticesend"
password_file = "password"
trusted_authserv_id = "mx.example.org"

[smtp]
kind = "smtp"
host = "localhost"
port = {PORTS['submission']}
tls = "starttls"
ca_file = "{DIR}/ssl/ca.pem"
username = "youthjusticesend"
password_file = "password"
from = "Youth Justice SEND <youthjusticesend@example.org>"

[replies]
max_per_sender = {max_per_sender}

[storage]
path = "yjsend.db"

[panel]
listen = ""
""")
    return cfg


def rss_kb(pid):
    total = 0
    for p in [pid] + children(pid):
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def children(pid):
    try:
        return [int(x) for x in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


def recipients(raw: bytes) -> list:
    """A reply's envelope as the daemon sent it: its To and Cc addresses."""
    msg = email.message_from_bytes(raw)
    return [a for _, a in email.utils.getaddresses(msg.get_all("To", []) + msg.get_all("Cc", []))]


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def latency(n, binary, work):
    # The floor: delivery to IDLE notice, and a reply's submission to its arrival.
    clear(PROJECT)
    clear(LEAD)
    reply_bytes = None
    idle_project, idle_lead = Idler(PROJECT), Idler(LEAD)
    floors = []
    sub = submission()
    for i in range(n):
        m = variant(100000 + i)
        smtp = smtplib.SMTP("127.0.0.1", PORTS["smtp"])
        t0 = time.monotonic()
        smtp.sendmail(LEAD, [PROJECT], m)
        t1 = time.monotonic()
        smtp.quit()
        seen = idle_project.wait(i + 1)
        reply = (f"From: {PROJECT}\r\nTo: {LEAD}\r\nSubject: Re: x {i}\r\nMessage-ID: <floor-{i}@example.org>\r\n\r\nThanks\r\n").encode()
        t2 = time.monotonic()
        sub.sendmail(PROJECT, [LEAD], reply)
        arrived = idle_lead.wait(i + 1)
        floors.append((seen - t1) + (arrived - t2))
        del t0
    sub.quit()
    idle_project.close()
    idle_lead.close()
    clear(PROJECT)
    clear(LEAD)

    # The daemon.
    cfg = config(work)
    d = subprocess.Popen([binary, "--config", str(cfg), "run"], stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    idle_kb = rss_kb(d.pid)
    idle_lead = Idler(LEAD)
    lat = []
    for i in range(n):
        m = variant(i)
        smtp = smtplib.SMTP("127.0.0.1", PORTS["smtp"])
        smtp.sendmail(LEAD, [PROJECT], m)
        t1 = time.monotonic()
        smtp.quit()
        arrived = idle_lead.wait(i + 1)
        lat.append(arrived - t1)
    idle_lead.close()
    d.send_signal(signal.SIGTERM)
    d.wait(timeout=30)
    f50, l50, l99 = statistics.median(floors), statistics.median(lat), pct(lat, 0.99)
    print(f"latency over {n} one at a time: floor p50 {f50 * 1000:.0f} ms; daemon p50 {l50 * 1000:.0f} ms "
          f"(+{(l50 - f50) * 1000:.0f} ms), p99 {l99 * 1000:.0f} ms; idle RSS {idle_kb / 1024:.1f} MB (daemon + worker)")
    return reply_bytes


def backlog(n, binary, work):
    clear(PROJECT)
    clear(PROJECT, "Processed")
    clear(LEAD)
    c = imap(PROJECT)
    for i in range(n):
        c.append("INBOX", None, None, variant(200000 + i))
    c.logout()
    cfg = config(work)
    store = work / "yjsend.db"
    if store.exists():
        shutil.rmtree(store)
    t0 = time.monotonic()
    log = open(work / "daemon.log", "w")
    d = subprocess.Popen([binary, "--config", str(cfg), "run"], stderr=log, env=dict(os.environ, YJSEND_LOG="warn"))
    peak = 0
    while count(PROJECT, "Processed") < n or count(LEAD) < n:
        peak = max(peak, rss_kb(d.pid))
        if os.environ.get("BENCH_DEBUG"):
            print("progress", count(PROJECT), count(PROJECT, "Processed"), count(LEAD), flush=True)
        time.sleep(0.2)
        if d.poll() is not None or time.monotonic() - t0 > 600:
            raise SystemExit("the daemon stopped or took over 10 minutes:\n" + (work / "daemon.log").read_text()[-3000:])
    daemon_s = time.monotonic() - t0
    d.send_signal(signal.SIGTERM)
    d.wait(timeout=30)
    if os.environ.get("BENCH_DEBUG"):
        shutil.copy(work / "daemon.log", "/tmp/yjs-bench-daemon.log")
    # The daemon's own reply bytes, for the bare client to send again.
    c = imap(LEAD)
    c.select("INBOX", readonly=True)
    _, data = c.fetch("1:*", "(BODY.PEEK[])")
    # As the daemon sent them: without the trace headers the servers added on delivery
    # (OpenSMTPD refuses a message that already has Delivered-To for its recipient: a loop).
    replies = [x[1][x[1].find(b"From: "):] for x in data if isinstance(x, tuple)]
    c.logout()
    # Put the submissions back in the INBOX for the bare client.
    c = imap(PROJECT)
    c.select("Processed")
    c.copy("1:*", "INBOX")
    c.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
    c.expunge()
    c.logout()
    clear(LEAD)
    t0 = time.monotonic()
    c = imap(PROJECT)
    c.select("INBOX")
    _, data = c.fetch("1:*", "(UID INTERNALDATE BODY.PEEK[])")
    got = [x for x in data if isinstance(x, tuple)]
    c.logout()
    sub = submission()
    for r in replies:
        sub.sendmail(PROJECT, recipients(r), r)
    sub.quit()
    while count(LEAD) < len(replies):
        time.sleep(0.05)
    bare_s = time.monotonic() - t0
    print(f"backlog of {n}: daemon {n / daemon_s:.0f} messages/s ({daemon_s:.1f} s, peak RSS {peak / 1024:.0f} MB); "
          f"bare client {len(got) / bare_s:.0f} messages/s ({bare_s:.1f} s); ratio {bare_s / daemon_s:.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=int, default=200)
    ap.add_argument("--backlog", type=int, default=2000)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (the mail stack)")
    sh("cargo", "build", "--release", "--locked", "--quiet", cwd=ROOT)
    binary = str(ROOT / "target/release/yjsend")
    stack("start")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if a.latency:
                latency(a.latency, binary, Path(tmp))
        with tempfile.TemporaryDirectory() as tmp:
            if a.backlog:
                backlog(a.backlog, binary, Path(tmp))
    finally:
        stack("stop")


if __name__ == "__main__":
    main()

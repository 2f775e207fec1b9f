"""The faults of bench/faults.py other than SIGKILLs: the mail servers stopped for two minutes,
the submission server refusing (4xx), unreachable and refusing for good (5xx), and the disk
under the store filling up, each with a backlog in flight. Each returns a result row; the
counts are read from the lead's INBOX (every submission's replies) and the team's INBOX (the
alerts).

Used by `bench/faults.py --scenario NAME`; see there.
"""

import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import daemon as d

TEAM = "projectteam@example.org"


def configure(work: Path, smtp_port=None, store=None, extra="") -> Path:
    """bench/daemon.py's configuration, with the team alerted after a minute of mailbox
    failure, and optionally another submission port (the fault proxy) or store path."""
    cfg = d.config(work)
    text = cfg.read_text()
    if smtp_port:
        text = text.replace(f"port = {d.PORTS['submission']}", f"port = {smtp_port}")
    if store:
        text = text.replace('path = "yjsend.db"', f'path = "{store}"')
    text = text.replace(
        'from = "Youth Justice SEND <youthjusticesend@example.org>"',
        'from = "Youth Justice SEND <youthjusticesend@example.org>"\nretry_seconds = 2',
    )
    text += f'\n[alerts]\nto = ["{TEAM}"]\nintake_failing_minutes = 1\n{extra}'
    cfg.write_text(text)
    return cfg


def backlog(n: int, base: int):
    d.clear(d.PROJECT)
    d.clear(d.PROJECT, "Processed")
    d.clear(d.LEAD)
    d.clear(TEAM)
    c = d.imap(d.PROJECT)
    for i in range(n):
        c.append("INBOX", None, None, d.variant(base + i))
    c.logout()


def replies(base: int, n: int):
    """(missing, sent twice) over the backlog, from the lead's INBOX."""
    c = d.imap(d.LEAD)
    typ, data = c.select("INBOX", readonly=True)
    got = Counter()
    if typ == "OK" and int(data[0]) > 0:
        _, data = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (IN-REPLY-TO)])")
        for x in data:
            if isinstance(x, tuple):
                m = re.search(rb"<([^>]+)>", x[1])
                if m:
                    got[m.group(1).decode()] += 1
    c.logout()
    wanted = {f"bench-{base + i}@mail.oxfordshire.example" for i in range(n)}
    missing = len(wanted - set(got))
    twice = sum(k - 1 for m, k in got.items() if m in wanted and k > 1)
    return missing, twice


def alerts():
    """Subjects of the alerts in the team's INBOX."""
    c = d.imap(TEAM)
    typ, data = c.select("INBOX", readonly=True)
    out = []
    if typ == "OK" and int(data[0]) > 0:
        _, data = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        for x in data:
            if isinstance(x, tuple):
                out.append(x[1].decode(errors="replace").strip().removeprefix("Subject: "))
    c.logout()
    return out


def wait_done(base, n, timeout=900, proc=None):
    """Until every submission is answered and the INBOX is empty (False on a timeout, or at
    once if `proc`, the daemon, has died)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        missing, _ = replies(base, n)
        if missing == 0 and d.count(d.PROJECT) == 0:
            return True
        time.sleep(2)
    return False


def start(binary, cfg, log):
    return subprocess.Popen([binary, "--config", str(cfg), "run"], stderr=log,
                            env=dict(os.environ, YJSEND_LOG="info"))


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=90)


def servers_down(binary, work, n):
    """Both servers (IMAP and submission) stopped for two minutes under a backlog; 20 more
    submissions arrive once they are back, to show intake itself has recovered."""
    base = 400000
    backlog(n, base)
    cfg = configure(work)
    log = open(work / "daemon.log", "w")
    proc = start(binary, cfg, log)
    time.sleep(3)
    d.stack("stop")
    time.sleep(120)
    d.stack("start")
    c = d.imap(d.PROJECT)
    for i in range(n, n + 20):
        c.append("INBOX", None, None, d.variant(base + i))
    c.logout()
    done = wait_done(base, n + 20)
    # The "recovered" alert follows the first good read.
    end = time.monotonic() + 60
    while time.monotonic() < end and not any("recovered" in s for s in alerts()):
        time.sleep(2)
    stop(proc)
    missing, twice = replies(base, n + 20)
    said = alerts()
    return dict(scenario="IMAP and submission stopped for 2 min (+20 after)", done=done,
                missing=missing, twice=twice,
                told="; ".join(sorted(set(s.removeprefix("[yjsend] ") for s in said))),
                ok=done and missing == 0 and any("failing" in s for s in said)
                and any("recovered" in s for s in said))


class FaultProxy:
    """A TCP proxy in front of the submission service: `pass` forwards bytes (TLS and all),
    `4xx` greets with 421 and hangs up, `5xx` greets with 554 (no service here, for good),
    `down` closes the port. A change of mode drops every open connection, so the daemon's
    pooled connections meet the new mode too."""

    def __init__(self, target_port):
        self.target = target_port
        self.mode = "pass"
        self.conns = []
        self.lock = threading.Lock()
        self.listener = None
        self.port = self._free_port()
        self._listen()

    @staticmethod
    def _free_port():
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        return p

    def _listen(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def set(self, mode):
        with self.lock:
            self.mode = mode
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                    c.close()
                except OSError:
                    pass
            self.conns.clear()
            if mode == "down" and self.listener:
                self.listener.close()
                self.listener = None
            elif mode != "down" and not self.listener:
                self._listen()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self.lock:
                mode = self.mode
            if mode == "4xx":
                client.sendall(b"421 4.3.2 Service not available, try again later\r\n")
                client.close()
            elif mode == "5xx":
                client.sendall(b"554 5.3.2 No SMTP service here\r\n")
                client.close()
            else:
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.target))
                except OSError:
                    client.close()
                    continue
                with self.lock:
                    self.conns += [client, upstream]
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.close()
            except OSError:
                pass


def smtp_faults(binary, work, n):
    """Under a backlog: submission refusing (421) for 30 s, unreachable for 30 s, then refusing
    for good (554) for 20 s; the given-up replies are sent again with `yjsend outbox retry`."""
    base = 500000
    backlog(n, base)
    proxy = FaultProxy(d.PORTS["submission"])
    cfg = configure(work, smtp_port=proxy.port)
    log = open(work / "daemon.log", "w")
    proc = start(binary, cfg, log)
    timeline = [("pass", 5), ("4xx", 30), ("pass", 5), ("down", 30), ("pass", 5), ("5xx", 20),
                ("pass", 0)]
    for mode, seconds in timeline:
        proxy.set(mode)
        time.sleep(seconds)
    # Let the transient failures drain; the permanent ones wait for the team.
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and d.count(d.PROJECT) > 0:
        time.sleep(2)
    time.sleep(10)
    stop(proc)
    listed = subprocess.run([binary, "--config", str(cfg), "outbox"], capture_output=True,
                            text=True).stdout
    failed = listed.count("\nfailed ") + listed.startswith("failed ")
    retried = subprocess.run([binary, "--config", str(cfg), "outbox", "retry"],
                             capture_output=True, text=True).stdout.strip()
    proc = start(binary, cfg, log)
    done = wait_done(base, n, proc=proc)
    stop(proc)
    missing, twice = replies(base, n)
    said = alerts()
    return dict(scenario="submission: 421 for 30 s, down 30 s, 554 for 20 s, then outbox retry",
                done=done, missing=missing, twice=twice,
                told="; ".join(sorted(set(s.removeprefix("[yjsend] ") for s in said)))
                + f" ({failed} given up, then: {retried})",
                ok=done and missing == 0)


def disk_full(binary, work, n):
    """The tmpfs under the store filled while a backlog is read."""
    base = 600000
    backlog(n, base)
    disk = work / "disk"
    disk.mkdir()
    # Room for the whole backlog's store (about 90 MB of sled log for 1,000 submissions), so
    # only the filler fills it.
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", str(disk)], check=True)
    try:
        cfg = configure(work, store=str(disk / "yjsend.db"))
        log = open(work / "daemon.log", "w")
        proc = start(binary, cfg, log)
        time.sleep(4)
        with open(disk / "filler", "wb") as f:
            try:
                while True:
                    f.write(b"\0" * (1 << 20))
            except OSError:
                pass
        try:
            code = proc.wait(timeout=180)
        except subprocess.TimeoutExpired:
            code = None
            stop(proc)
        waiting = d.count(d.PROJECT)
        (disk / "filler").unlink()
        proc = start(binary, cfg, log)
        done = wait_done(base, n, proc=proc)
        stop(proc)
        missing, twice = replies(base, n)
        said = alerts()
        return dict(scenario="store's disk full under the backlog",
                    done=done, missing=missing, twice=twice,
                    told="; ".join(sorted(set(s.removeprefix("[yjsend] ") for s in said)))
                    + f" (exit status {code}, {waiting} left in the INBOX)",
                    ok=done and missing == 0 and code not in (None, 0))
    finally:
        subprocess.run(["umount", "-l", str(disk)])


SCENARIOS = {"servers-down": servers_down, "smtp": smtp_faults, "disk-full": disk_full}

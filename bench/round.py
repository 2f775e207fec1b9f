#!/usr/bin/env python3
"""A whole round on the real mail stack: N partnerships send their grids over the window while
the panel works the queue through the API, with the daemon running throughout. Needs root and
the stack's packages (tests/mailstack/mailstack.sh install).

    sudo python3 bench/round.py [--partnerships 150] [--minutes 10] [--seed 1] [--members 4]
                                [--no-build]

The scenario:

- A roster of N partnerships named like England's local areas (bench/round_data.py), each with
  its domain `<id>.example`, an LA SEND lead and a YOS lead. The stack (started by
  tests/mailstack/mailstack.sh in /tmp/yjs-round) only knows the fixtures' domains, so the
  script adds the roster's to its own copy of the generated configuration: each lead a user, a
  catch-all per domain, the domain in OpenSMTPD's table (Dovecot re-reads its users file;
  OpenSMTPD is restarted with the script's stop-smtp / start-smtp).
- Each partnership sends 1-4 versions of its grid (fixtures' Grid.xlsx, with 1-3 evidence
  documents), from one lead with the other in Cc, at random moments of the window, over SMTP to
  youthjusticesend@example.org. Mixed in, about 12% of all mail: out-of-office replies
  (Auto-Submitted), delivery reports (multipart/report from MAILER-DAEMON, empty envelope
  sender) and plain questions without a grid.
- The daemon (target/release/yjsend) reads the mailbox over IMAP, answers through the
  submission service, and serves the panel API on a free loopback port. Panel members (threads
  with bearer tokens) pull a case, open it and a file of it, sometimes try to decide a case
  another member holds (the API must refuse), and decide their own (final outcomes only: they
  are drafted and held for release, so no mail goes out).

Measured: reply latency from SMTP acceptance of each submission to the reply's delivery in the
sender's INBOX (Dovecot's Maildir file name carries the delivery time to the microsecond; an
IDLE client would see it about 0.5 s later), throughput (messages filed per minute, from the
first acceptance to the last filing), the daemon's peak RSS with its worker process, the
store's size on disk at the end, the panel's decisions and refused double claims, and the
counts: sent = filed (Processed + Quarantine) = replies + automatic messages left unanswered.
Exits 1 if a count differs, a submission or question is unanswered or answered twice, an
automatic message is answered, a case was held by two members, or the daemon died.

The stack's folder (/tmp/yjs-round) and the daemon's (/tmp/yjs-round-work: configuration,
roster, tokens, store, daemon.log) are kept after the run for inspection; the next run starts
them afresh.
"""

import argparse
import datetime
import email.parser
import hashlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import daemon as d  # noqa: E402  (bench/daemon.py: the stack, IMAP helpers, RSS)
import round_data as data  # noqa: E402

# A stack of its own, on its own ports (bench/daemon.py uses 11xxx, the tests 20000-32000).
d.DIR = DIR = Path("/tmp/yjs-round")
d.PORTS = dict(smtp=12025, submission=12587, imap=12143, imaps=12993)
WORK = Path("/tmp/yjs-round-work")
PROJECT = data.PROJECT
PROJECT_MAILDIR = DIR / "mail/example.org/youthjusticesend/Maildir"
AUTOMATIC = ("auto_reply", "bounce")
EXTRA_SHARE = 0.125  # auto-replies, bounces and questions, of all mail


# --- the stack -----------------------------------------------------------------------------

def fresh_stack():
    """Stops a stack left by an earlier run, removes its mail, starts a new one."""
    try:
        d.stack("stop")
    except subprocess.CalledProcessError:
        pass
    shutil.rmtree(DIR, ignore_errors=True)
    d.stack("start")


def extend_stack(parts):
    """Adds the roster's domains and leads to the running stack's generated tables."""
    etc = DIR / "etc"
    known_users = set((DIR / "users.txt").read_text().split())
    known_domains = set((etc / "domains").read_text().split())
    users, virtuals, domains = [], [], []

    def user(address):
        if address not in known_users:
            local, domain = address.split("@")
            users.append(f"{address}:{{PLAIN}}secret:8:8::{DIR}/mail/{domain}/{local}::")
            virtuals.append(f"{address} vmail")
            known_users.add(address)

    for p in parts:
        user(p["la"])
        user(p["yos"])
        if p["domain"] not in known_domains:
            domains.append(p["domain"])
            user(f"catchall@{p['domain']}")
            virtuals.append(f"@{p['domain']} catchall@{p['domain']}")
            known_domains.add(p["domain"])
    for name, lines in (("users.passwd", users), ("virtuals", virtuals), ("domains", domains)):
        with open(etc / name, "a") as f:
            f.writelines(line + "\n" for line in lines)
    d.stack("stop-smtp")
    d.stack("start-smtp")


# --- the daemon ----------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_tokens(members):
    """The panel tokens file (src/domain/panel/members.rs): only each token's SHA-256."""
    tokens = {f"Panel Member {chr(65 + i)}": secrets.token_hex(24) for i in range(members)}
    lines = []
    for name, token in tokens.items():
        lines += ["[[member]]", f'name = "{name}"', 'role = "panel"',
                  f'token_sha256 = "{hashlib.sha256(token.encode()).hexdigest()}"', ""]
    (WORK / "panel-tokens.toml").write_text("\n".join(lines))
    return tokens


def write_config(parts, panel_port, max_per_sender):
    """bench/daemon.py's configuration, with this roster, a round open for three more weeks,
    and the panel on."""
    (WORK / "partnerships.toml").write_text(data.roster_toml(parts))
    (WORK / "password").write_text("secret\n")
    deadline = datetime.date.today() + datetime.timedelta(days=21)
    year = deadline.year
    cfg = WORK / "yjsend.toml"
    cfg.write_text(f"""[round]
name = "Quality Mark and Quality Lead {year}"
reference_prefix = "YJS-{year}"
deadline = "{deadline}T23:59:59"
timezone = "Europe/London"
roster = "partnerships.toml"

[mailbox]
kind = "imap"
host = "localhost"
port = {d.PORTS['imap']}
tls = "starttls"
ca_file = "{DIR}/ssl/ca.pem"
username = "youthjusticesend"
password_file = "password"
trusted_authserv_id = "mx.example.org"

[smtp]
kind = "smtp"
host = "localhost"
port = {d.PORTS['submission']}
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
listen = "127.0.0.1:{panel_port}"
tokens_file = "panel-tokens.toml"
""")
    return cfg


def start_daemon(binary, cfg, panel_port):
    log = open(WORK / "daemon.log", "w")
    proc = subprocess.Popen([binary, "--config", str(cfg), "run"], stderr=log, stdout=log,
                            env=dict(os.environ, YJSEND_LOG="info"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the daemon did not start:\n" + (WORK / "daemon.log").read_text()[-3000:])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{panel_port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the panel API did not answer /healthz within 60 s")


def family(pid):
    """The process and its descendants, through every thread's children (the worker may be
    started from any thread of the runtime)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                todo += [int(x) for x in open(f"/proc/{p}/task/{task}/children").read().split()]
        except OSError:
            pass
    return out


def own_rss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pid):
    return sum(own_rss_kb(p) for p in family(pid))


class RssSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.main_peak, self.processes, self.stop = pid, 0, 0, 0, threading.Event()

    def run(self):
        while not self.stop.wait(0.5):
            self.peak = max(self.peak, rss_kb(self.pid))
            self.main_peak = max(self.main_peak, own_rss_kb(self.pid))
            self.processes = max(self.processes, len(family(self.pid)))


def metrics(panel_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{panel_port}/metrics", timeout=10) as r:
        text = r.read().decode()
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(yjsend_\w+) (\S+)$", text, re.M)}


# --- the mail ------------------------------------------------------------------------------

@dataclass
class Item:
    at: float  # seconds into the window
    kind: str  # submission | question | auto_reply | bounce
    p: dict
    n: int  # version, or the extra's number
    from_la: bool
    seed: int
    message_id: str = ""
    accepted: float = 0.0  # time.time() when the SMTP server accepted it

    @property
    def envelope(self):
        return {"submission": self.p["la"] if self.from_la else self.p["yos"], "question": self.p["la"],
                "auto_reply": self.p["yos"], "bounce": ""}[self.kind]

    @property
    def answer_to(self):
        """The mailbox a reply would land in (a bounce's MAILER-DAEMON: the domain's catch-all)."""
        return self.envelope or f"catchall@{self.p['domain']}"

    def build(self):
        rng = random.Random(self.seed)
        if self.kind == "submission":
            return data.submission(self.p, self.n, self.message_id, self.from_la, rng)
        return {"question": data.question, "auto_reply": data.out_of_office,
                "bounce": data.bounce}[self.kind](self.p, self.message_id)


def plan(parts, window, seed, rng):
    """Every message of the round, in the order it is sent."""
    items = []
    for p in parts:
        from_la = rng.random() < 0.5
        for v, at in enumerate(sorted(rng.uniform(0, window) for _ in range(rng.randint(1, 4))), 1):
            items.append(Item(at, "submission", p, v, from_la, rng.randrange(1 << 30)))
    extras = round(len(items) * EXTRA_SHARE / (1 - EXTRA_SHARE))
    for i in range(extras):
        kind = ("auto_reply", "bounce", "question")[i % 3]
        items.append(Item(rng.uniform(0, window), kind, rng.choice(parts), i, True, rng.randrange(1 << 30)))
    for i, it in enumerate(items):
        host = it.p["domain"] if it.kind == "bounce" else f"mail.{it.p['domain']}"
        it.message_id = f"round{seed}-{it.kind}-{it.p['id']}-{it.n}-{i}@{host}"
    return sorted(items, key=lambda it: it.at)


class Sender(threading.Thread):
    """Delivers each message at its moment over SMTP (one connection each, as the
    partnerships' servers would), recording when the server accepted it."""

    def __init__(self, items, t0):
        super().__init__(daemon=True)
        self.items, self.t0, self.sent, self.failed = items, t0, [], []

    def run(self):
        for it in self.items:
            time.sleep(max(0.0, self.t0 + it.at - time.time()))
            raw = it.build()
            for attempt in range(3):
                try:
                    s = smtplib.SMTP("127.0.0.1", d.PORTS["smtp"], timeout=60)
                    s.sendmail(it.envelope, [PROJECT], raw)
                    it.accepted = time.time()
                    s.quit()
                    self.sent.append(it)
                    break
                except (OSError, smtplib.SMTPException) as e:
                    if attempt == 2:
                        self.failed.append((it, repr(e)))
                    time.sleep(1)


# --- the replies ---------------------------------------------------------------------------

STAMP = re.compile(r"^(\d+)\.M(\d+)P")


@dataclass
class Delivered:
    owner: str  # whose INBOX
    in_reply_to: str
    arrived: float


class Mailboxes:
    """The daemon's replies in every partnership mailbox (leads and catch-alls), read from
    Dovecot's Maildir on disk: each file name starts with its delivery time (seconds and
    microseconds), and files are never rewritten (only moved from new/ to cur/)."""

    def __init__(self):
        self.seen = {}  # (owner, file name before the flags) -> Delivered or None

    def scan(self):
        for domain in (DIR / "mail").iterdir():
            if domain.name == "example.org":
                continue
            for user in domain.iterdir():
                owner = f"{user.name}@{domain.name}"
                for sub in ("new", "cur"):
                    try:
                        names = os.listdir(user / "Maildir" / sub)
                    except FileNotFoundError:
                        continue
                    for name in names:
                        key = (owner, name.split(":")[0])
                        if key not in self.seen:
                            self.read(key, user / "Maildir" / sub / name)
        return [x for x in self.seen.values() if x]

    def read(self, key, path):
        try:
            with open(path, "rb") as f:
                head = email.parser.BytesHeaderParser().parsebytes(f.read(65536))
        except FileNotFoundError:
            return  # moved to cur/ meanwhile: the next scan finds it
        stamp = STAMP.match(key[1])
        irt = re.search(r"<([^>]+)>", head.get("In-Reply-To", ""))
        ours = PROJECT in (head.get("From") or "")
        self.seen[key] = Delivered(key[0], irt.group(1), int(stamp[1]) + int(stamp[2]) / 1e6) \
            if ours and irt and stamp else None


def folder_count(folder):
    """Messages in a folder of the project mailbox, on disk (cheap enough to poll)."""
    base = PROJECT_MAILDIR if folder == "INBOX" else PROJECT_MAILDIR / f".{folder}"
    return sum(len(os.listdir(base / s)) for s in ("new", "cur") if (base / s).is_dir())


# --- the panel -----------------------------------------------------------------------------

OUTCOMES = [{"outcome": "quality_mark"},
            {"outcome": "quality_lead", "commendation": "child_first"},
            {"outcome": "quality_lead"},
            {"outcome": "not_yet", "feedback": "Statement 4b needs a case study showing joint planning."}]


class Panel:
    """Members working the queue through the API at once. `holding` is who holds which case
    now, as the API told them: a pull of a case held by another member is a double claim."""

    def __init__(self, port, tokens, seed):
        self.port, self.tokens, self.seed = port, tokens, seed
        self.lock = threading.Lock()
        self.holding = {}
        self.stats = Counter()
        self.double_claims, self.errors = [], []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.member, args=(name, i), daemon=True)
                        for i, name in enumerate(tokens)]

    def api(self, name, method, path, body=None):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", method=method,
            data=json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None),
            headers={"Authorization": f"Bearer {self.tokens[name]}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw = r.read()
                return r.status, raw if "json" not in r.headers.get("Content-Type", "") else json.loads(raw)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")
        except OSError as e:
            return 0, repr(e)

    def note_error(self, name, what, status, body):
        with self.lock:
            self.errors.append(f"{name}: {what} -> {status} {str(body)[:200]}")

    def member(self, name, i):
        rng = random.Random(self.seed * 100 + i)
        while not self.stop.is_set():
            status, view = self.api(name, "POST", "/api/pull")
            if status == 204:
                self.stats["empty_pulls"] += 1
                self.stop.wait(rng.uniform(0.5, 2.0))
                continue
            if status != 200:
                self.note_error(name, "pull", status, view)
                self.stop.wait(2)
                continue
            ref = view["case"]["reference"]
            self.claim(name, ref)
            self.review(name, ref, rng)
            self.stop.wait(rng.uniform(0.2, 1.2))  # reading
            if rng.random() < 0.3:
                self.try_someone_elses(name, rng)
            status, body = self.api(name, "POST", f"/api/cases/{ref}/decision", rng.choice(OUTCOMES))
            with self.lock:
                if status == 200:
                    self.stats["decisions"] += 1
                    self.holding.pop(ref, None)
                else:
                    self.errors.append(f"{name}: decide {ref} -> {status} {str(body)[:200]}")
            self.stop.wait(rng.uniform(0.2, 1.0))

    def claim(self, name, ref):
        with self.lock:
            self.stats["pulls"] += 1
            holder = self.holding.get(ref)
            if holder and holder != name:
                self.double_claims.append(f"{ref}: pulled by {name} while {holder} held it")
            self.holding[ref] = name

    def review(self, name, ref, rng):
        """Opens the case and one of its files, as a member reading it would."""
        status, view = self.api(name, "GET", f"/api/cases/{urllib.parse.quote(ref)}")
        if status != 200:
            return self.note_error(name, f"open {ref}", status, view)
        self.stats["opened"] += 1
        claim = (view["case"].get("claim") or {}).get("member")
        if claim != name:
            with self.lock:
                self.double_claims.append(f"{ref}: pulled by {name} but the case says {claim}")
        if view.get("files"):
            f = rng.choice(view["files"])
            status, body = self.api(name, "GET", f"/api/cases/{urllib.parse.quote(ref)}/files/{urllib.parse.quote(f)}")
            if status == 200:
                self.stats["files_read"] += 1
            else:
                self.note_error(name, f"file {f} of {ref}", status, body)

    def try_someone_elses(self, name, rng):
        """Tries to decide a case another member holds: must be refused (409)."""
        with self.lock:
            others = [r for r, h in self.holding.items() if h != name]
        if not others:
            return
        ref = rng.choice(others)
        status, body = self.api(name, "POST", f"/api/cases/{ref}/decision", {"outcome": "quality_mark"})
        with self.lock:
            self.stats["foreign_attempts"] += 1
            if status == 409:
                self.stats["foreign_refused"] += 1
            else:
                self.double_claims.append(f"{ref}: {name} decided a case held by another member -> {status} {str(body)[:200]}")

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=90)


# --- the run -------------------------------------------------------------------------------

def pct(xs, q):
    return d.pct(xs, q) if xs else float("nan")


def wait_for_mail(sender, mailboxes, proc, panel, sampler, t0, window, drain_s):
    """Until everything was sent, filed, and every person's message answered (or drain_s
    after the window). Prints progress every 30 s. Returns when the last filing was seen."""
    last_print, done_at = time.time(), None
    end = t0 + window + drain_s
    while time.time() < end:
        if proc.poll() is not None:
            return None
        sent = list(sender.sent)
        filed = folder_count("Processed") + folder_count("Quarantine")
        waiting = {it.message_id for it in sent if it.kind not in AUTOMATIC}
        answered = {r.in_reply_to for r in mailboxes.scan()} & waiting
        finished = not sender.is_alive() and filed == len(sent) and folder_count("INBOX") == 0
        if finished and done_at is None:
            done_at = time.time()
        if time.time() - last_print >= 30:
            last_print = time.time()
            print(f"  {time.time() - t0:5.0f} s: sent {len(sent)}, filed {filed}, inbox {folder_count('INBOX')}, "
                  f"answered {len(answered)}/{len(waiting)}, panel decisions {panel.stats['decisions']}, "
                  f"RSS {sampler.peak / 1024:.0f} MB peak", flush=True)
        if finished and answered == waiting:
            return done_at
        time.sleep(1)
    return done_at


def tally(items, replies):
    """Each message's deliveries in the mailbox its reply would reach, and anywhere."""
    in_own = Counter()
    anywhere = Counter()
    first = {}
    by_id = {it.message_id: it for it in items}
    for r in replies:
        anywhere[r.in_reply_to] += 1
        it = by_id.get(r.in_reply_to)
        if it and r.owner == it.answer_to:
            in_own[r.in_reply_to] += 1
            first[r.in_reply_to] = min(first.get(r.in_reply_to, r.arrived), r.arrived)
    return in_own, anywhere, first


def daemon_problems():
    """WARN and ERROR lines of the daemon's log, by kind."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", (WORK / "daemon.log").read_text(errors="replace"))
    lines = [line for line in text.splitlines() if re.search(r"\b(WARN|ERROR)\b", line)]
    kinds = Counter(re.sub(r"^\S+\s+", "", re.sub(r"\d+", "N", line))[:160] for line in lines)
    return lines, kinds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--partnerships", type=int, default=150)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--members", type=int, default=4, help="panel members working at once")
    ap.add_argument("--drain-minutes", type=float, default=10, help="how long to wait after the window")
    ap.add_argument("--no-build", action="store_true", help="use target/release/yjsend as it is")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (the mail stack)")
    if not a.no_build:
        d.sh("cargo", "build", "--release", "--locked", "--quiet", cwd=d.ROOT)
    binary = str(d.ROOT / "target/release/yjsend")
    rng = random.Random(a.seed)
    parts = data.partnerships(a.partnerships, rng)
    window = a.minutes * 60
    items = plan(parts, window, a.seed, rng)
    kinds = Counter(it.kind for it in items)
    print(f"round: {len(parts)} partnerships, {len(items)} messages over {a.minutes:g} min "
          f"({dict(kinds)}), {a.members} panel members", flush=True)

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    fresh_stack()
    failures = []
    try:
        extend_stack(parts)
        port = free_port()
        tokens = write_tokens(a.members)
        cfg = write_config(parts, port, max_per_sender=50)
        proc = start_daemon(binary, cfg, port)
        sampler = RssSampler(proc.pid)
        sampler.start()
        idle_kb = rss_kb(proc.pid)
        panel = Panel(port, tokens, a.seed)
        mailboxes = Mailboxes()
        t0 = time.time() + 1
        sender = Sender(items, t0)
        sender.start()
        panel.start()
        done_at = wait_for_mail(sender, mailboxes, proc, panel, sampler, t0, window, a.drain_minutes * 60)
        if proc.poll() is not None:
            failures.append(f"the daemon exited with status {proc.returncode}")
        else:
            time.sleep(10)  # late duplicates, or replies to automatic mail
        panel.finish()
        sampler.stop.set()
        sampler.join()
        m = metrics(port) if proc.poll() is None else {}
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                failures.append("the daemon did not stop within 60 s of SIGTERM")
                proc.kill()
                proc.wait()
            if proc.returncode not in (0, -signal.SIGTERM):
                failures.append(f"the daemon exited with status {proc.returncode} after SIGTERM")
        failures += report(a, parts, items, sender, mailboxes, panel, sampler, idle_kb, m, t0, done_at)
    finally:
        d.stack("stop")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)


def report(a, parts, items, sender, mailboxes, panel, sampler, idle_kb, m, t0, done_at):
    failures = [f"not sent: {it.message_id}: {e}" for it, e in sender.failed]
    sent = sender.sent
    # Counted by the server now (IMAP), not from the disk.
    inbox, processed, quarantine = d.count(PROJECT), d.count(PROJECT, "Processed"), d.count(PROJECT, "Quarantine")
    replies = mailboxes.scan()
    in_own, anywhere, first = tally(sent, replies)
    people = [it for it in sent if it.kind not in AUTOMATIC]
    automatic = [it for it in sent if it.kind in AUTOMATIC]
    unanswered = [it for it in people if in_own[it.message_id] == 0]
    twice = [it for it in people if in_own[it.message_id] > 1]
    answered_auto = [it for it in automatic if anywhere[it.message_id] > 0]
    replies_sent = sum(1 for it in people if in_own[it.message_id] > 0)
    cc_copies = sum(1 for r in replies if r.in_reply_to in {it.message_id for it in people}) - sum(in_own.values())
    lat = [first[it.message_id] - it.accepted for it in sent if it.kind == "submission" and it.message_id in first]
    lat_q = [first[it.message_id] - it.accepted for it in sent if it.kind == "question" and it.message_id in first]
    first_sent = min((it.accepted for it in sent), default=t0)
    elapsed_min = ((done_at or time.time()) - first_sent) / 60
    throughput = (processed + quarantine) / elapsed_min if elapsed_min > 0 else 0
    store_bytes = int(subprocess.run(["du", "-s", "--block-size=1", str(WORK / "yjsend.db")], capture_output=True,
                                     text=True).stdout.split()[0] or 0)
    counts_ok = (len(sent) == len(items) and len(sent) == processed + quarantine == replies_sent + len(automatic)
                 and inbox == 0 and not unanswered and not twice and not answered_auto)

    print(f"\nsent {len(sent)} of {len(items)} ({Counter(it.kind for it in sent)})")
    print(f"filed: Processed {processed} + Quarantine {quarantine} (INBOX left: {inbox})")
    print(f"replies: {replies_sent} answered once in the sender's INBOX (+{cc_copies} copies to the other lead), "
          f"{len(automatic)} automatic left unanswered; unanswered {len(unanswered)}, answered twice "
          f"{len(twice)}, automatic answered {len(answered_auto)}")
    print(f"daemon metrics: {m}")
    print(f"latency, SMTP acceptance to the reply in the sender's INBOX: submissions p50 {pct(lat, .5) * 1000:.0f} ms, "
          f"p99 {pct(lat, .99) * 1000:.0f} ms, max {max(lat, default=float('nan')) * 1000:.0f} ms (n={len(lat)}); "
          f"questions p50 {pct(lat_q, .5) * 1000:.0f} ms (n={len(lat_q)})")
    print(f"throughput: {throughput:.1f} messages filed per minute over {elapsed_min:.1f} min "
          f"(offered {len(sent) / a.minutes:.1f} per minute)")
    print(f"RSS (daemon + worker): idle {idle_kb / 1024:.1f} MB, peak {sampler.peak / 1024:.1f} MB; "
          f"(the daemon alone {sampler.main_peak / 1024:.1f} MB; {sampler.processes} processes at most); store {store_bytes / 2**20:.1f} MB on disk")
    print(f"panel: {dict(panel.stats)}; double claims {len(panel.double_claims)}; API errors {len(panel.errors)}")
    for line in panel.double_claims[:10] + panel.errors[:10]:
        print("  " + line)
    lines, kinds = daemon_problems()
    print(f"daemon log: {len(lines)} WARN/ERROR lines ({WORK / 'daemon.log'})")
    for k, n in kinds.most_common(10):
        print(f"  {n} x {k}")

    for it in unanswered[:10]:
        failures.append(f"unanswered {it.kind} {it.message_id}")
    for it in twice[:10]:
        failures.append(f"answered {in_own[it.message_id]} times: {it.kind} {it.message_id}")
    for it in answered_auto[:10]:
        failures.append(f"automatic mail answered: {it.kind} {it.message_id}")
    if not counts_ok:
        failures.append(f"counts: sent {len(sent)}/{len(items)}, filed {processed + quarantine} (INBOX {inbox}), "
                        f"replies {replies_sent} + automatic {len(automatic)}")
    if panel.double_claims:
        failures.append(f"{len(panel.double_claims)} double claims")

    print("\n| date | partnerships | messages | minutes | p50 | p99 | throughput | peak RSS | store | "
          "panel decisions | counts OK |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {datetime.date.today()} | {len(parts)} | {len(sent)} | {a.minutes:g} | {pct(lat, .5) * 1000:,.0f} ms | "
          f"{pct(lat, .99) * 1000:,.0f} ms | {throughput:.1f}/min | {sampler.peak / 1024:.0f} MB | "
          f"{store_bytes / 2**20:.1f} MB | {panel.stats['decisions']} | {'yes' if counts_ok else 'NO'} |")
    return failures


if __name__ == "__main__":
    main()

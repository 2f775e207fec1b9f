#!/usr/bin/env python3
"""Faults on the real mail stack, with a backlog in flight: the daemon killed with SIGKILL at
random moments, and the IMAP server restarted, many times over one backlog. Counts every
submission's replies: none may be missing; replies sent twice are counted and must stay within
the window the outbox allows (a reply the server accepted just before the kill, not yet marked
sent: at most one delivery group, 8, per kill).

Other faults, one scenario a run (bench/fault_scenarios.py): `servers-down` (IMAP and
submission stopped for two minutes), `smtp` (submission refusing with 421, unreachable, then
refusing for good with 554; what was given up is sent again with `yjsend outbox retry`),
`disk-full` (the tmpfs under the store filled). Each prints what the team was told and the
counts.

Needs root and the stack's packages (tests/mailstack/mailstack.sh install).

    sudo python3 bench/faults.py [--backlog 1000] [--kills 50] [--imap-restarts 10]
    sudo python3 bench/faults.py --scenario servers-down|smtp|disk-full [--backlog 1000]
"""

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import daemon as d  # noqa: E402  (bench/daemon.py: the stack, the config, the messages)
import fault_scenarios  # noqa: E402

GROUP = 8  # src/pipeline/delivery.rs: messages sent between two flushes of the outbox


def replies_by_original():
    c = d.imap(d.LEAD)
    typ, data = c.select("INBOX", readonly=True)
    out = Counter()
    if typ == "OK" and int(data[0]) > 0:
        _, data = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (IN-REPLY-TO)])")
        for x in data:
            if isinstance(x, tuple):
                m = re.search(rb"<([^>]+)>", x[1])
                if m:
                    out[m.group(1).decode()] += 1
    c.logout()
    return out


def restart_servers():
    """Stops and starts both servers; on a loaded machine a start can miss its 20 s greeting
    window (a port still in TIME_WAIT, say): tried again, and said if it keeps failing."""
    for attempt in range(3):
        try:
            d.stack("start")
            return
        except subprocess.CalledProcessError as e:
            print(f"server restart failed (attempt {attempt + 1}): {e.stderr.strip()[-300:]}", flush=True)
            time.sleep(3)
    raise SystemExit("the servers would not restart")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backlog", type=int, default=1000)
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--imap-restarts", type=int, default=10)
    ap.add_argument("--scenario", choices=["kills", *fault_scenarios.SCENARIOS], default="kills")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (the mail stack)")
    d.sh("cargo", "build", "--release", "--locked", "--quiet", cwd=d.ROOT)
    binary = str(d.ROOT / "target/release/yjsend")
    d.stack("start")
    if a.scenario != "kills":
        try:
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.monotonic()
                try:
                    r = fault_scenarios.SCENARIOS[a.scenario](binary, Path(tmp), a.backlog)
                finally:
                    # The daemon's log outlives the run, for reading what it did.
                    kept = Path(f"/tmp/yjsend-faults-{a.scenario}.log")
                    if (Path(tmp) / "daemon.log").exists():
                        shutil.copy(Path(tmp) / "daemon.log", kept)
                        print(f"the daemon's log: {kept}")
                print(f"| {time.strftime('%Y-%m-%d')} | {r['scenario']} | {a.backlog} | "
                      f"{time.monotonic() - t0:.0f} s | {r['missing']} | {r['twice']} | {r['told']} |")
                if not r["ok"]:
                    sys.exit(1)
        finally:
            d.stack("stop")
        return
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            d.clear(d.PROJECT)
            d.clear(d.PROJECT, "Processed")
            d.clear(d.LEAD)
            c = d.imap(d.PROJECT)
            for i in range(a.backlog):
                c.append("INBOX", None, None, d.variant(300000 + i))
            c.logout()
            cfg = d.config(work)
            log = open(work / "daemon.log", "w")

            def start():
                return subprocess.Popen([binary, "--config", str(cfg), "run"], stderr=log,
                                        env=dict(os.environ, YJSEND_LOG="warn"))

            t0 = time.monotonic()
            proc = start()
            kills = restarts = 0
            rng = random.Random(42)
            plan = ["kill"] * a.kills + ["imap"] * a.imap_restarts
            rng.shuffle(plan)
            for event in plan:
                time.sleep(rng.uniform(0.2, 1.2))
                if event == "kill":
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    kills += 1
                    proc = start()
                else:
                    restart_servers()
                    restarts += 1
            # Let it finish the backlog.
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                if len(replies_by_original()) >= a.backlog and d.count(d.PROJECT) == 0:
                    break
                time.sleep(2)
            elapsed = time.monotonic() - t0
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
            got = replies_by_original()
            wanted = {f"bench-{300000 + i}@mail.oxfordshire.example" for i in range(a.backlog)}
            missing = len(wanted - set(got))
            doubles = sum(n - 1 for k, n in got.items() if k in wanted and n > 1)
            bound = kills * GROUP
            print(f"backlog {a.backlog}, {kills} kills (SIGKILL), {restarts} server restarts, "
                  f"{elapsed:.0f} s: missing {missing}, sent twice {doubles} (bound {bound}: "
                  f"one delivery group per kill)")
            if missing or doubles > bound:
                sys.exit(1)
    finally:
        d.stack("stop")


if __name__ == "__main__":
    main()

"""The data of bench/round.py: a roster of local area partnerships named like England's local
areas, and the mail they send (grid submissions with evidence, out-of-office auto-replies,
delivery reports, questions), built with the standard library's `email` package from the
fixtures.
"""

import email.utils
import random
import re
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRID = ROOT / "fixtures/files/001-xlsx-plain/Grid.xlsx"
EVIDENCE = sorted((ROOT / "fixtures/files/evidence").glob("*.docx"))
PROJECT = "youthjusticesend@example.org"
STATEMENTS = ["1", "2", "3", "4a", "4b", "5", "6", "7", "8", "9", "10"]
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")

# England's upper-tier local areas (2018), by region.
AREAS = {
    "North East": "Darlington, Durham, Gateshead, Hartlepool, Middlesbrough, Newcastle upon Tyne, "
                  "North Tyneside, Northumberland, Redcar and Cleveland, South Tyneside, "
                  "Stockton-on-Tees, Sunderland",
    "North West": "Blackburn with Darwen, Blackpool, Bolton, Bury, Cheshire East, "
                  "Cheshire West and Chester, Cumbria, Halton, Knowsley, Lancashire, Liverpool, "
                  "Manchester, Oldham, Rochdale, Salford, Sefton, St Helens, Stockport, Tameside, "
                  "Trafford, Warrington, Wigan, Wirral",
    "Yorkshire and the Humber": "Barnsley, Bradford, Calderdale, Doncaster, East Riding of Yorkshire, "
                                "Kingston upon Hull, Kirklees, Leeds, North East Lincolnshire, "
                                "North Lincolnshire, North Yorkshire, Rotherham, Sheffield, Wakefield, York",
    "East Midlands": "Derby, Derbyshire, Leicester, Leicestershire, Lincolnshire, Northamptonshire, "
                     "Nottingham, Nottinghamshire, Rutland",
    "West Midlands": "Birmingham, Coventry, Dudley, Herefordshire, Sandwell, Shropshire, Solihull, "
                     "Staffordshire, Stoke-on-Trent, Telford and Wrekin, Walsall, Warwickshire, "
                     "Wolverhampton, Worcestershire",
    "East of England": "Bedford, Cambridgeshire, Central Bedfordshire, Essex, Hertfordshire, Luton, "
                       "Norfolk, Peterborough, Southend-on-Sea, Suffolk, Thurrock",
    "London": "Barking and Dagenham, Barnet, Bexley, Brent, Bromley, Camden, City of London, Croydon, "
              "Ealing, Enfield, Greenwich, Hackney, Hammersmith and Fulham, Haringey, Harrow, Havering, "
              "Hillingdon, Hounslow, Islington, Kensington and Chelsea, Kingston upon Thames, Lambeth, "
              "Lewisham, Merton, Newham, Redbridge, Richmond upon Thames, Southwark, Sutton, "
              "Tower Hamlets, Waltham Forest, Wandsworth, Westminster",
    "South East": "Bracknell Forest, Brighton and Hove, Buckinghamshire, East Sussex, Hampshire, "
                  "Isle of Wight, Kent, Medway, Milton Keynes, Oxfordshire, Portsmouth, Reading, Slough, "
                  "Southampton, Surrey, West Berkshire, West Sussex, Windsor and Maidenhead, Wokingham",
    "South West": "Bath and North East Somerset, Bournemouth Christchurch and Poole, Bristol, Cornwall, "
                  "Devon, Dorset, Gloucestershire, Isles of Scilly, North Somerset, Plymouth, Somerset, "
                  "South Gloucestershire, Swindon, Torbay, Wiltshire",
}

FIRST = ["Jane", "Mark", "Priya", "Tom", "Aisha", "David", "Helen", "Sam", "Grace", "Omar", "Ruth", "Liam"]
LAST = ["Carter", "Ellis", "Shah", "Morgan", "Khan", "Hughes", "Patel", "Wright", "Okafor", "Reid"]


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def partnerships(n: int, rng: random.Random) -> list:
    """n partnerships: England's local areas (numbered again past 151), each with its domain
    `<id>.example`, an LA SEND lead and a YOS lead, and (most of them) a baseline."""
    areas = [(name.strip(), region) for region, names in AREAS.items() for name in names.split(",")]
    out = []
    for i in range(n):
        name, region = areas[i % len(areas)]
        if i >= len(areas):
            name = f"{name} {i // len(areas) + 1}"
        pid = slug(name)
        domain = f"{pid}.example"
        out.append(dict(
            id=pid, name=name, region=region, domain=domain,
            la=f"send.lead@{domain}", yos=f"yjs.manager@{domain}",
            la_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}", yos_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            # About one in ten did not take part before: no baseline (it is optional).
            baseline=None if rng.random() < 0.1 else {s: rng.randint(3, 8) for s in STATEMENTS},
        ))
    return out


def roster_toml(parts: list) -> str:
    """The roster file (fixtures/config/partnerships.toml's format)."""
    lines = ["# Written by bench/round.py.", ""]
    for p in parts:
        lines += ["[[partnership]]", f'id = "{p["id"]}"', f'name = "{p["name"]}"', f'region = "{p["region"]}"',
                  f'domains = ["{p["domain"]}"]', f'la_send_leads = ["{p["la"]}"]', f'yos_leads = ["{p["yos"]}"]']
        if p["baseline"]:
            scores = ", ".join(f'"{s}" = {v}' for s, v in p["baseline"].items())
            lines.append(f"baseline = {{ {scores} }}")
        lines.append("")
    return "\n".join(lines)


def _headers(m: EmailMessage, p: dict, sender: str, sender_name: str, subject: str, mid: str, trace=True):
    """The headers a partnership's mail carries on arrival: the trusted server's
    Authentication-Results (as in the fixtures), From, To, Subject, Date, Message-ID."""
    if trace:
        m["Received"] = (f"from mail.{p['domain']} (mail.{p['domain']} [192.0.2.10]) by mx.example.org "
                         f"with ESMTPS for <{PROJECT}>; {email.utils.formatdate()}")
        m["Authentication-Results"] = (f"mx.example.org; dkim=pass header.d={p['domain']}; "
                                       f"spf=pass smtp.mailfrom={p['domain']}; "
                                       f"dmarc=pass (p=none dis=none) header.from={p['domain']}")
    m["From"] = email.utils.formataddr((sender_name, sender))
    m["To"] = email.utils.formataddr(("Youth Justice SEND", PROJECT))
    m["Subject"] = subject
    m["Date"] = email.utils.formatdate()
    m["Message-ID"] = f"<{mid}>"


def submission(p: dict, version: int, mid: str, from_la: bool, rng: random.Random) -> bytes:
    """Version `version` of a partnership's grid (the fixture's Grid.xlsx) with one to three
    pieces of evidence, from one lead with the other in Cc (so the joint sign-off counts)."""
    sender, sender_name, other, other_name = ((p["la"], p["la_name"], p["yos"], p["yos_name"]) if from_la
                                              else (p["yos"], p["yos_name"], p["la"], p["la_name"]))
    m = EmailMessage(policy=SMTP)
    subject = f"{p['name']} self-assessment grid" + (f" (version {version})" if version > 1 else "")
    _headers(m, p, sender, sender_name, subject, mid)
    m["Cc"] = email.utils.formataddr((other_name, other))
    again = "" if version == 1 else f" This is version {version}: it replaces what we sent before."
    m.set_content(f"Hello,\n\nPlease find attached {p['name']}'s self-assessment grid, agreed jointly "
                  f"with {other_name}, and our evidence.{again}\n\nKind regards,\n\n{sender_name}\n{p['name']}\n")
    m.add_attachment(GRID.read_bytes(), maintype=XLSX[0], subtype=XLSX[1], filename="Grid.xlsx")
    for f in rng.sample(EVIDENCE, rng.randint(1, 3)):
        m.add_attachment(f.read_bytes(), maintype=DOCX[0], subtype=DOCX[1], filename=f.name)
    return m.as_bytes()


def question(p: dict, mid: str) -> bytes:
    """A plain question with no grid, from the LA SEND lead (a new thread: it is answered)."""
    m = EmailMessage(policy=SMTP)
    _headers(m, p, p["la"], p["la_name"], "Question about case studies", mid)
    m["Cc"] = email.utils.formataddr((p["yos_name"], p["yos"]))
    m.set_content("Hello,\n\nCan we send the case studies a week after the grid, or do they need to come "
                  f"together? Should 4a and 4b be scored separately?\n\nKind regards,\n\n{p['la_name']}\n")
    return m.as_bytes()


def out_of_office(p: dict, mid: str) -> bytes:
    """An out-of-office reply from the YOS lead (Auto-Submitted: auto-replied): never answered."""
    m = EmailMessage(policy=SMTP)
    _headers(m, p, p["yos"], p["yos_name"], f"Automatic reply: {p['name']} self-assessment grid", mid)
    m["Auto-Submitted"] = "auto-replied"
    m["X-Auto-Response-Suppress"] = "All"
    m.set_content("I am out of the office until Monday. For urgent matters contact the YOS duty line.\n")
    return m.as_bytes()


def bounce(p: dict, mid: str) -> bytes:
    """A delivery report (multipart/report, as fixtures/eml/030-bounce-delivery-report.eml)
    from the partnership's MAILER-DAEMON, sent with an empty envelope sender: never answered."""
    lost = f"old.lead@{p['domain']}"
    text = f"""From: Mail Delivery System <MAILER-DAEMON@{p['domain']}>
To: {PROJECT}
Subject: Undelivered Mail Returned to Sender
Date: {email.utils.formatdate()}
Message-ID: <{mid}>
Content-Type: multipart/report; report-type="delivery-status"; boundary="=_report"
MIME-Version: 1.0

--=_report
Content-Type: text/plain; charset="us-ascii"

This is the mail system at host mail.{p['domain']}.

Your message could not be delivered to one or more recipients.

<{lost}>: 550 5.1.1 User unknown

--=_report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.{p['domain']}

Final-Recipient: rfc822; {lost}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--=_report
Content-Type: text/rfc822-headers

From: Youth Justice SEND <{PROJECT}>
To: {lost}
Subject: Re: {p['name']} self-assessment grid
Message-ID: <lost-{mid}>

--=_report--
"""
    return text.replace("\n", "\r\n").encode()

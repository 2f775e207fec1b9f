#!/usr/bin/env python3
"""Writes the two follow-ups of the store-v1 test data into a Maildir's new/ folder: the YOS
lead's confirmation in the thread of reply YJS-2018-0001, and a case study for statement 8
sent in the thread of reply YJS-2018-0003. Usage: followups.py OUTBOX_DIR MAILDIR FIXTURES_EML"""
import email, email.policy, glob, sys
from email.message import EmailMessage

outbox, maildir, fixtures = sys.argv[1:4]


def reply_id(reference):
    for path in sorted(glob.glob(f"{outbox}/*.eml")):
        msg = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
        if reference in (msg["Subject"] or ""):
            return msg["Message-ID"], msg["Subject"]
    raise SystemExit(f"no reply for {reference}")


AUTH = "mx.example.org; dkim=pass; spf=pass; dmarc=pass header.from={}"

mid, subject = reply_id("YJS-2018-0001")
m = EmailMessage()
m["Authentication-Results"] = AUTH.format("oxfordshire.example")
m["From"] = "David Okafor <yjs.manager@oxfordshire.example>"
m["To"] = "Youth Justice SEND <youthjusticesend@example.org>"
m["Subject"] = "Re: " + subject
m["Date"] = "Wed, 21 Feb 2018 09:00:00 +0000"
m["Message-ID"] = "<v1-confirm@mail.oxfordshire.example>"
m["In-Reply-To"] = mid
m["References"] = "<035-one-lead-only@mail.oxfordshire.example> " + mid
m.set_content("I confirm the YOS sign-off of these scores.\n\nDavid Okafor\nYOS Manager\n")
open(f"{maildir}/new/v1-confirm.eml", "wb").write(m.as_bytes())

mid, subject = reply_id("YJS-2018-0003")
source = email.message_from_binary_file(
    open(f"{fixtures}/047-ql-eligible.eml", "rb"), policy=email.policy.default)
part = next(p for p in source.iter_attachments() if p.get_filename() == "KS8 case study.pdf")
m = EmailMessage()
m["Authentication-Results"] = AUTH.format("swindon.example")
m["From"] = "Priya Shah <send.lead@swindon.example>"
m["To"] = "Youth Justice SEND <youthjusticesend@example.org>"
m["Cc"] = "Tom Reid <yjs.manager@swindon.example>"
m["Subject"] = "Re: " + subject
m["Date"] = "Wed, 21 Feb 2018 10:00:00 +0000"
m["Message-ID"] = "<v1-evidence@mail.swindon.example>"
m["In-Reply-To"] = mid
m["References"] = mid
m.set_content("Here is the case study for statement 8.\n\nPriya\n")
m.add_attachment(part.get_content(), maintype="application", subtype="pdf",
                 filename="KS8 case study.pdf")
open(f"{maildir}/new/v1-evidence.eml", "wb").write(m.as_bytes())

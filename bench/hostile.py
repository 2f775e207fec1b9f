#!/usr/bin/env python3
"""Hostile-input benchmark for `yjsend check`: zip bombs, deep nesting, huge messages, bad charsets.

Generates a corpus of hostile but realistic messages (from send.lead@oxfordshire.example to
youthjusticesend@example.org, each with a Message-ID and a Date) in a temporary folder, runs

    target/release/yjsend --config fixtures/config/yjsend.toml check --json FILE

on each one at a time under `/usr/bin/time -f "%e %M"` (or, without GNU time, the child's own
rusage from wait4), and prints a Markdown table:

    case | size of the .eml | exit status | time (s) | peak RSS (MB) | classification | problem codes

It exits 1 when any case crashes (exit status other than 0, or a signal), takes more than 30 s,
peaks above 600 MB, prints anything but one valid JSON object, or when the control message (a
grid typed in the body) is not classified `submission`. Outcomes that differ from what the case
expects (a classification or problem code) are listed under the table as warnings; they do not
change the exit status.

Run it from anywhere after building the release binary:

    cargo build --release --locked
    python3 bench/hostile.py                    # every case (under 100 MB of scratch at a time)
    python3 bench/hostile.py --only zip,nested  # cases whose name contains one of these words
    python3 bench/hostile.py --keep --json-out /tmp/hostile.jsonl   # keep the corpus, save outputs

Standard library only (Python 3.11). Everything large is streamed to disk: the zip bombs use a
deflate stream of one repeated block (compressed once, with a full flush, and written N times),
so a 2 GB entry costs a few MB and well under a second to build. Deeply nested MIME, the giant
headers and the 100,000-part bodies are written as raw text around a message the email package
builds (its generator recurses per level and folds long headers slowly). Each .eml is deleted
once checked; the folder (a temporary one, never the repository) is removed at the end unless
--keep.

Some cases go past the obvious: each zip bomb again with a central directory that lies about
the entry's size, zips nested 12 deep, and the most parts / header lines a message under the
25 MiB limit can carry (these two measure the memory each MIME part and each header costs).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path
from typing import Callable, Iterable, Iterator

ROOT = Path(__file__).resolve().parent.parent

MAX_SECONDS = 30.0
MAX_RSS_MB = 600.0
HARD_TIMEOUT = 180.0  # a case still running after this is killed (and fails)
AS_LIMIT = 8 << 30  # address-space guard so a runaway cannot take the shared machine down

FROM = "Jane Carter <send.lead@oxfordshire.example>"
CC = "Mark Ellis <yjs.manager@oxfordshire.example>"
TO = "Youth Justice SEND <youthjusticesend@example.org>"
DATE = "Tue, 20 Feb 2018 10:15:00 +0000"
RECEIVED = ("from mail.oxfordshire.example (mail.oxfordshire.example [192.0.2.10])\n"
            "\tby mx.example.org (Postfix) with ESMTPS id 4F1A2B3C4D\n"
            "\tfor <youthjusticesend@example.org>; Tue, 20 Feb 2018 10:15:07 +0000")
AUTHRES = ("mx.example.org;\n\tdkim=pass header.d=oxfordshire.example;\n"
           "\tspf=pass smtp.mailfrom=oxfordshire.example;\n"
           "\tdmarc=pass (p=none dis=none) header.from=oxfordshire.example")

STATEMENTS = ["1", "2", "3", "4a", "4b", "5", "6", "7", "8", "9", "10"]
SCORES = dict(zip(STATEMENTS, [7, 7, 6, 7, 7, 8, 7, 7, 9, 7, 7]))
GRID_LINES = "\n".join(f"Statement {s}: {v}" for s, v in SCORES.items())
SIGNATURE = "\nKind regards,\n\nJane Carter\nHead of SEND\nOxfordshire Council\n"
GRID_BODY = ("Hi,\n\nHere are our re-scores, agreed by Jane and Mark:\n\n" + GRID_LINES
             + "\n\nCase studies to follow next week.\n" + SIGNATURE)
ATTACHED_BODY = ("Hi,\n\nPlease find attached our re-scoring grid and evidence for the Quality Mark.\n"
                 + SIGNATURE)

B64_LINE = 57  # raw bytes per 76-character base64 line
B64_CHUNK = B64_LINE * 16384  # ~930 KB of input per write

# --------------------------------------------------------------------------------------------
# Zip writing with streamed and repeated deflate blocks
# --------------------------------------------------------------------------------------------


@dataclass
class Repeat:
    """`unit` repeated `count` times, compressed once and written `count` times."""
    unit: bytes
    count: int


Chunks = Iterable["bytes | Repeat"]


@dataclass
class Entry:
    name: str
    chunks: Callable[[], Chunks]  # called once; yields bytes and Repeat blocks
    stored: bool = False
    declared_size: int | None = None  # lie about the uncompressed size (local and central)


def _deflate_entry(out, chunks: Chunks, stored: bool) -> tuple[int, int, int]:
    """Writes an entry's data; returns (crc32, compressed size, uncompressed size)."""
    crc = 0
    usize = 0
    csize = 0
    if stored:
        for c in chunks:
            data = c.unit * c.count if isinstance(c, Repeat) else c
            out.write(data)
            crc = zlib.crc32(data, crc)
            usize += len(data)
            csize += len(data)
        return crc, csize, usize
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)

    def emit(b: bytes) -> None:
        nonlocal csize
        out.write(b)
        csize += len(b)

    for c in chunks:
        if isinstance(c, Repeat):
            emit(comp.flush(zlib.Z_FULL_FLUSH))  # start the copies on a clean block boundary
            first = comp.compress(c.unit) + comp.flush(zlib.Z_FULL_FLUSH)
            emit(first)
            done = 1
            if c.count > 1:
                second = comp.compress(c.unit) + comp.flush(zlib.Z_FULL_FLUSH)
                emit(second)
                done = 2
                if second == first:
                    # After a full flush the compressor keeps no history, so the same input
                    # gives the same bytes: write them without compressing again.
                    for _ in range(c.count - 2):
                        emit(second)
                    done = c.count
                while done < c.count:  # (fallback) compress each copy, still streamed
                    emit(comp.compress(c.unit) + comp.flush(zlib.Z_FULL_FLUSH))
                    done += 1
            for _ in range(c.count):
                crc = zlib.crc32(c.unit, crc)
            usize += len(c.unit) * c.count
        else:
            crc = zlib.crc32(c, crc)
            usize += len(c)
            emit(comp.compress(c))
    emit(comp.flush(zlib.Z_FINISH))
    return crc, csize, usize


def write_zip(path: Path, entries: list[Entry]) -> None:
    """A plain zip (no zip64: every entry stays under 4 GiB) with fixed timestamps."""
    dos_time, dos_date = (9 << 11), ((2018 - 1980) << 9) | (2 << 5) | 19
    central = []
    with open(path, "w+b") as out:
        for e in entries:
            name = e.name.encode()
            method = 0 if e.stored else 8
            offset = out.tell()
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x0800, method, dos_time,
                                  dos_date, 0, 0, 0, len(name), 0) + name)
            crc, csize, usize = _deflate_entry(out, e.chunks(), e.stored)
            declared = usize if e.declared_size is None else e.declared_size
            end = out.tell()
            out.seek(offset + 14)
            out.write(struct.pack("<III", crc, csize, declared))
            out.seek(end)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 20, 0x0800,
                                       method, dos_time, dos_date, crc, csize, declared,
                                       len(name), 0, 0, 0, 0, 0o644 << 16, offset) + name)
        cd_offset = out.tell()
        for c in central:
            out.write(c)
        cd_size = out.tell() - cd_offset
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                              cd_size, cd_offset, 0))


def const(*chunks: "bytes | Repeat") -> Callable[[], Chunks]:
    return lambda: list(chunks)


XML_HEAD = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
NS_MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = b"http://schemas.openxmlformats.org/package/2006/relationships"


def xlsx_entries(sheet: Callable[[], Chunks], declared: int | None = None) -> list[Entry]:
    ct = (XML_HEAD + b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          b'<Default Extension="xml" ContentType="application/xml"/>'
          b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
          b"</Types>")
    rels = (XML_HEAD + b'<Relationships xmlns="' + NS_PKG_REL + b'"><Relationship Id="rId1" '
            b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            b'Target="xl/workbook.xml"/></Relationships>')
    wb = (XML_HEAD + b'<workbook xmlns="' + NS_MAIN + b'" xmlns:r="' + NS_REL + b'"><sheets>'
          b'<sheet name="Grid" sheetId="1" r:id="rId1"/></sheets></workbook>')
    wbrels = (XML_HEAD + b'<Relationships xmlns="' + NS_PKG_REL + b'"><Relationship Id="rId1" '
              b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
              b'Target="worksheets/sheet1.xml"/></Relationships>')
    return [Entry("[Content_Types].xml", const(ct)), Entry("_rels/.rels", const(rels)),
            Entry("xl/workbook.xml", const(wb)), Entry("xl/_rels/workbook.xml.rels", const(wbrels)),
            Entry("xl/worksheets/sheet1.xml", sheet, declared_size=declared)]


SHEET_HEAD = XML_HEAD + b'<worksheet xmlns="' + NS_MAIN + b'"><sheetData>'
SHEET_TAIL = b"</sheetData></worksheet>"


def docx_entries(document: Callable[[], Chunks], declared: int | None = None) -> list[Entry]:
    ct = (XML_HEAD + b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          b'<Default Extension="xml" ContentType="application/xml"/>'
          b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
          b"</Types>")
    rels = (XML_HEAD + b'<Relationships xmlns="' + NS_PKG_REL + b'"><Relationship Id="rId1" '
            b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            b'Target="word/document.xml"/></Relationships>')
    return [Entry("[Content_Types].xml", const(ct)), Entry("_rels/.rels", const(rels)),
            Entry("word/document.xml", document, declared_size=declared)]


def ods_entries(content: Callable[[], Chunks], declared: int | None = None) -> list[Entry]:
    manifest = (XML_HEAD + b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                b'<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                b'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                b"</manifest:manifest>")
    return [Entry("mimetype", const(b"application/vnd.oasis.opendocument.spreadsheet"), stored=True),
            Entry("META-INF/manifest.xml", const(manifest)),
            Entry("content.xml", content, declared_size=declared)]


TWO_GB = 2_000_000_000


def fill(unit: bytes, total: int) -> Repeat:
    """`unit` repeated up to about `total` bytes (units are ~1 MB so the deflate trick pays)."""
    block = unit * max(1, (1 << 20) // len(unit))
    return Repeat(block, max(1, total // len(block)))


def bomb_xlsx(path: Path, lie: bool) -> None:
    body = fill(b"<row></row>", TWO_GB)
    write_zip(path, xlsx_entries(const(SHEET_HEAD, body, SHEET_TAIL), 4096 if lie else None))


def bomb_docx(path: Path, lie: bool) -> None:
    head = (XML_HEAD + b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            b"<w:body><w:tbl>")
    row = b"<w:tr><w:tc><w:p><w:r><w:t>.</w:t></w:r></w:p></w:tc></w:tr>"
    tail = b"</w:tbl><w:p/></w:body></w:document>"
    write_zip(path, docx_entries(const(head, fill(row, TWO_GB), tail), 4096 if lie else None))


def bomb_ods(path: Path, lie: bool) -> None:
    head = (XML_HEAD + b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            b'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
            b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
            b'<office:body><office:spreadsheet><table:table table:name="Grid">')
    row = b"<table:table-row><table:table-cell/></table:table-row>"
    tail = b"</table:table></office:spreadsheet></office:body></office:document-content>"
    write_zip(path, ods_entries(const(head, fill(row, TWO_GB), tail), 4096 if lie else None))


def bomb_zip(path: Path, lie: bool) -> None:
    write_zip(path, [Entry("evidence/scores-export.csv", const(fill(b"\0", TWO_GB)),
                           declared_size=4096 if lie else None)])


def inline(text: str) -> bytes:
    esc = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<is><t>{esc}</t></is>'.encode()


def million_row_sheet() -> Iterator[bytes]:
    """A grid in rows 1-12, a blank row, then 1,000,000 rows of case data (~50 MB of XML,
    under the 64 MiB per-attachment cap, so the reader really has to go through it)."""
    yield SHEET_HEAD
    rows = [("Key Statement", "Score")] + [(f"Statement {s}", v) for s, v in SCORES.items()]
    for r, (a, v) in enumerate(rows, start=1):
        b = (f'<c r="B{r}" t="inlineStr">' + inline(v).decode() + "</c>" if isinstance(v, str)
             else f'<c r="B{r}"><v>{v}</v></c>')
        yield f'<row r="{r}"><c r="A{r}" t="inlineStr">'.encode() + inline(a) + b"</c>" + b.encode() + b"</row>"
    buf = []
    for i in range(1_000_000):
        r = i + 15
        buf.append(f'<row r="{r}"><c><v>{100000 + i}</v></c><c><v>{i % 10}</v></c></row>')
        if len(buf) == 20000:
            yield "".join(buf).encode()
            buf = []
    yield "".join(buf).encode()
    yield SHEET_TAIL


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------

def envelope(msg: Message, slug: str, subject: str | None, cc: bool = True) -> Message:
    msg["Received"] = RECEIVED
    msg["Authentication-Results"] = AUTHRES
    msg["From"] = FROM
    msg["To"] = TO
    if cc:
        msg["Cc"] = CC
    if subject is not None:
        msg["Subject"] = subject
    msg["Date"] = DATE
    msg["Message-ID"] = f"<hostile-{slug}@mail.oxfordshire.example>"
    if "MIME-Version" not in msg:
        msg["MIME-Version"] = "1.0"
    order = ["Received", "Authentication-Results", "From", "To", "Cc", "Subject", "Date",
             "Message-ID", "MIME-Version"]
    msg._headers.sort(key=lambda h: order.index(h[0]) if h[0] in order else len(order))
    return msg


def flatten(msg: Message) -> bytes:
    import io
    buf = io.BytesIO()
    BytesGenerator(buf, mangle_from_=False, maxheaderlen=78).flatten(msg)
    return buf.getvalue()


Stream = Callable[[], Iterable[bytes]]


def write_eml(path: Path, msg: Message, streams: dict[str, Stream] | None = None,
              replace: dict[bytes, bytes] | None = None, extra_headers: Stream | None = None) -> None:
    """Writes `msg`, with each placeholder in `streams` replaced by the bytes its generator
    yields (streamed to disk), literal byte substitutions from `replace` (for bytes the email
    package will not produce, such as invalid UTF-8), and raw header lines from
    `extra_headers` appended to the header block."""
    data = flatten(msg)
    for k, v in (replace or {}).items():
        assert k in data, k
        data = data.replace(k, v)
    head, sep, body = data.partition(b"\n\n")
    with open(path, "wb") as out:
        out.write(head + b"\n")
        if extra_headers:
            for chunk in extra_headers():
                out.write(chunk)
        out.write(b"\n")
        pieces = [(body, None)]
        for token, gen in (streams or {}).items():
            t = token.encode()
            nxt = []
            for piece, g in pieces:
                if g is None and t in piece:
                    before, _, after = piece.partition(t)
                    nxt += [(before, None), (b"", gen), (after, None)]
                else:
                    nxt.append((piece, g))
            pieces = nxt
        for piece, gen in pieces:
            if gen is None:
                out.write(piece)
            else:
                for chunk in gen():
                    out.write(chunk)


def b64_file(path: Path) -> Stream:
    def gen() -> Iterator[bytes]:
        with open(path, "rb") as f:
            while chunk := f.read(B64_CHUNK):
                yield base64.encodebytes(chunk)
    return gen


def b64_random(size: int) -> Stream:
    def gen() -> Iterator[bytes]:
        left = size
        while left > 0:
            n = min(left, B64_CHUNK)
            yield base64.encodebytes(os.urandom(n))
            left -= n
    return gen


def b64_chunks(chunks: Callable[[], Iterable[bytes]]) -> Stream:
    def gen() -> Iterator[bytes]:
        pending = b""
        for c in chunks():
            pending += c
            if len(pending) >= B64_CHUNK:
                cut = len(pending) - len(pending) % B64_LINE
                yield base64.encodebytes(pending[:cut])
                pending = pending[cut:]
        if pending:
            yield base64.encodebytes(pending)
    return gen


def streamed_attachment(name: str, ctype: str, token: str) -> MIMEBase:
    main, sub = ctype.split("/")
    part = MIMEBase(main, sub, name=name)
    part["Content-Transfer-Encoding"] = "base64"
    part.add_header("Content-Disposition", "attachment", filename=name)
    part.set_payload(token)
    return part


def with_attachment(path: Path, slug: str, subject: str, body: str, name: str, ctype: str,
                    stream: Stream) -> None:
    msg = MIMEMultipart("mixed", boundary=f"=_hostile_{slug}")
    msg.attach(MIMEText(body, "plain", "us-ascii"))
    msg.attach(streamed_attachment(name, ctype, "@@ATTACHMENT@@"))
    write_eml(path, envelope(msg, slug, subject), {"@@ATTACHMENT@@": stream})


def zip_case(builder: Callable[[Path, bool], None], name: str, ctype: str, lie: bool):
    def make(path: Path, slug: str) -> None:
        z = path.with_suffix(".attachment")
        builder(z, lie)
        with_attachment(path, slug, "Quality Mark re-scoring grid", ATTACHED_BODY, name, ctype,
                        b64_file(z))
        z.unlink()
    return make


def nested_multipart(path: Path, slug: str, levels: int = 1000) -> None:
    """multipart/mixed inside multipart/mixed … `levels` deep; the grid typed in the innermost
    text part."""
    def gen() -> Iterator[bytes]:
        # The top level is the message's own Content-Type (boundary =_lvl_0000).
        opens = []
        for i in range(1, levels):
            opens.append(f"--=_lvl_{i - 1:04d}\nContent-Type: multipart/mixed; boundary=\"=_lvl_{i:04d}\"\n\n")
        yield "".join(opens).encode()
        yield (f"--=_lvl_{levels - 1:04d}\nContent-Type: text/plain; charset=us-ascii\n\n"
               + GRID_BODY + "\n").encode()
        yield "".join(f"--=_lvl_{i:04d}--\n" for i in reversed(range(levels))).encode()
    msg = Message()
    msg["Content-Type"] = 'multipart/mixed; boundary="=_lvl_0000"'
    msg.set_payload("@@NESTED@@")
    write_eml(path, envelope(msg, slug, "Our re-scores (nested)"), {"@@NESTED@@": gen})


def nested_rfc822(path: Path, slug: str, levels: int = 200) -> None:
    """A message forwarding a message forwarding … `levels` deep (message/rfc822 parts); the
    innermost carries the grid as Grid.csv."""
    csv = "Key Statement,Score\n" + "".join(f"{s},{v}\n" for s, v in SCORES.items())
    inner = (f"From: {FROM}\nTo: {TO}\nSubject: Re-scoring grid\nDate: {DATE}\n"
             f"Message-ID: <hostile-{slug}-0@mail.oxfordshire.example>\nMIME-Version: 1.0\n"
             'Content-Type: multipart/mixed; boundary="=_fwd_000"\n\n'
             "--=_fwd_000\nContent-Type: text/plain; charset=us-ascii\n\nGrid attached.\n"
             '--=_fwd_000\nContent-Type: text/csv; name="Grid.csv"\n'
             'Content-Disposition: attachment; filename="Grid.csv"\nContent-Transfer-Encoding: base64\n\n'
             + base64.encodebytes(csv.encode()).decode() + "--=_fwd_000--\n")
    for i in range(1, levels):
        body = (f'--=_fwd_{i:03d}\nContent-Type: text/plain; charset=us-ascii\n\nForwarding ({i}).\n'
                f'--=_fwd_{i:03d}\nContent-Type: message/rfc822\nContent-Disposition: attachment\n\n'
                + inner + f"\n--=_fwd_{i:03d}--\n")
        if i == levels - 1:
            inner = body
            break
        inner = (f"From: {FROM}\nTo: {TO}\nSubject: Fwd: Re-scoring grid ({i})\nDate: {DATE}\n"
                 f"Message-ID: <hostile-{slug}-{i}@mail.oxfordshire.example>\nMIME-Version: 1.0\n"
                 f'Content-Type: multipart/mixed; boundary="=_fwd_{i:03d}"\n\n' + body)
    msg = Message()
    msg["Content-Type"] = f'multipart/mixed; boundary="=_fwd_{levels - 1:03d}"'
    msg.set_payload("@@NESTED@@")
    data = inner.encode()
    write_eml(path, envelope(msg, slug, "Fwd: Re-scoring grid"), {"@@NESTED@@": lambda: [data]})


def many_parts(path: Path, slug: str, attached: bool, n: int = 100_000) -> None:
    """The grid typed in the first part, then `n` tiny text parts (inline, or attached .txt)."""
    def gen() -> Iterator[bytes]:
        yield ("--=_many\nContent-Type: text/plain; charset=us-ascii\n\n" + GRID_BODY + "\n").encode()
        buf = []
        for i in range(n):
            if attached:
                buf.append(f'--=_many\nContent-Type: text/plain; name="note-{i}.txt"\n'
                           f'Content-Disposition: attachment; filename="note-{i}.txt"\n\nnote {i}\n')
            else:
                buf.append(f"--=_many\nContent-Type: text/plain\n\n{i}\n")
            if len(buf) == 5000:
                yield "".join(buf).encode()
                buf = []
        yield "".join(buf).encode()
        yield b"--=_many--\n"
    msg = Message()
    msg["Content-Type"] = 'multipart/mixed; boundary="=_many"'
    msg.set_payload("@@PARTS@@")
    write_eml(path, envelope(msg, slug, "Our re-scores and notes"), {"@@PARTS@@": gen})


def nested_zip(path: Path, slug: str, levels: int = 12) -> None:
    """evidence.zip holding a zip holding a zip … `levels` deep, Grid.csv in the innermost."""
    csv = ("Key Statement,Score\n" + "".join(f"{s},{v}\n" for s, v in SCORES.items())).encode()
    inner, name = csv, "Grid.csv"
    z = path.with_suffix(".attachment")
    for i in range(levels):
        write_zip(z, [Entry(name, const(inner))])
        inner, name = z.read_bytes(), f"evidence-{levels - i}.zip"
    z.unlink()
    with_attachment(path, slug, "Quality Mark evidence", ATTACHED_BODY, "evidence.zip",
                    "application/zip", lambda: [base64.encodebytes(inner)])


def minimal_parts(path: Path, slug: str) -> None:
    """As many minimal parts (`--b`, blank line, `x`: 7 bytes each) as fit under 25 MiB, after
    a first part with the grid typed in it."""
    unit = b"--b\n\nx\n"
    n = (25 * 1024 * 1024 - 64 * 1024) // len(unit) // 10000 * 10000

    def gen() -> Iterator[bytes]:
        yield ("--b\nContent-Type: text/plain; charset=us-ascii\n\n" + GRID_BODY + "\n").encode()
        block = unit * 10000
        for _ in range(n // 10000):
            yield block
        yield b"--b--\n"
    msg = Message()
    msg["Content-Type"] = 'multipart/mixed; boundary="b"'
    msg.set_payload("@@PARTS@@")
    write_eml(path, envelope(msg, slug, "Our re-scores"), {"@@PARTS@@": gen})


def minimal_headers(path: Path, slug: str) -> None:
    """As many minimal header lines (`X:a`) as fit in ~20 MB (so the .eml stays under 25 MiB);
    the grid typed in the body."""
    unit = b"X:a\n"
    n = 20 * 1024 * 1024 // len(unit) // 10000 * 10000

    def gen() -> Iterator[bytes]:
        block = unit * 10000
        for _ in range(n // 10000):
            yield block
    msg = MIMEText(GRID_BODY, "plain", "us-ascii")
    write_eml(path, envelope(msg, slug, "Our re-scores"), extra_headers=gen)


def random_attachment(name: str, ctype: str, size: int, body: str):
    def make(path: Path, slug: str) -> None:
        with_attachment(path, slug, "Quality Mark evidence", body, name, ctype, b64_random(size))
    return make


def just_under_limit(path: Path, slug: str) -> None:
    """Random bytes named evidence.pdf, sized so the whole .eml is just under 25 MiB."""
    limit = 25 * 1024 * 1024
    probe = path.with_suffix(".probe")
    random_attachment("evidence.pdf", "application/pdf", 0, GRID_BODY)(probe, slug)
    overhead = probe.stat().st_size
    probe.unlink()
    room = limit - overhead - 64 * 1024  # keep 64 KB in hand
    size = room // 77 * B64_LINE  # 77 bytes of base64 (with newline) per 57 raw
    random_attachment("evidence.pdf", "application/pdf", size, GRID_BODY)(path, slug)
    assert path.stat().st_size < limit, path.stat().st_size


def long_subject(path: Path, slug: str, size: int = 10 * 1024 * 1024) -> None:
    """One Subject header of ~10 MB folded over many lines; the grid typed in the body."""
    def gen() -> Iterator[bytes]:
        line = " Re-scoring grid for the Quality Mark and the Quality Lead, Oxfordshire" + "\n"
        n = size // len(line)
        yield b"Subject: Our re-scores\n"
        block = (line * 1000).encode()
        for _ in range(n // 1000):
            yield block
        yield (line * (n % 1000)).encode()
    msg = MIMEText(GRID_BODY, "plain", "us-ascii")
    write_eml(path, envelope(msg, slug, None), extra_headers=gen)


def junk_headers(path: Path, slug: str, n: int = 100_000) -> None:
    """100,000 `X-Junk:` header lines (~10 MB); the grid typed in the body."""
    def gen() -> Iterator[bytes]:
        buf = []
        for i in range(n):
            buf.append(f"X-Junk: {i:06d} " + "x" * 90 + "\n")
            if len(buf) == 10000:
                yield "".join(buf).encode()
                buf = []
        yield "".join(buf).encode()
    msg = MIMEText(GRID_BODY, "plain", "us-ascii")
    write_eml(path, envelope(msg, slug, "Our re-scores"), extra_headers=gen)


def invalid_utf8(path: Path, slug: str) -> None:
    """Raw bytes that are not UTF-8 in the Subject, the From name and the body (8bit,
    declared utf-8), around a grid typed in the body."""
    body = GRID_BODY.replace("Here are", "@@BAD1@@ Here are").replace("Statement 5:", "Statement 5 @@BAD2@@:")
    msg = MIMEText(body, "plain", "us-ascii")
    msg.replace_header("Content-Type", 'text/plain; charset="utf-8"')
    msg.replace_header("Content-Transfer-Encoding", "8bit")
    envelope(msg, slug, "Our re-scores @@BAD3@@")
    msg.replace_header("From", "@@BAD4@@ <send.lead@oxfordshire.example>")
    write_eml(path, msg, replace={
        b"@@BAD1@@": b"\xff\xfe\xc3\x28 \xe2\x82 \xf0\x28\x8c\xbc \xc0\xaf",
        b"@@BAD2@@": b"\xed\xa0\x80\x80",
        b"@@BAD3@@": b"\xc3\x28\xa0\xa1 R\xe9sum\xe9 \xf8\x88\x80\x80\x80",
        b"@@BAD4@@": b"Jane Cart\xe9r \xff",
    })


def unknown_charset(path: Path, slug: str) -> None:
    """charset=x-made-up on the body (8bit, with high bytes) and in encoded words."""
    body = GRID_BODY.replace("agreed by", "agreed \xa7\xa7 by")
    msg = Message()
    msg["Content-Type"] = 'text/plain; charset="x-made-up"'
    msg["Content-Transfer-Encoding"] = "8bit"
    msg.set_payload("@@BODY@@")
    envelope(msg, slug, "=?x-made-up?Q?Our_re-scores_=A7=A7?=")
    data = body.encode("latin-1")
    write_eml(path, msg, {"@@BODY@@": lambda: [data]})


def mixed_encodings(path: Path, slug: str) -> None:
    """Encoded words in four charsets in one Subject, a windows-1252 From name, a UTF-16
    text/plain (base64) and an ISO-8859-1 text/html (quoted-printable), both with the grid,
    and an attachment whose name is RFC 2231 in KOI8-R."""
    from email.charset import QP, Charset
    alt = MIMEMultipart("alternative", boundary="=_alt")
    plain = MIMEBase("text", "plain", charset="utf-16")
    plain.set_payload(("Grille – résumé des notes\n\n" + GRID_BODY).encode("utf-16"))
    from email import encoders
    encoders.encode_base64(plain)
    alt.attach(plain)
    cs = Charset("iso-8859-1")
    cs.body_encoding = QP
    rows = "".join(f"<tr><td>Statement {s}</td><td>{v}</td></tr>" for s, v in SCORES.items())
    alt.attach(MIMEText(f"<html><body><p>Voil&agrave; nos notes - résumé</p><table>{rows}</table></body></html>",
                        "html", cs))
    root = MIMEMultipart("mixed", boundary="=_mixed")
    root.attach(alt)
    note = MIMEBase("text", "plain")
    note.set_payload("Заметки".encode("koi8-r"))
    encoders.encode_base64(note)
    note.add_header("Content-Disposition", "attachment", filename=("koi8-r", "", "Заметки.txt"))
    root.attach(note)
    subject = " ".join([
        Header("Résumé", "iso-8859-1").encode(),
        Header("оценки", "koi8-r").encode(),
        Header("スコア", "iso-2022-jp").encode(),
        Header("– re-scores ✓", "utf-8").encode(),
    ])
    envelope(root, slug, subject)
    root.replace_header("From", Header("Jane Cartér", "windows-1252").encode()
                        + " <send.lead@oxfordshire.example>")
    write_eml(path, root)


def garbage_base64(path: Path, slug: str) -> None:
    """A base64 text/plain body (the grid) with characters outside the base64 alphabet
    scattered through it (RFC 2045 6.8: a decoder ignores them)."""
    enc = base64.b64encode(GRID_BODY.encode()).decode()
    junk = "!*~#.%$ \t-_"
    out = []
    for i, ch in enumerate(enc):
        out.append(ch)
        if i % 7 == 3:
            out.append(junk[i % len(junk)])
        if i % 60 == 59:
            out.append("\n")
    text = "".join(out) + "\n"
    msg = Message()
    msg["Content-Type"] = 'text/plain; charset="utf-8"'
    msg["Content-Transfer-Encoding"] = "base64"
    msg.set_payload("@@BODY@@")
    envelope(msg, slug, "Our re-scores")
    data = text.encode()
    write_eml(path, msg, {"@@BODY@@": lambda: [data]})


def million_row_csv(path: Path, slug: str) -> None:
    """A CSV whose first rows are the grid, then 1,000,000 rows of case data (kept short so
    the .eml stays under the 25 MiB message limit)."""
    def rows() -> Iterator[bytes]:
        yield ("Key Statement,Score\n" + "".join(f"{s},{v}\n" for s, v in SCORES.items())
               + "\nCase,Level\n").encode()
        buf = []
        for i in range(1_000_000):
            buf.append(f"YP{i:06d},{i % 10}\n")
            if len(buf) == 50000:
                yield "".join(buf).encode()
                buf = []
        yield "".join(buf).encode()
    with_attachment(path, slug, "Quality Mark re-scoring grid (csv export)", ATTACHED_BODY,
                    "Oxfordshire scores.csv", "text/csv", b64_chunks(rows))


def million_row_xlsx(path: Path, slug: str) -> None:
    z = path.with_suffix(".attachment")
    write_zip(z, xlsx_entries(million_row_sheet))
    with_attachment(path, slug, "Quality Mark re-scoring grid", ATTACHED_BODY, "Grid.xlsx",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b64_file(z))
    z.unlink()


def control(path: Path, slug: str) -> None:
    write_eml(path, envelope(MIMEText(GRID_BODY, "plain", "us-ascii"), slug, "Our re-scores"))


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
MB = 1_000_000


@dataclass
class Case:
    name: str
    make: Callable[[Path, str], None]
    expect_class: str | None = None  # what a correct reading gives (a warning when not)
    expect_codes: tuple[str, ...] = ()  # each must appear ("a|b": either)
    control: bool = False  # the run fails unless the classification is as expected
    note: str = ""


CASES = [
    Case("zip-bomb-zip", zip_case(bomb_zip, "evidence.zip", "application/zip", False),
         "no_grid", ("decompression_limit",), note="2 GB of zeros, sizes declared honestly"),
    Case("zip-bomb-zip-lying-size", zip_case(bomb_zip, "evidence.zip", "application/zip", True),
         "no_grid", ("decompression_limit|corrupt_attachment",), note="the same, central directory says 4 KB"),
    Case("zip-bomb-xlsx", zip_case(bomb_xlsx, "Grid.xlsx", XLSX, False),
         "no_grid", ("decompression_limit",), note="sheet1.xml of ~2 GB of <row></row>"),
    Case("zip-bomb-xlsx-lying-size", zip_case(bomb_xlsx, "Grid.xlsx", XLSX, True),
         "no_grid", ("decompression_limit|corrupt_attachment",)),
    Case("zip-bomb-docx", zip_case(bomb_docx, "Grid.docx", DOCX, False),
         "no_grid", ("decompression_limit",), note="document.xml of ~2 GB of table rows"),
    Case("zip-bomb-docx-lying-size", zip_case(bomb_docx, "Grid.docx", DOCX, True),
         "no_grid", ("decompression_limit|corrupt_attachment",)),
    Case("zip-bomb-ods", zip_case(bomb_ods, "Grid.ods", ODS, False),
         "no_grid", ("decompression_limit",), note="content.xml of ~2 GB of table rows"),
    Case("zip-bomb-ods-lying-size", zip_case(bomb_ods, "Grid.ods", ODS, True),
         "no_grid", ("decompression_limit|corrupt_attachment",)),
    Case("nested-multipart-1000", nested_multipart, "submission",
         note="grid typed in the innermost part"),
    Case("nested-rfc822-200", nested_rfc822, "no_grid", ("decompression_limit",),
         note="Grid.csv in the innermost message, past the 8-level nesting limit"),
    Case("zip-in-zip-12-deep", nested_zip, "no_grid", ("decompression_limit",),
         note="Grid.csv inside 12 nested zips, past the 8-level nesting limit"),
    Case("parts-100k-inline", lambda p, s: many_parts(p, s, False), "submission"),
    Case("parts-100k-attached", lambda p, s: many_parts(p, s, True), "submission",
         ("decompression_limit",), note="past the 500-file limit"),
    Case("parts-3.7M-minimal-under-25MiB", minimal_parts, "no_grid", ("malformed_message",),
         note="the most parts a message under the size limit can carry: past 200,000 parts only the header is read"),
    Case("random-50MB-Grid.xlsx", random_attachment("Grid.xlsx", XLSX, 50 * MB, ATTACHED_BODY),
         "no_grid", ("message_too_large",)),
    Case("random-24MB-evidence.pdf",
         random_attachment("evidence.pdf", "application/pdf", 24 * MB, GRID_BODY),
         "no_grid", ("message_too_large",),
         note="24 MB is ~32 MB once base64-encoded: over the message limit"),
    Case("random-evidence.pdf-eml-just-under-25MiB", just_under_limit, "submission",
         ("corrupt_attachment",), note="grid typed in the body"),
    Case("header-10MB-subject", long_subject, "submission", ("malformed_message",)),
    Case("header-100k-x-junk", junk_headers, "submission", ("malformed_message",)),
    Case("header-5M-minimal-lines", minimal_headers, "submission", ("malformed_message",),
         note="5.2 million 4-byte header lines (20 MB): cut to the standard fields"),
    Case("invalid-utf8-headers-body", invalid_utf8, "submission"),
    Case("unknown-charset-x-made-up", unknown_charset, "submission"),
    Case("mixed-encodings", mixed_encodings, "submission"),
    Case("base64-body-with-garbage", garbage_base64, "submission"),
    Case("csv-1M-rows", million_row_csv, "submission"),
    Case("xlsx-1M-rows", million_row_xlsx, "submission"),
    Case("control-grid-in-body", control, "submission", control=True),
]


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------

@dataclass
class Result:
    case: Case
    size: int
    status: str = ""
    exit_ok: bool = False
    seconds: float = 0.0
    rss_mb: float = 0.0
    classification: str = ""
    codes: list[str] = field(default_factory=list)
    output: str = ""
    stderr: str = ""
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def human_size(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f} MiB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.0f} KiB"
    return f"{n} B"


def guard() -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))
    except (ValueError, OSError):
        pass


def run_one(binary: Path, config: Path, eml: Path, workdir: Path, gnu_time: str | None):
    """Runs check on one file; returns (status text, exit ok, seconds, rss MB, stdout, stderr)."""
    cmd = [str(binary), "--config", str(config), "check", "--json", str(eml)]
    tfile = workdir / "time.out"
    if gnu_time:
        cmd = [gnu_time, "-f", "%e %M", "-o", str(tfile), *cmd]
    out_f = open(workdir / "stdout", "w+b")
    err_f = open(workdir / "stderr", "w+b")
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, cwd=ROOT, start_new_session=True,
                            preexec_fn=guard)
    killed = False
    while True:
        pid, wstatus, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > HARD_TIMEOUT:
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            pid, wstatus, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(wstatus)
    wall = time.monotonic() - start
    out_f.seek(0)
    err_f.seek(0)
    stdout = out_f.read().decode("utf-8", "replace")
    stderr = err_f.read().decode("utf-8", "replace")
    out_f.close()
    err_f.close()
    seconds, rss_kb = wall, float(usage.ru_maxrss)
    code = proc.returncode
    signame = None
    if gnu_time and tfile.exists():
        lines = tfile.read_text().strip().splitlines()
        for ln in lines:
            if ln.startswith("Command terminated by signal"):
                signame = ln.rsplit(" ", 1)[-1]
        if lines:
            try:
                e, m = lines[-1].split()
                seconds, rss_kb = float(e), float(m)
            except ValueError:
                pass
        tfile.unlink()
    if killed:
        status = f"killed after {HARD_TIMEOUT:.0f} s"
    elif signame:
        try:
            status = f"signal {signal.Signals(int(signame)).name}"
        except ValueError:
            status = f"signal {signame}"
    elif code < 0:
        status = f"signal {signal.Signals(-code).name}"
    else:
        status = str(code)
    return status, (not killed and not signame and code == 0), seconds, rss_kb / 1024, stdout, stderr


def evaluate(case: Case, res: Result) -> None:
    if not res.exit_ok:
        res.failures.append(f"exit status {res.status}")
    if res.seconds > MAX_SECONDS:
        res.failures.append(f"took {res.seconds:.1f} s (> {MAX_SECONDS:.0f} s)")
    if res.rss_mb > MAX_RSS_MB:
        res.failures.append(f"peak RSS {res.rss_mb:.0f} MB (> {MAX_RSS_MB:.0f} MB)")
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    obj = None
    if len(lines) != 1:
        res.failures.append(f"expected one JSON line, got {len(lines)}")
    else:
        try:
            obj = json.loads(lines[0])
        except json.JSONDecodeError as e:
            res.failures.append(f"invalid JSON: {e}")
    if isinstance(obj, dict):
        res.classification = str(obj.get("classification", obj.get("error", "?")))
        res.codes = [str(p.get("code")) for p in obj.get("problems") or [] if isinstance(p, dict)]
        if "classification" not in obj:
            res.failures.append("no classification in the output")
    elif obj is not None:
        res.failures.append("output is not a JSON object")
    if case.expect_class and res.classification and res.classification != case.expect_class:
        msg = f"classified {res.classification}, expected {case.expect_class}"
        (res.failures if case.control else res.warnings).append(msg)
    for c in case.expect_codes:  # "a|b": either will do
        if obj is not None and not set(c.split("|")) & set(res.codes):
            res.warnings.append(f"no {' or '.join(c.split('|'))} problem")


def codes_text(codes: list[str]) -> str:
    seen: dict[str, int] = {}
    for c in codes:
        seen[c] = seen.get(c, 0) + 1
    return ", ".join(c if n == 1 else f"{c} ×{n}" for c, n in seen.items()) or "—"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", type=Path, default=ROOT / "target/release/yjsend")
    ap.add_argument("--config", type=Path, default=ROOT / "fixtures/config/yjsend.toml")
    ap.add_argument("--only", default="", help="comma-separated words; run cases whose name contains one")
    ap.add_argument("--keep", action="store_true", help="keep the generated corpus")
    ap.add_argument("--json-out", type=Path, help="write each case's output (JSON Lines) here")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args()

    cases = CASES
    if args.only:
        words = [w.strip() for w in args.only.split(",") if w.strip()]
        cases = [c for c in CASES if any(w in c.name for w in words)]
    if args.list:
        for c in cases:
            print(f"{c.name}: {c.note}" if c.note else c.name)
        return 0
    if not args.bin.exists():
        print(f"{args.bin} is missing: run `cargo build --release --locked` first", file=sys.stderr)
        return 2
    gnu_time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    if not gnu_time:
        print("note: /usr/bin/time not found (apt-get install time); using wait4 rusage",
              file=sys.stderr)

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="yjsend-hostile-"))
    results: list[Result] = []
    json_out = open(args.json_out, "w") if args.json_out else None
    try:
        for i, case in enumerate(cases, start=1):
            eml = tmp / f"{i:02d}-{case.name}.eml"
            t0 = time.monotonic()
            case.make(eml, case.name)
            gen_s = time.monotonic() - t0
            res = Result(case, eml.stat().st_size)
            (res.status, res.exit_ok, res.seconds, res.rss_mb, res.output,
             res.stderr) = run_one(args.bin, args.config, eml, tmp, gnu_time)
            evaluate(case, res)
            results.append(res)
            print(f"[{i}/{len(cases)}] {case.name}: built in {gen_s:.1f} s, "
                  f"{human_size(res.size)}; exit {res.status}, {res.seconds:.2f} s, "
                  f"{res.rss_mb:.0f} MB", file=sys.stderr, flush=True)
            if json_out:
                json_out.write(json.dumps({"case": case.name, "size": res.size, "status": res.status,
                                           "seconds": res.seconds, "rss_mb": round(res.rss_mb, 1),
                                           "stdout": res.output, "stderr": res.stderr[-4000:]}) + "\n")
                json_out.flush()
            if not args.keep:
                eml.unlink()
    finally:
        if json_out:
            json_out.close()
        if args.keep:
            print(f"corpus kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print("| case | size of the .eml | exit status | time (s) | peak RSS (MB) | classification | problem codes |")
    print("|---|---:|---|---:|---:|---|---|")
    for r in results:
        flag = " **FAIL**" if r.failures else ""
        print(f"| {r.case.name}{flag} | {human_size(r.size)} | {r.status} | {r.seconds:.2f} | "
              f"{r.rss_mb:.1f} | {r.classification or '—'} | {codes_text(r.codes)} |")
    total = time.monotonic() - started
    print(f"\n{len(results)} cases in {total:.0f} s (generation included); limits: "
          f"{MAX_SECONDS:.0f} s and {MAX_RSS_MB:.0f} MB per message.")
    failed = [r for r in results if r.failures]
    warned = [r for r in results if r.warnings]
    if warned:
        print("\nLooked wrong (not fatal):")
        for r in warned:
            print(f"- {r.case.name}: " + "; ".join(r.warnings))
    if failed:
        print("\nFAILED:")
        for r in failed:
            tail = r.stderr.strip().splitlines()[-3:]
            print(f"- {r.case.name}: " + "; ".join(r.failures)
                  + (f" (stderr: {' | '.join(tail)})" if tail else ""))
        return 1
    print("\nEvery case within the limits.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

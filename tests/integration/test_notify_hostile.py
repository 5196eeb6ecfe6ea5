#!/usr/bin/python3
"""Hostile participant data cannot inject headers into the agenda e-mails.

What the importer lets through is sent: cooperante names with CR/LF followed by header lines
("Bcc: ...", "X-Injected: ..."), a blank line and a fake body, quotes and angle brackets with
a fake address, RFC 2047 look-alikes, and a 200-byte name of accented letters. Each message
still parses (email, policy.default) with exactly the expected header fields (no Bcc, no
X-Injected, one To), goes to the participant's own address only (the server's envelope), and
shows the name cleaned (line breaks as spaces) in To and in the greeting. An address the
importer accepts but a mail header must not carry ("x@.dominio.ec") ends failed with the
reason, and is not sent. What the importer refuses (an address with CR/LF, a name that is not
UTF-8) is refused with exit 1; the MIME builder's own defences against those are unit-tested
(tests/unit/test_mail.c).
"""
import csv
import io
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from notify_lib import EVENT, Env, check, fail  # noqa: E402

HOSTILE = [
    "Agencia\r\nBcc: victima@example.com",
    "Malvada\nX-Injected: 1\n\ncuerpo falso",
    "\"Jefe\" <jefe@evil.example>, otro@evil.example",
    "=?UTF-8?B?SG9sYQ==?= Agencia =?iso-8859-1?q?x?=",
    "Ñandú " + "áéíóú" * 19,  # 200 bytes
]
WANT_FIELDS = {"from", "to", "subject", "date", "message-id", "mime-version", "x-minga-event",
               "x-minga-party", "x-minga-version", "content-type"}


def clean(s):
    return re.sub(r"\s+", " ", s).strip()


def nospace(s):
    return re.sub(r"\s+", "", s)


def rewrite(path, key, col, values):
    raw = open(path, encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(raw, newline=""), delimiter=";"))
    hdr = rows[0]
    for r in rows[1:]:
        if r[hdr.index(key)] in values:
            r[hdr.index(col)] = values[r[hdr.index(key)]]
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(rows)


def main():
    env = Env()
    data = os.path.join(env.store, "data")
    parts = env.participants()
    coops = [p["party"] for p in parts if p["kind"] == "cooperante" and p.get("email")]
    victims = dict(zip(coops[:len(HOSTILE)], HOSTILE))
    rewrite(os.path.join(data, "cooperantes.csv"), "id", "nombre", victims)
    env.m("import", "cooperantes", os.path.join(data, "cooperantes.csv"), check_rc=True)
    bad_party = coops[len(HOSTILE)]
    ppath = os.path.join(data, "participants.csv")
    rewrite(ppath, "party", "email", {bad_party: "x@.dominio.ec"})
    env.m("import", "participants", ppath, "--event", EVENT, check_rc=True)
    # what the importer refuses stays out
    evil = os.path.join(env.store, "evil.csv")
    with open(evil, "wb") as f:
        f.write(b"party;kind;min_meetings;max_meetings;tables;available_slots;email\r\n")
        f.write(("%s;cooperante;0;5;1;;\"a@b.ec\r\nBcc: x@y.ec\"\r\n" % coops[0]).encode())
    rc, out, err = env.m("import", "participants", evil, "--event", EVENT)
    check(rc == 1, "an e-mail with CR/LF was imported (exit %d)" % rc)
    with open(evil, "wb") as f:
        f.write("id;nombre;tipo;subtipo;país;idiomas;correo;gad;actualizado\r\n".encode())
        f.write(b"coop-99999;Mal\xff\xfe;bilateral;;Espa\xf1a;es;a@b.ec;;2024-01-01\r\n")
    rc, out, err = env.m("import", "cooperantes", evil)
    check(rc == 1, "a name that is not UTF-8 was imported (exit %d)" % rc)

    emails = {p["party"]: p.get("email") for p in parts}
    emails[bad_party] = "x@.dominio.ec"
    env.up(notify=1)
    rc, out, err = env.m("notify", EVENT)
    if rc:
        env.logs()
        fail("notify: %s %s" % (out, err))
    check("1 fallidos" in out, "summary: %r" % out)
    msgs = {m["X-Minga-Party"]: m for m in env.messages()}
    check(bad_party not in msgs, "the message to x@.dominio.ec was sent")
    failed = env.outbox("--state", "failed")
    check([r["party"] for r in failed] == [bad_party], "failed: %r" % failed)
    check("no válida" in failed[0]["error"], "reason: %r" % failed[0]["error"])
    log = [json.loads(line) for line in open(os.path.join(env.maildir, "log.jsonl"))]
    rcpt = {}
    for entry in log:
        rcpt.setdefault(entry["message_id"], []).extend(entry["rcpt"])
    for party, name in victims.items():
        m = msgs.get(party)
        check(m is not None, "no message for %s" % party)
        fields = {k.lower() for k in m.keys()}
        check(fields == WANT_FIELDS, "%s: header fields %r" % (party, sorted(fields)))
        check(len(m.get_all("To")) == 1, "%s: To fields" % party)
        to = m["To"].addresses
        check(len(to) == 1 and to[0].addr_spec == emails[party], "%s: To %r" % (party, to))
        # Python's address parser keeps the folding space between two encoded words (RFC 2047
        # says to drop it), so a long word split across words comes back with a space in it
        check(nospace(to[0].display_name) == nospace(name),
              "%s: display name %r, want %r" % (party, to[0].display_name, clean(name)))
        check(rcpt[m["Message-ID"]] == [emails[party]], "%s: envelope %r" % (party,
                                                                           rcpt[m["Message-ID"]]))
        text = m.get_body(("plain",)).get_content()
        check(text.startswith("Estimados representantes de " + clean(name) + ":"),
              "%s: greeting %r" % (party, text[:120]))
        html = m.get_body(("html",)).get_content()
        check("<jefe@" not in html, "%s: raw angle brackets in the HTML" % party)
    print("%d hostile names sent clean, 1 bad address refused" % len(victims))


if __name__ == "__main__":
    main()

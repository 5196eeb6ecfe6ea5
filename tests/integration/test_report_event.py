#!/usr/bin/python3
"""The reports of the default Jornada, through the broker and a minga-report-worker, checked
the way a person sees them (DESIGN.md §8, issue 8):

- `minga report EVENT` waits, exits 0 and prints the paths of every file; `--detach` prints a
  job id; a missing event exits 1, a bad format 2;
- the CSV files open with Python's csv module (';', UTF-8 BOM); reuniones.csv and
  candidatos.csv hold the rows of `minga export meetings|candidates`, in the same order, with
  decimal commas and local dates; agendas.csv has every participant (one with no meeting says
  so); brecha.csv lists exactly the demands no candidate covers, recomputed here;
- informe.html loads in headless Chromium with no console message (its Content-Security-Policy
  makes any request a console error) and a screenshot that is not blank; it holds no
  reference out of the file; its figures (meetings, per province, Gini, gap) agree with totals
  recomputed here from the exports; printed to PDF by Chromium it holds every section;
- the PDFs render with pdftoppm (pages counted, not blank); the text layer of an agenda holds
  the participant's name with its accents and its counterparts; a participant with no meeting
  gets an agenda that says so; the grid has the pages the venue needs.
"""
import csv
import glob
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

E = "jornada-2026"
BIN = os.environ.get("MINGA_BIN", "")
STORE = tempfile.mkdtemp(prefix="minga-", dir="/tmp")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def m(*args, check=True, timeout=120):
    p = subprocess.run(["minga", "--store", STORE, "--timeout", "10"] + list(args),
                       capture_output=True, text=True, errors="replace", timeout=timeout)
    if check and p.returncode != 0:
        fail("minga %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr[-2000:]))
    return p


def rows(text):
    assert text.startswith("\ufeff"), "no BOM"
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def read_csv(path):
    with open(path, encoding="utf-8") as f:
        return rows(f.read())


def dec(text):
    """'87,25' -> 87.25, from the Spanish files."""
    return float(text.replace(",", "."))


def gini(values):
    v = sorted(values)
    n, s = len(v), sum(v)
    if n < 2 or s == 0:
        return 0.0
    return sum((2 * (i + 1) - n - 1) * x for i, x in enumerate(v)) / (n * s)


def pdf_pages(path):
    out = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


def ink(pgm):
    """Share of pixels darker than near-white in a binary PGM (P5) file."""
    with open(pgm, "rb") as f:
        data = f.read()
    parts = data.split(maxsplit=4)
    w, h = int(parts[1]), int(parts[2])
    pixels = parts[4][-w * h:]
    return sum(1 for b in pixels if b < 200) / float(w * h)


def render(pdf, prefix):
    """Renders every page at 30 dpi in grey; returns the ink share of each page."""
    subprocess.run(["pdftoppm", "-r", "30", "-gray", pdf, prefix], check=True)
    return [ink(p) for p in sorted(glob.glob(prefix + "*.pgm"))]


def lap(what, t=[time.time()]):
    now = time.time()
    print("%-10s %5.1f s" % (what, now - t[0]))
    t[0] = now


def main():
    t0 = time.time()
    data = os.path.join(STORE, "data")
    m("init")
    m("demo-data", "--out", data)
    for k in ("gads", "cooperantes", "offers", "demands", "events"):
        m("import", k, os.path.join(data, k + ".csv"))
    for k in ("participants", "preferences"):
        m("import", k, os.path.join(data, k + ".csv"), "--event", E)
    # a GAD that did not register comes late, with no room for a meeting (max 0): it must
    # still get an agenda that says it has none
    cantons = rows(m("codes", "cantons", "--format", "csv").stdout)[1:]
    parts_csv = m("export", "participants", "--event", E).stdout
    registered = {r[0] for r in rows(parts_csv)[1:]}
    lonely = next(c for c in cantons if c[0] not in registered)
    head = rows(parts_csv)[0]
    extra = {h: "" for h in head}
    extra.update({"party": lonely[0], "kind": "gad", "min_meetings": "0", "max_meetings": "0"})
    lone_file = os.path.join(STORE, "lonely.csv")
    with open(lone_file, "w", encoding="utf-8") as f:
        f.write("\ufeff" + ";".join(head) + "\n" + ";".join(extra[h] for h in head) + "\n")
    m("import", "participants", lone_file, "--event", E)
    m("up", "--match-workers", "2", "--report-workers", "1", "--notify-workers", "0",
      "--test-workers", "0")
    m("rueda", "score", E)
    m("rueda", "schedule", E)
    lap("prepared")

    # errors first: usage, a missing event
    if m("report", check=False).returncode != 2:
        fail("minga report without an event must exit 2")
    if m("report", E, "--format", "xls", check=False).returncode != 2:
        fail("--format xls must exit 2")
    if m("report", "no-such-event", check=False).returncode != 1:
        fail("a missing event must exit 1")
    detached = m("report", E, "--format", "csv", "--detach").stdout.split()
    if len(detached) != 1 or not detached[0].isdigit():
        fail("--detach printed %r" % detached)
    if m("wait", detached[0]).stdout.split()[1] != "done":
        fail("the detached job did not end done")

    t_rep = time.time()
    out = m("report", E).stdout.split()
    t_rep = time.time() - t_rep
    d = os.path.join(os.path.realpath(STORE), "reports", E)
    want = ["agendas.csv", "agendas/", "brecha.csv", "candidatos.csv", "grilla.pdf",
            "informe.html", "reuniones.csv"]
    got = sorted(p[len(d) + 1:] for p in out)
    if got != want:
        fail("paths printed: %s, want %s under %s" % (got, want, d))

    lap("reports")
    # ---- CSV against the exports ----
    ex_meet = rows(m("export", "meetings", "--event", E).stdout)
    ex_cand = rows(m("export", "candidates", "--event", E).stdout)
    ex_parts = rows(m("export", "participants", "--event", E).stdout)
    ex_dem = rows(m("export", "demands").stdout)
    meet = read_csv(os.path.join(d, "reuniones.csv"))
    cand = read_csv(os.path.join(d, "candidatos.csv"))
    if meet[0][:5] != ["Franja", "Fecha", "Inicio", "Fin", "Mesa"]:
        fail("reuniones.csv header: %s" % meet[0])
    if len(meet) != len(ex_meet) or len(ex_meet) < 100:
        fail("reuniones.csv has %d rows, the export %d" % (len(meet) - 1, len(ex_meet) - 1))
    status_es = {"scheduled": "programada", "held": "realizada", "noshow": "no asistió"}
    for r, x in zip(meet[1:], ex_meet[1:]):
        # export: slot;start;end;table;gad;cooperante;demand_id;offer_id;score;status
        start = x[1]  # 2026-11-12T09:00:00-05:00
        local_date = "%s/%s/%s" % (start[8:10], start[5:7], start[0:4])
        if (r[0], r[1], r[2], r[3], r[4]) != (x[0], local_date, start[11:16], x[2][11:16], x[3]):
            fail("meeting row %s does not match the export's %s" % (r[:5], x))
        if (r[5], r[8], r[10], r[12]) != (x[4], x[5], x[6], x[7]):
            fail("meeting parties %s vs export %s" % (r, x))
        if abs(dec(r[14]) - float(x[8])) > 1e-9 or "." in r[14]:
            fail("score %s vs %s" % (r[14], x[8]))
        if r[15] != status_es[x[9]]:
            fail("status %s vs %s" % (r[15], x[9]))
    if len(cand) != len(ex_cand):
        fail("candidatos.csv has %d rows, the export %d" % (len(cand), len(ex_cand)))
    for r, x in zip(cand[1:], ex_cand[1:]):
        # export: demand_id;gad;offer_id;cooperante;rank;score;reasons
        if (r[0], r[1], r[3], r[4], r[6]) != (x[0], x[1], x[2], x[3], x[4]) or \
                abs(dec(r[7]) - float(x[5])) > 1e-9 or r[8] != x[6]:
            fail("candidate row %s vs export %s" % (r, x))

    agendas = read_csv(os.path.join(d, "agendas.csv"))
    parties = {r[0] for r in ex_parts[1:]}
    if {r[0] for r in agendas[1:]} != parties:
        fail("agendas.csv does not list every participant")
    with_meeting = [r for r in agendas[1:] if r[3]]
    if len(with_meeting) != 2 * (len(ex_meet) - 1):
        fail("agendas.csv: %d meeting rows, want 2 x %d" % (len(with_meeting), len(ex_meet) - 1))
    lonely_rows = [r for r in agendas[1:] if r[0] == lonely[0]]
    if len(lonely_rows) != 1 or lonely_rows[0][13] != "sin reuniones asignadas":
        fail("the participant with no meeting: %s" % lonely_rows)

    covered = {r[0] for r in ex_cand[1:]}
    uncovered = {r[0] for r in ex_dem[1:]} - covered
    gap = read_csv(os.path.join(d, "brecha.csv"))
    if {r[5] for r in gap[1:]} != uncovered or len(gap) - 1 != len(uncovered):
        fail("brecha.csv: %d demands, %d recomputed" % (len(gap) - 1, len(uncovered)))
    if not uncovered:
        fail("the Jornada has no gap at all: the test would prove nothing")

    # ---- HTML ----
    html_path = os.path.join(d, "informe.html")
    with open(html_path, encoding="utf-8") as f:
        html = f.read()
    for bad in ("http:", "https:", "src=", "url(", "<script", "<link", "@import", "<img"):
        if bad in html:
            fail("informe.html holds %r" % bad)
    if "Content-Security-Policy" not in html or "default-src 'none'" not in html:
        fail("informe.html has no Content-Security-Policy")
    n_meet = len(ex_meet) - 1
    if not re.search(r"<dt>Reuniones</dt><dd>%s</dd>" % "{:,}".format(n_meet).replace(",", "."),
                     html):
        fail("informe.html does not say %d meetings" % n_meet)
    per_prov = {}
    for x in ex_meet[1:]:
        per_prov[x[4][:2]] = per_prov.get(x[4][:2], 0) + 1
    for code, n in per_prov.items():
        if not re.search(r"<tr><td>%s</td><th scope=\"row\">[^<]+</th><td class=\"n\">%d</td>"
                         % (code, n), html):
            fail("province %s: %d meetings not in the report" % (code, n))
    gads = [r[0] for r in ex_parts[1:] if r[1] == "gad"]
    per_gad = {g: 0 for g in gads}
    for x in ex_meet[1:]:
        per_gad[x[4]] = per_gad.get(x[4], 0) + 1
    g = "%.3f" % gini([per_gad[k] for k in gads])
    if "<dt>Gini</dt><dd>%s</dd>" % g.replace(".", ",") not in html:
        fail("Gini %s not in the report" % g)
    if "<strong>%d de %d</strong>" % (len(uncovered), len(ex_dem) - 1) not in html:
        fail("gap %d of %d not in the report" % (len(uncovered), len(ex_dem) - 1))
    for h in ("Reuniones por provincia", "Reuniones por competencia COOTAD",
              "Reuniones por sector CAD", "Reuniones por modalidad", "Reuniones por GAD",
              "Uso de mesas por franja", "Brecha de cobertura",
              "Cooperantes con más demandas cubiertas"):
        if "\">%s</h2>" % h not in html:
            fail("section %r missing" % h)
    if html.count("<svg") != html.count("role=\"img\"") or html.count("<svg") < 9:
        fail("charts: %d svg, %d with role img" % (html.count("<svg"), html.count("role=\"img\"")))

    lap("csv, html")
    shot = os.path.join(STORE, "informe.png")
    prof = os.path.join(STORE, "chromium")
    p = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                        "--user-data-dir=" + prof, "--enable-logging=stderr", "--v=0",
                        "--window-size=1024,2000", "--screenshot=" + shot,
                        "file://" + html_path], capture_output=True, text=True, timeout=90)
    console = [l for l in p.stderr.splitlines() if ":CONSOLE" in l]
    if console:
        fail("browser console: %s" % console[:3])
    if not os.path.exists(shot):
        fail("no screenshot: %s" % p.stderr[-1000:])
    from PIL import Image
    img = Image.open(shot).convert("L")
    hist = img.histogram()
    dark = sum(hist[:200]) / float(img.size[0] * img.size[1])
    if img.size != (1024, 2000) or dark < 0.01:
        fail("screenshot %s looks blank (%.4f dark)" % (img.size, dark))
    blue = Image.open(shot).convert("RGB").getcolors(1 << 20)
    if not any(c[1] == (0x2b, 0x6c, 0xb0) and c[0] > 500 for c in blue):
        fail("no bar of the charts on the screenshot")

    # printed (A4, the page's print CSS): every section is there
    printed = os.path.join(STORE, "informe.pdf")
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    "--user-data-dir=" + prof, "--no-pdf-header-footer",
                    "--print-to-pdf=" + printed, "file://" + html_path],
                   capture_output=True, timeout=90)
    text = subprocess.run(["pdftotext", printed, "-"], capture_output=True, text=True,
                          check=True).stdout
    if pdf_pages(printed) < 5 or "Brecha de cobertura" not in text or \
            "Cooperantes con más demandas cubiertas" not in text:
        fail("informe.html printed: %d pages" % pdf_pages(printed))
    lap("chromium")
    # ---- PDF ----
    agendas_dir = os.path.join(d, "agendas")
    pdfs = sorted(os.listdir(agendas_dir))
    if pdfs != sorted(p + ".pdf" for p in parties):
        fail("agendas/: %d files for %d participants" % (len(pdfs), len(parties)))
    names = {c[0]: c[1] for c in cantons}
    # a GAD with meetings and an accent in its name
    accented = [gd for gd in gads if per_gad.get(gd) and re.search(r"[áéíóúñÁÉÍÓÚÑ]",
                                                                     names.get(gd, ""))]
    if not accented:
        fail("no GAD with meetings has an accented name")
    gd = accented[0]
    text = subprocess.run(["pdftotext", "-layout", os.path.join(agendas_dir, gd + ".pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    if "GAD Municipal de " + names[gd] not in text or "Agenda de reuniones" not in text:
        fail("agenda of %s: name %r not in its text layer" % (gd, names[gd]))
    mine = [x for x in ex_meet[1:] if x[4] == gd]
    if "%d reunion" % len(mine) not in text:
        fail("agenda of %s does not count %d meetings" % (gd, len(mine)))
    for x in mine:
        if "%s–%s" % (x[1][11:16], x[2][11:16]) not in text:
            fail("agenda of %s: time of slot %s missing" % (gd, x[0]))
    inks = render(os.path.join(agendas_dir, gd + ".pdf"), os.path.join(STORE, "ag"))
    if len(inks) != pdf_pages(os.path.join(agendas_dir, gd + ".pdf")) or min(inks) < 0.002:
        fail("agenda pages render blank: %s" % inks)
    text = subprocess.run(["pdftotext", os.path.join(agendas_dir, lonely[0] + ".pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    if "No tiene reuniones asignadas" not in text or names[lonely[0]] not in text:
        fail("the agenda of %s (no meeting) says: %s" % (lonely[0], text[:300]))
    coop = next(x[5] for x in ex_meet[1:])
    text = subprocess.run(["pdftotext", os.path.join(agendas_dir, coop + ".pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    theirs = [x for x in ex_meet[1:] if x[5] == coop]
    if "%d reunion" % len(theirs) not in text or "GAD de " + names[theirs[0][4]] not in text:
        fail("agenda of %s: counterparts missing" % coop)

    # the busiest cooperante: an agenda of several pages, the table's header on each, every
    # meeting's time present, "Página N de M" right
    per_coop = {}
    for x in ex_meet[1:]:
        per_coop.setdefault(x[5], []).append(x)
    busy = max(per_coop, key=lambda c: (len(per_coop[c]), c))
    bpdf = os.path.join(agendas_dir, busy + ".pdf")
    pages = pdf_pages(bpdf)
    text = subprocess.run(["pdftotext", "-layout", bpdf, "-"], capture_output=True, text=True,
                          check=True).stdout
    if pages < 2 or text.count("Tema y motivos") != pages or \
            "Página %d de %d" % (pages, pages) not in text:
        fail("agenda of %s (%d meetings): %d pages, header %d times" %
             (busy, len(per_coop[busy]), pages, text.count("Tema y motivos")))
    for x in per_coop[busy]:
        if "%s–%s" % (x[1][11:16], x[2][11:16]) not in text:
            fail("agenda of %s: slot %s missing" % (busy, x[0]))

    grid = os.path.join(d, "grilla.pdf")
    tables = max(int(x[3]) for x in ex_meet[1:])
    slots = max(int(x[0]) for x in ex_meet[1:])
    pages = pdf_pages(grid)
    # 10 tables across, one day's slots (24 at 20 minutes from 09:00 to 17:00) down
    want_pages = ((tables + 9) // 10) * ((slots + 23) // 24)
    if pages < want_pages:
        fail("grilla.pdf: %d pages, at least %d needed" % (pages, want_pages))
    inks = render(grid, os.path.join(STORE, "grid"))
    if len(inks) != pages or min(inks) < 0.01:
        fail("grid pages: %d rendered of %d, ink %s" % (len(inks), pages, min(inks or [0])))
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", grid, "-"],
                          capture_output=True, text=True, check=True).stdout
    first = [x for x in ex_meet[1:] if int(x[3]) <= 10 and int(x[0]) <= 24][:5]
    for x in first:
        if ("Mesa %s" % x[3]) not in text:
            fail("grid page 1 lacks Mesa %s" % x[3])
    print("ok (report %.1f s, whole test %.1f s)" % (t_rep, time.time() - t0))


if __name__ == "__main__":
    try:
        main()
    finally:
        subprocess.run(["minga", "--store", STORE, "down", "--drain-timeout", "5"],
                       capture_output=True)
        if os.environ.get("MINGA_TEST_KEEP"):
            print("kept " + STORE)
        else:
            shutil.rmtree(STORE, ignore_errors=True)

/*
 * pdf.h: the printable PDFs of an event, drawn with cairo and laid out with pango (so Spanish
 * text with accents is shaped and wrapped properly; DejaVu Sans, which fonts-dejavu-core
 * installs, is embedded in each file):
 *
 *  - a participant's agenda, A4 portrait: the event, the participant, then its meetings as a
 *    table (time, table, counterpart, subject and reasons), the header row repeated on every
 *    page, "Página N de M" at the foot; a participant with no meeting gets a page that says
 *    so;
 *  - the venue's master grid, A4 landscape: slots down, tables across, in pages of at most 10
 *    tables by one day's slots (or 24 of them), each cell with the GAD and the cooperante,
 *    names cut with "…" to stay in their cell at 7 pt.
 *
 * The files are written whole under a temporary name and renamed (report_data.h).
 */
#ifndef MINGA_PDF_H
#define MINGA_PDF_H

#include "minga/report_data.h"

/* Writes the agenda of participant number p of d (0 <= p < d->nparts) to path. Returns 0,
 * MINGA_EINVAL, or -errno / MINGA_EIO when the file could not be written. */
int minga_pdf_agenda(const minga_report_data_t *d, size_t p, const char *path);

/* Writes the venue grid of d to path; *pages (may be NULL) receives its pages. Returns as
 * minga_pdf_agenda(). */
int minga_pdf_grid(const minga_report_data_t *d, const char *path, unsigned *pages);

/* Releases the calling thread's pango font map (its font caches): the next PDF of this
 * thread loads the fonts again. minga_report_event() calls it after its PDFs. */
void minga_pdf_release_thread(void);

/* Releases what cairo and fontconfig keep for the whole process (font caches, the fontconfig
 * configuration). Only at the end of a process, when no thread draws any more: it lets
 * LeakSanitizer see a clean exit. */
void minga_pdf_cleanup(void);

#endif

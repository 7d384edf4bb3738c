"""This module contains the HTML report: one self-contained page with charts and tables.

Everything is inside the file (CSS, SVG charts; no script, font, image or link to fetch), so
it opens from a USB stick or an e-mail attachment and prints to PDF as it shows. A
Content-Security-Policy forbids any request the page could still try.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from bot.i18n import format_time
from bot.monitoring import charts
from bot.monitoring.stats import Summary
from bot.monitoring.tables import (
    Names,
    Table,
    cells,
    heading,
    long_date,
    number,
    office_note,
    tables,
)

CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, sans-serif; color: #222; margin: 2rem auto; max-width: 60rem;
       padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
.note { color: #555; font-size: 0.9rem; }
.figures { display: flex; flex-wrap: wrap; gap: 0.8rem; margin: 1rem 0; }
.figures div { border: 1px solid #ddd; border-radius: 4px; padding: 0.5rem 0.8rem; }
.figures strong { display: block; font-size: 1.4rem; }
figure { margin: 1rem 0; break-inside: avoid; }
figcaption { font-weight: bold; margin-bottom: 0.3rem; }
svg.chart { width: 100%; height: auto; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; break-inside: auto; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f2f2f2; }
@page { size: A4; margin: 14mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
}
"""
NUMBER = '<td class="n">'
#: No request of any kind: styles and charts are inline.
POLICY = "default-src 'none'; style-src 'unsafe-inline'"
PRIVACY = (
    "Dati anonimi: il bot registra solo l'ora (senza minuti), il canale, la lingua, l'area e "
    "l'argomento consultati, gli appuntamenti per servizio e sede, i promemoria di scadenze "
    "per tipo; mai il testo dei messaggi, nomi, numeri di telefono o le date delle scadenze. "
    "Le persone sono contate tramite uno pseudonimo a senso unico che cambia ogni anno."
)


def render(
    summary: Summary,
    names: Names | None = None,
    generated: datetime | None = None,
) -> str:
    """The whole page; ``names`` turns the ids of topics, services and offices into their
    Italian names (from the content); ``generated`` is the moment printed under the title
    (in the counter's time zone)."""
    names = names or Names()
    figures = [
        (
            "Consultazioni per mese e area",
            charts.months_by_area(summary, lambda area: names.of("area", area)),
        ),
        ("Lingue", charts.languages(summary, lambda code: names.of("language", code))),
        (
            "Tasso di assenza agli appuntamenti per servizio",
            charts.no_show_rates(summary, lambda service: names.of("service", service)),
        ),
        (
            "Domande senza risposta diretta, per argomento più vicino",
            charts.unanswered_topics(summary, lambda topic: names.of("topic", topic)),
        ),
    ]
    title = escape(heading(summary, names))
    moment = generated or datetime.now()
    note = office_note(summary)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="it">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{title}</h1>",
        *([f'<p class="note office">{escape(note)}</p>'] if note else []),
        f'<p class="note">Generato il {long_date(moment.date())} alle '
        f"{format_time(moment, 'it')}. {escape(PRIVACY)}</p>",
        _key_figures(summary),
        "<h2>Grafici</h2>",
    ]
    for caption, svg in figures:
        parts.append("<figure>")
        parts.append(f"<figcaption>{escape(caption)}</figcaption>")
        parts.append(svg if svg is not None else '<p class="note">Nessun dato nel periodo.</p>')
        parts.append("</figure>")
    parts.append("<h2>Tabelle</h2>")
    parts.extend(_table(table, names) for table in tables(summary))
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _key_figures(summary: Summary) -> str:
    made = sum(row.made for row in summary.bookings)
    figures = [
        ("consultazioni", summary.consultations),
        ("utenti unici", summary.unique_users),
        ("appuntamenti prenotati", made),
        ("domande senza risposta diretta", sum(row.total for row in summary.unanswered)),
    ]
    items = "".join(
        f"<div><strong>{number(value)}</strong>{escape(label)}</div>" for label, value in figures
    )
    return f'<div class="figures">{items}</div>'


def _table(table: Table, names: Names) -> str:
    """A table for people: ids in the key columns become names (JSON keeps the ids)."""
    head = "".join(f"<th>{escape(column)}</th>" for column in table.columns)
    if not table.rows:
        body = f'<tr><td colspan="{len(table.columns)}">nessun dato</td></tr>'
    else:
        body = "".join(
            "<tr>"
            + "".join(
                (NUMBER if i >= table.keys else "<td>") + f"{escape(text)}</td>"
                for i, text in enumerate(cells(table, row, names))
            )
            + "</tr>"
            for row in table.rows
        )
    return (
        f'<h3 id="{table.key}">{escape(table.title)}</h3>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )

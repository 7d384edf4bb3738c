"""This module contains the ``sportello content`` commands for translators: stamp, export,
import and review (content/README.md, "Translating")."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from bot import arguments
from bot.content import translations
from bot.content.catalog import Catalog
from bot.content.exchange import FORMATS, format_of, read_file, write_po_file, write_xlsx_file
from bot.content.fingerprints import ROLES
from bot.content.loader import load_catalog
from bot.content.translations import TranslationError
from bot.content.yamledit import EditError

COMMANDS = ("stamp", "export", "import", "review")
FOLDER = "content folder (default: SPORTELLO_CONTENT)"


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The translators' subcommands of ``sportello content``."""
    stamp = commands.add_parser(
        "stamp",
        help="record which Italian every translation was made from (once, after upgrading)",
        description="Write into each topic's 'translations:' block the fingerprint of today's "
        "Italian for every translated title and answer that has none yet. Run it once on "
        "content made before fingerprints existed; fingerprints already there are kept. With "
        "TOPIC ids: you updated those topics' translations yourself after changing the "
        "Italian (a fee in every language, say): they are recorded as made from today's "
        "Italian, so no longer outdated.",
    )
    stamp.add_argument("topics", nargs="*", metavar="TOPIC")
    stamp.add_argument(
        "--lang", type=arguments.words, metavar="LANG", help="with TOPIC: only this language"
    )
    stamp.add_argument("--content", type=arguments.folder, metavar="DIR", help=FOLDER)
    export = commands.add_parser(
        "export",
        help="write what a translator needs for one language, as PO or XLSX",
        description="Write the topic titles and answers still to translate into LANG (missing, "
        "and stale: the Italian changed after they were translated), with the Italian and the "
        "English beside them, as a PO file (Poedit, Weblate) or a spreadsheet (XLSX).",
    )
    export.add_argument("--lang", required=True, type=arguments.words, metavar="LANG")
    export.add_argument("--format", choices=FORMATS, help="po or xlsx (default: from --out, or po)")
    export.add_argument(
        "--out", type=arguments.new_file, metavar="FILE", help="default: content-LANG.po|xlsx"
    )
    export.add_argument("--all", action="store_true", help="every field, also the current ones")
    export.add_argument("--content", type=arguments.folder, metavar="DIR", help=FOLDER)
    imported = commands.add_parser(
        "import",
        help="write a translated PO or XLSX file back into the topics",
        description="Write the translations of FILE into the topic files, keeping their "
        "comments and layout, and record the Italian they were made from. A file made from an "
        "older Italian text is refused whole, naming the fields; nothing is written then. PO "
        "entries still marked fuzzy and empty ones are skipped.",
    )
    imported.add_argument("file", type=Path, metavar="FILE")
    imported.add_argument(
        "--reviewed-by",
        choices=ROLES,
        help="the translations were written or checked by a person of this role: the bot "
        "stops saying they are not yet checked",
    )
    imported.add_argument("--content", type=arguments.folder, metavar="DIR", help=FOLDER)
    review = commands.add_parser(
        "review",
        help="mark translations as reviewed by a mediator or the staff",
        description="Mark the LANG translations of the given topics as reviewed by ROLE against "
        "today's Italian: the bot stops adding 'not yet checked by the counter's staff'.",
    )
    review.add_argument("--lang", required=True, type=arguments.words, metavar="LANG")
    review.add_argument("--role", required=True, choices=ROLES)
    review.add_argument("topics", nargs="+", metavar="TOPIC")
    review.add_argument("--content", type=arguments.folder, metavar="DIR", help=FOLDER)


def run(args: argparse.Namespace, default_root: Path, out: TextIO) -> int:
    """Run one of ``COMMANDS``; a refusal is printed in plain words with exit status 1."""
    root: Path = args.content or default_root
    catalog = load_catalog(root)  # invalid content raises ContentError: reported by the CLI
    try:
        if args.content_command == "stamp":
            return _stamp(root, catalog, args, out)
        if args.content_command == "export":
            return _export(catalog, args, out)
        if args.content_command == "import":
            return _import(root, catalog, args, out)
        changes = translations.review(catalog, args.lang, args.role, args.topics)
        translations.write(translations.render(root, catalog, changes))
        print(f"{len(changes)} topic(s) marked as reviewed in {args.lang} by {args.role}", file=out)
        return 0
    except (TranslationError, EditError) as error:
        print(f"refused: {error}", file=out)
        return 1


def _stamp(root: Path, catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    if args.lang is not None and not args.topics:
        raise TranslationError("--lang goes with the topics whose translations you updated")
    changes = translations.stamp(catalog, args.topics, args.lang)
    translations.write(translations.render(root, catalog, changes))
    print(f"fingerprints recorded in {len(changes)} topic file(s)", file=out)
    return 0


def _export(catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    language: str = args.lang
    found = translations.entries(catalog, language, args.all)
    form = args.format or (format_of(args.out) if args.out is not None else "po")
    path: Path = args.out or Path(f"content-{language}.{form}")
    if args.out is not None and format_of(path) != form:
        raise TranslationError(f"--format {form} and the file name {path.name} disagree")
    if form == "po":
        write_po_file(found, language, catalog.version, path)
    else:
        write_xlsx_file(found, language, catalog.is_rtl(language), path)
    counts = {state: sum(entry.state == state for entry in found) for state in ("missing", "stale")}
    print(
        f"{path}: {len(found)} field(s) for {language} "
        f"({counts['missing']} missing, {counts['stale']} outdated)",
        file=out,
    )
    return 0


def _import(root: Path, catalog: Catalog, args: argparse.Namespace, out: TextIO) -> int:
    language, incoming = read_file(args.file)
    plan = translations.plan_import(catalog, language, incoming, args.reviewed_by)
    files = translations.render(root, catalog, plan.changes.values())
    translations.write(files)
    print(
        f"{args.file}: {len(plan.changed)} translation(s) written and {len(plan.confirmed)} "
        f"confirmed unchanged in {language}, in {len(files)} file(s)",
        file=out,
    )
    if plan.fuzzy:
        print(
            f"{len(plan.fuzzy)} still marked fuzzy (needs work), not imported: "
            + ", ".join(plan.fuzzy),
            file=out,
        )
    if plan.empty:
        print(f"{plan.empty} left empty, not imported", file=out)
    print("now run: sportello content check", file=out)
    return 0

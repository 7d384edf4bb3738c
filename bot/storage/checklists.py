"""This module contains the checklist answers kept with an appointment or a request: answer
ids only ("permit=work;kit=yes"), by code, for the confirmation, the proposal and the reminder
to list the documents that user needs (``bot.content.checklist``)."""

from __future__ import annotations

import time

from bot.storage.db import Database


class ChecklistAnswers:
    """One row per appointment or request code that has answers; none for the others."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def keep(self, code: str, answers: str) -> None:
        """Keep the answers of ``code`` (replacing earlier ones); no answers, no row."""
        if not answers:
            await self.forget(code)
            return
        await self._db.legacy_write(
            "INSERT INTO checklist_answers (code, answers, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (code) DO UPDATE SET answers = excluded.answers",
            (code.upper(), answers, time.time()),
        )

    async def of(self, code: str) -> str:
        """The answers kept for ``code`` ("" when none)."""
        rows = await self._db.legacy_connection.execute_fetchall(
            "SELECT answers FROM checklist_answers WHERE code = ?", (code.upper(),)
        )
        first = next(iter(rows), None)
        return str(first[0]) if first is not None else ""

    async def forget(self, code: str) -> None:
        await self._db.legacy_write("DELETE FROM checklist_answers WHERE code = ?", (code.upper(),))

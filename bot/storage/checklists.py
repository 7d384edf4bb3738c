"""This module contains the checklist answers kept with an appointment or a request: answer
ids only ("permit=work;kit=yes"), by code, for the confirmation, the proposal and the reminder
to list the documents that user needs (``bot.content.checklist``)."""

from __future__ import annotations

import time

from sqlalchemy import delete, select

from bot.storage.db import Database
from bot.storage.tables import checklist_answers


class ChecklistAnswers:
    """One row per appointment or request code that has answers; none for the others."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def keep(self, code: str, answers: str) -> None:
        """Keep the answers of ``code`` (replacing earlier ones); no answers, no row."""
        if not answers:
            await self.forget(code)
            return
        upsert = self._db.insert(checklist_answers).values(
            code=code.upper(), answers=answers, created_at=time.time()
        )
        await self._db.write(
            upsert.on_conflict_do_update(
                index_elements=[checklist_answers.c.code],
                set_={"answers": upsert.excluded.answers},
            )
        )

    async def of(self, code: str) -> str:
        """The answers kept for ``code`` ("" when none)."""
        found = await self._db.fetch_value(
            select(checklist_answers.c.answers).where(checklist_answers.c.code == code.upper())
        )
        return str(found) if found is not None else ""

    async def forget(self, code: str) -> None:
        await self._db.write(
            delete(checklist_answers).where(checklist_answers.c.code == code.upper())
        )

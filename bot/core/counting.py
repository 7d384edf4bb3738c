"""This module contains what the engine tells the monitoring about a turn (anonymously).

Kept apart from the dialogue so that the engine only says *when* to count: a topic chosen
from a menu, or a free-text question with how well it was understood.
"""

from __future__ import annotations

from bot.content.catalog import Catalog
from bot.content.schema import Topic
from bot.core.sessions import Session
from bot.core.understanding import Analysis
from bot.monitoring.events import ANSWERED, UNANSWERED, UNSURE, Monitor


async def count_topic(
    monitor: Monitor, catalog: Catalog, session: Session, language: str, node_id: str
) -> None:
    """A topic chosen from a menu or an offered list (menus themselves are not counted)."""
    node = catalog.node(node_id)
    if isinstance(node, Topic):
        await monitor.topic(session.channel, session.user_id, language, node.id, node.area)


async def count_question(
    monitor: Monitor, session: Session, language: str, analysis: Analysis
) -> None:
    """A question in free text. Greetings, "menu" and other intents are not questions.

    The text itself is never recorded: only its language and the nearest topic, so editors see
    which topics people look for and do not find.
    """
    if analysis.intent is not None:
        return
    outcome = ANSWERED if analysis.confident else UNSURE if analysis.matches else UNANSWERED
    nearest = analysis.matches[0] if analysis.matches else None
    await monitor.question(
        session.channel,
        session.user_id,
        analysis.language or language,
        outcome,
        nearest.topic if nearest else None,
        nearest.area if nearest else None,
    )

"""Staff notices joined into one digest message."""

from __future__ import annotations

from bot.channels.digest import StaffDigest
from bot.notice import Notice


def notice(text: str, **fields: object) -> Notice:
    return Notice("telegram", "-100", text, "staff", **fields)  # type: ignore[arg-type]


def test_staff_notices_join_conversations_and_user_notices_do_not() -> None:
    digest = StaffDigest(4096, len)
    assert digest.joins(notice("📅 Nuovo appuntamento LU-4K7P", code="LU-4K7P"))
    assert not digest.joins(notice("🙋 Richiesta di parlare", handover=3))
    assert not digest.joins(notice("Rispondete a questo messaggio", alone=True))
    assert not digest.joins(notice("Scrivete la domanda", reply_action="ask:LU-4K7P"))
    reminder = Notice("telegram", "501", "Promemoria", "reminder")
    assert not digest.joins(reminder)


def test_texts_one_under_the_other_and_each_notice_keeps_its_buttons() -> None:
    digest = StaffDigest(4096, len)
    request_buttons = ((("rq:p:LU-9XYZ", "📅 Proponi"), ("rq:n:LU-9XYZ", "✖️ Rifiuta")),)
    count, combined = digest.combine(
        [
            notice("📅 Nuovo appuntamento LU-4K7P", code="LU-4K7P"),
            notice("📝 Nuova richiesta LU-9XYZ", reference="LU-9XYZ", buttons=request_buttons),
            notice("Un utente ha cancellato i suoi dati"),
        ]
    )
    assert count == 3
    text = combined.text
    assert text.startswith("📬 3 avvisi")
    assert text.index("LU-4K7P") < text.index("LU-9XYZ") < text.index("cancellato")
    assert combined.buttons == (
        (("attended:LU-4K7P", "✅ LU-4K7P"), ("no_show:LU-4K7P", "🚫 Assente"),
         ("cancel:LU-4K7P", "❌ Annulla")),
        (("rq:p:LU-9XYZ", "📅 Proponi LU-9XYZ"), ("rq:n:LU-9XYZ", "✖️ Rifiuta")),
    )  # fmt: skip
    assert (combined.channel, combined.recipient, combined.purpose) == ("telegram", "-100", "staff")


def test_a_digest_holds_what_fits_in_one_message() -> None:
    digest = StaffDigest(120, len)
    count, combined = digest.combine([notice("x" * 40) for _ in range(5)])
    assert count == 2
    assert len(combined.text) <= 120
    count, combined = digest.combine([notice("y" * 300), notice("z")])
    assert count == 1  # one too long goes alone: the channel splits it as it always did

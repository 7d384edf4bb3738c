"""A checklist for the fixture content's permit renewal, in its four enabled languages."""

from __future__ import annotations

from pathlib import Path

CHECKLIST = """\
checklist:
  reviewed: 2026-11-20
  questions:
    - id: permit
      text:
        it: Che permesso hai?
        en: Which permit do you have?
        fr: Quel titre avez-vous ?
        ar: ما هو تصريحك؟
      answers:
        - id: work
          text: {it: Lavoro dipendente, en: Employed work, fr: Travail salarié, ar: عمل}
        - id: family
          text: {it: Famiglia, en: Family, fr: Famille, ar: عائلة}
    - id: kit
      text:
        it: Hai già il kit?
        en: Do you have the kit?
        fr: Avez-vous le kit ?
        ar: هل عندك الكيت؟
      answers:
        - id: "yes"
          text: {it: Sì, en: "Yes", fr: Oui, ar: نعم}
        - id: "no"
          text: {it: "No", en: "No", fr: Non, ar: لا}
  documents:
    - id: passport
      name: passaporto
      text:
        it: Passaporto e fotocopia
        en: Passport and a photocopy
        fr: Passeport
        ar: جواز السفر
    - id: form_2
      name: Modulo 2 del kit
      when: {kit: "yes", permit: work}
      text: {it: Il Modulo 2 del kit, en: Form 2 of the kit, fr: Formulaire 2, ar: الاستمارة 2}
    - id: family_papers
      name: documenti sulla famiglia
      when: {permit: family}
      text:
        it: I documenti sulla famiglia
        en: Papers about your family
        fr: Documents sur la famille
        ar: أوراق العائلة
  sources:
    - url: https://www.portaleimmigrazione.it/ELI2ImmigrazioneWEB/Pagine/StartPage.aspx
      title: Portale Immigrazione - kit postale
      read: 2026-11-20
"""


def add_checklist(content: Path, text: str = CHECKLIST, service: str = "permit_renewal") -> Path:
    """Append ``text`` (a ``checklist:`` block) to a service file of a content copy."""
    path = content / "services" / f"{service}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    return path

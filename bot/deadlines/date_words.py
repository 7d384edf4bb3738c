"""This module contains the words for dates that Babel's locale data lacks, in the bot's languages.

Babel gives each language's month names and its words for "yesterday", "today" and "tomorrow"
as a dictionary writes them. People type otherwise: shortened ("genn", "fev", "sett"), in
another spelling ("setiembre", "জানুয়ারী"), in the case a preposition asks for ("у березні",
"в марте"), in the spoken word ("بكرة", "вчора", "gotokal"). The words here are written as
people write them; ``bot.deadlines.dates`` folds them (case, accents, Arabic letter forms) as
it folds the message.
"""

from __future__ import annotations

#: Abbreviations people write that Babel does not list, with their month: read beside a day
#: or a year ("14 genn 2027"), never alone, where they are other words ("set", "sep").
MONTH_ABBREVIATIONS: dict[str, dict[str, int]] = {
    "it": {"genn": 1, "febb": 2, "febbr": 2, "magg": 5, "giug": 6, "lugl": 7, "sett": 9},
    "en": {"sept": 9},
    "fr": {"fev": 2, "juill": 7, "sep": 9},
    "es": {"set": 9, "sep": 9},
    # The Russian locative of May: "мае" is also "має" (has) typed without "є".
    "uk": {"мае": 5},
}

#: Whole month names Babel does not list, with their month: read alone too, as Babel's are
#: ("у березні", "setiembre").
MONTH_NAMES: dict[str, dict[str, int]] = {
    "en": {"febuary": 2, "feburary": 2},
    "es": {"setiembre": 9},
    # The definite forms, as in "më 5 të qershorit".
    "sq": {
        "janarit": 1,
        "shkurtit": 2,
        "marsit": 3,
        "prillit": 4,
        "majit": 5,
        "qershorit": 6,
        "korrikut": 7,
        "gushtit": 8,
        "shtatorit": 9,
        "tetorit": 10,
        "nëntorit": 11,
        "dhjetorit": 12,
    },
    # The locative after "у"/"в" ("у березні 2027"), in Ukrainian and in Russian.
    "uk": {
        "січні": 1,
        "лютому": 2,
        "березні": 3,
        "квітні": 4,
        "травні": 5,
        "червні": 6,
        "липні": 7,
        "серпні": 8,
        "вересні": 9,
        "жовтні": 10,
        "листопаді": 11,
        "грудні": 12,
        "январе": 1,
        "феврале": 2,
        "марте": 3,
        "апреле": 4,
        "июне": 6,
        "июле": 7,
        "августе": 8,
        "сентябре": 9,
        "октябре": 10,
        "ноябре": 11,
        "декабре": 12,
    },
    # Egyptian spellings and the Levantine names written without their article.
    "ar": {
        "يونيه": 6,
        "يوليه": 7,
        "كانون ثاني": 1,
        "تشرين أول": 10,
        "تشرين ثاني": 11,
        "كانون أول": 12,
    },
    "ur": {"جنورى": 1, "فرورى": 2},
    "bn": {"জানুয়ারী": 1, "ফেব্রুয়ারী": 2, "আগষ্ট": 8, "সেপ্টেম্বার": 9},
}

#: Words for "the first" of a month, where a language says it with a word ("یکم جولائی",
#: "il primo marzo", "পয়লা বৈশাখ"). English "first" is left out: "first, may I ask" is no date.
FIRST_DAY_WORDS = ("primo", "premier", "primero", "یکم", "পহেলা", "পয়লা", "першого", "первого")

#: What people write after a day's number, beyond "1st", "1er", "1°": Spanish "1ro", "2do",
#: "4to"; Ukrainian and Russian "1-го"; Bengali "১লা", "২রা", "৪ঠা", "৫ই", "২২শে".
ORDINAL_SUFFIXES = (
    "st",
    "nd",
    "rd",
    "th",
    "er",
    "re",
    "eme",
    "ro",
    "ero",
    "do",
    "to",
    "vo",
    "mo",
    "no",
    "º",
    "ª",
    "°",
    "-го",
    "-е",
    "লা",
    "রা",
    "ঠা",
    "ই",
    "শে",
)

#: Days said with a word, beyond Babel's, with their distance from today.
DAY_WORDS: dict[str, dict[str, int]] = {
    "it": {"dopo domani": 2, "altro ieri": -2, "l'altroieri": -2, "ieri l'altro": -2},
    "en": {
        "tmrw": 1,
        "tomorow": 1,
        "the day after tomorrow": 2,
        "the day before yesterday": -2,
    },
    "fr": {"apres demain": 2, "avant hier": -2, "aujourdhui": 0},
    "es": {"anteayer": -2, "antier": -2, "antes de ayer": -2, "ante ayer": -2},
    "sq": {"pasnesër": 2, "pas nesër": 2, "pardje": -2},
    "uk": {
        "вчора": -1,
        "позавчора": -2,
        "сьогодні": 0,
        "вчера": -1,
        "позавчера": -2,
        "сегодня": 0,
        "послезавтра": 2,
    },
    "ar": {
        "بكرة": 1,
        "بكرا": 1,
        "بكره": 1,
        "غدوة": 1,
        "بعد بكرة": 2,
        "بعد بكرا": 2,
        "امبارح": -1,
        "مبارح": -1,
        "البارحة": -1,
        "البارح": -1,
        "أول امبارح": -2,
    },
    "ur": {"گزشتہ کل": -1, "aaj": 0},
    "zh": {"明日": 1, "昨日": -1, "今日": 0, "大后天": 3, "大前天": -3, "後天": 2},
    "bn": {
        "আজকে": 0,
        "gotokal": -1,
        "gotokaal": -1,
        "gatakal": -1,
        "agamikal": 1,
        "agamikaal": 1,
        "aaj": 0,
        "aajke": 0,
        "ajke": 0,
    },
}

#: Words that are "yesterday" and "tomorrow" both, told apart only by the verb's tense (Urdu
#: and Hindi "kal", Bengali "kal" and "porshu"): never read as either, whatever Babel says.
AMBIGUOUS_DAY_WORDS = frozenset(
    {"کل", "kal", "kaal", "پرسوں", "parson", "parso", "পরশু", "কাল", "porshu", "porsu"}
)

"""The message classifier: n-grams for typos and scripts, sound keys, groups, languages."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from bot.content.classifier import (
    EPOCHS,
    Classifier,
    Rows,
    _by_group,
    _centroid_postings,
    _epochs,
    _Featuriser,
    _pass_order,
    _StopGap,
    features,
    normalised_synonyms,
    work_out_stopgap,
)

EXAMPLES = [
    *(("renewal", text, "kit", "it") for text in ("rinnovo del permesso", "kit rinnovo permesso")),
    *(("renewal", text, "kit", "en") for text in ("renew my permesso", "renew the permit")),
    *(("lost", text, "lost", "it") for text in ("ho perso il permesso", "permesso rubato")),
    *(("lost", text, "lost", "en") for text in ("lost my card", "stolen permit card")),
    *(("hours", text, "hours", "it") for text in ("orari di apertura", "siete aperti oggi")),
    *(("hours", text, "hours", "en") for text in ("when are you open", "opening hours today")),
    *(("~off", text, None, "en") for text in ("pizza recipe", "football match tonight")),
    *(("~off", text, None, "it") for text in ("ricetta della pizza", "partita di calcio")),
]


def test_features_hold_words_pairs_ngrams_and_sound_keys() -> None:
    found = features("Permesso scaduto")
    assert {"w:permesso", "w:scaduto", "b:permesso scaduto", " pe", "sso ", "k:brms"} <= found


def test_training_is_deterministic_and_reused() -> None:
    first = Classifier.train(EXAMPLES)
    assert Classifier.train(list(EXAMPLES)) is first  # the same examples: the same model
    assert first.rank(first.read("renew")) == first.rank(first.read("renew"))


def best(model: Classifier, text: str) -> str:
    chances = model.rank(model.read(text))
    return max(chances, key=lambda label: chances[label])


def test_unseen_forms_reach_their_label() -> None:
    model = Classifier.train(EXAMPLES)
    assert best(model, "rinnovare permeso") == "renewal"  # a typo, another verb form
    assert best(model, "pizza") == "~off"
    # The Italian word in Urdu letters shares the sound key of "permesso".
    urdu = model.rank(model.read("پرمیسو"))
    assert urdu["renewal"] + urdu["lost"] > urdu["hours"]


def test_probabilities_add_up() -> None:
    model = Classifier.train(EXAMPLES)
    chances = model.rank(model.read("opening hours please"))
    assert set(chances) == {"renewal", "lost", "hours", "~off"}
    assert abs(sum(chances.values()) - 1.0) < 1e-6


def test_groups_rank_by_resemblance_and_nearest_measures_it() -> None:
    model = Classifier.train(EXAMPLES)
    query = model.read("lost my card")
    scores = dict(zip(model.group_names, model.groups(query), strict=True))
    assert max(scores, key=lambda group: scores[group]) == "lost"
    # A training example itself: close (not 1: its features seen only once are not kept).
    assert model.nearest(query, "lost") > 0.7 > model.nearest(query, "hours")
    # Mostly words the content never uses: far from every example of any group.
    assert model.nearest(model.read("my cat likes blue cheese and jazz"), "lost") < 0.3
    assert model.nearest(query, "no such group") == 0.0


def test_languages_are_learnt_from_the_same_examples() -> None:
    model = Classifier.train(EXAMPLES)
    italian = model.languages(model.read("il permesso di soggiorno è scaduto"))
    assert max(italian, key=lambda code: italian[code]) == "it"


def test_nothing_known_is_nothing_read() -> None:
    model = Classifier.train(EXAMPLES)
    query = model.read("ぁぁぁ")
    assert not query.known
    assert model.nearest(query, "lost") == 0.0
    assert not np.any(model.groups(query))


def test_a_model_kept_on_disk_is_read_back_the_same(tmp_path: Path) -> None:
    model = Classifier.train(EXAMPLES)
    model.save(tmp_path / "model.arrays")
    again = Classifier.load(tmp_path / "model.arrays")
    query, reread = model.read("permesso rubato ieri"), again.read("permesso rubato ieri")
    assert again.rank(reread) == model.rank(query)
    assert again.nearest(reread, "lost") == model.nearest(query, "lost")
    assert again.languages(reread) == model.languages(query)
    assert again.groups(reread).tolist() == model.groups(query).tolist()  # postings kept


def test_training_writes_the_cache_and_reads_it(tmp_path: Path) -> None:
    examples = [*EXAMPLES, ("renewal", "rinnovo kit posta sportello amico", "kit", "it")]
    Classifier.train(examples, cache=tmp_path)
    stored = list(tmp_path.glob("understanding-*.arrays"))
    assert len(stored) == 1
    (tmp_path / "broken").mkdir()
    stored[0].write_bytes(b"not a model")  # unreadable: trained again, never a crash
    from bot.content import classifier

    classifier._CACHE.clear()
    assert best(Classifier.train(examples, cache=tmp_path), "rinnovo permesso") == "renewal"


def test_a_model_trained_in_a_child_process_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server's reload trains elsewhere (no thread taking the interpreter from its replies):
    the model it gets back answers as one trained here (to rounding), its features numbered
    in the same order although its string hashes are its own."""
    import bot.content.classifier as module

    here = Classifier.train(EXAMPLES)
    monkeypatch.setattr(module, "_CACHE", OrderedDict())  # not the model just made
    elsewhere = Classifier.train(EXAMPLES, elsewhere=True)

    assert elsewhere is not here
    assert list(elsewhere._vocabulary) == list(here._vocabulary)
    for text in ("renew my card", "perso il permesso", "quando aprite", "pizza"):
        query_here, query_elsewhere = here.read(text), elsewhere.read(text)
        assert elsewhere.rank(query_elsewhere) == pytest.approx(here.rank(query_here), rel=1e-6)
        assert elsewhere.languages(query_elsewhere) == pytest.approx(
            here.languages(query_here), rel=1e-6
        )
        for group in ("kit", "lost", "hours"):
            assert elsewhere.nearest(query_elsewhere, group) == pytest.approx(
                here.nearest(query_here, group), rel=1e-3
            )


def test_training_reads_each_example_as_features_does() -> None:
    """Training numbers features instead of keeping their texts, and matches synonyms by their
    first word: the same features as a message gets when it is understood."""
    synonyms = normalised_synonyms(
        [["permesso di soggiorno", "pds", "居留证"], ["ufficio", "sportello"]]
    )
    featuriser = _Featuriser(synonyms)
    texts = [
        "Il mio permesso di soggiorno è scaduto",
        "pds scaduto, permesso di",  # the phrase cut short: no synonym
        "我的居留证丢了",
        "sportello ufficio sportello",
        "",
    ]
    for text in texts:
        numbers = featuriser.row(text)
        names = {number: name for name, number in featuriser.numbers.items()}
        assert {names[number] for number in numbers} == features(text, synonyms)
    assert {"s:0", "s:1"} <= set(featuriser.numbers)


def test_more_examples_take_fewer_epochs_never_none() -> None:
    assert _epochs(0) == _epochs(28_000) == EPOCHS  # today's content: as before
    assert _epochs(56_000) < EPOCHS
    assert _epochs(280_000) == _epochs(10_000_000) == 1
    # The examples seen in training never shrink as the content grows.
    assert all(n * _epochs(n) <= m * _epochs(m) for n, m in ((28_000, 56_000), (56_000, 280_000)))


def test_a_pass_over_many_examples_is_a_sample_of_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.content.classifier as module

    monkeypatch.setattr(module, "STEPS", 100)
    taught = np.arange(0, 2000, 2)
    order = _pass_order(taught, np.random.default_rng(7))
    assert len(order) == 100 and len(set(order.tolist())) == 100
    assert set(order.tolist()) <= set(taught.tolist())
    assert order.tolist() == _pass_order(taught, np.random.default_rng(7)).tolist()
    few = np.arange(60)
    assert sorted(_pass_order(few, np.random.default_rng(7)).tolist()) == few.tolist()


def test_centroids_keep_each_groups_strongest_features(monkeypatch: pytest.MonkeyPatch) -> None:
    """Postings built group by group, from each group's own features, hold what a centroid
    over the whole vocabulary would: its strongest features, ties to the lower column."""
    generator = np.random.default_rng(3)
    width, group_count = 50, 4
    lengths = generator.integers(1, 8, 40)
    indices = np.concatenate([generator.choice(width, n, replace=False) for n in lengths])
    rows = _by_group(
        Rows(
            np.concatenate(([0], np.cumsum(lengths))),
            indices.astype(np.int32),
            generator.choice([0.5, 1.0], len(indices)).astype(np.float32),
            np.zeros(len(lengths), np.int64),
            generator.integers(-1, group_count, len(lengths)),
            np.zeros(len(lengths), np.int64),
        )
    )
    starts = np.searchsorted(rows.groups, np.arange(group_count + 1))
    import bot.content.classifier as module

    for kept in (3, 4000):
        monkeypatch.setattr(module, "CENTROID_FEATURES", kept)
        begins, ends, groups, weights = _centroid_postings(rows, starts, width)
        for group in range(group_count):
            selected = np.flatnonzero(rows.groups == group)
            cols, vals, _ = rows.of(selected)
            centroid = np.bincount(cols, weights=vals, minlength=width)
            strongest = np.argsort(-centroid, kind="stable")[:kept]
            strongest = strongest[centroid[strongest] > 0]
            norm = np.linalg.norm(centroid[strongest])
            expected = dict(zip(strongest.tolist(), centroid[strongest] / norm, strict=True))
            found = {
                column: float(weights[spot])
                for column in range(width)
                for spot in range(begins[column], ends[column])
                if groups[spot] == group
            }
            assert found.keys() == expected.keys()
            assert list(found.values()) == pytest.approx([expected[c] for c in found], rel=1e-6)


# An edit: the "hours" group's questions rewritten, the "lost" group removed, a new group
# ("tax") with a label of its own.
EDITED = [
    *(example for example in EXAMPLES if example[2] not in ("hours", "lost")),
    *(("hours", text, "hours", "en") for text in ("when does the desk close", "closing time")),
    *(("hours", text, "hours", "it") for text in ("a che ora chiude lo sportello", "chiusura")),
    *(("tax", text, "tax", "en") for text in ("income tax return form", "tax code card")),
    *(("tax", text, "tax", "it") for text in ("dichiarazione dei redditi", "codice fiscale")),
]


@pytest.fixture(autouse=True)
def no_models_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test trains its models (or reads them from its folder), not another test's."""
    import bot.content.classifier as module

    monkeypatch.setattr(module, "_CACHE", OrderedDict())


def stopgap_and_full(
    tmp_path: Path, examples: list[tuple[str, str, str | None, str]] = EDITED
) -> tuple[Classifier, Classifier, Classifier]:
    """The model before the edit (kept in ``tmp_path``), the stop-gap the training child
    handed over after it, and the full model, as a server's reload trains them."""
    before = Classifier.train(EXAMPLES, cache=tmp_path)
    assert before.file is not None and before.file.parent == tmp_path
    handed: list[Classifier] = []
    full = Classifier.train(
        examples, cache=tmp_path, elsewhere=True, previous=before, stopgap=handed.append
    )
    assert len(handed) == 1
    return before, handed[0], full


def arrays_of(model: Classifier, path: Path) -> dict[str, np.ndarray]:
    """The model's arrays, as saving it writes them."""
    from bot.content import arrayfile

    model.save(path)
    return arrayfile.read(path)[1]


def test_the_stopgap_is_worked_out_in_the_training_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's process never works a stop-gap out (it would hold the interpreter lock
    from the replies): the child does, from the kept model's file, and the model handed over
    is the one worked out here from the model in memory, array by array."""
    import bot.content.classifier as module

    built_here: list[int] = []

    def never_here(*args: object) -> None:
        built_here.append(1)
        raise AssertionError("a stop-gap worked out in the server's process")

    before = Classifier.train(EXAMPLES, cache=tmp_path)
    expected = work_out_stopgap(before, EDITED)
    assert expected is not None
    monkeypatch.setattr(module, "_refreshed", never_here)
    handed: list[Classifier] = []
    full = Classifier.train(
        EDITED, cache=tmp_path, elsewhere=True, previous=before, stopgap=handed.append
    )

    assert not built_here and len(handed) == 1 and full.exact
    stopgap = handed[0]
    assert not stopgap.exact and stopgap.file is None  # its file was a temporary one
    assert stopgap.labels == expected.labels and stopgap.group_names == expected.group_names
    from_child = arrays_of(stopgap, tmp_path / "child.arrays")
    worked_here = arrays_of(expected, tmp_path / "here.arrays")
    assert from_child.keys() == worked_here.keys()
    for name, array in worked_here.items():
        assert np.array_equal(from_child[name], array), name
    assert not list(tmp_path.glob("*.partial"))


def test_a_stopgap_that_fails_costs_the_full_model_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The kept model's file replaced by one whose header is right but whose weights are gone
    (another inode: the model in memory keeps its mapping): the child fails to work the
    stop-gap out, and goes on with the full training."""
    from bot.content import arrayfile

    before = Classifier.train(EXAMPLES, cache=tmp_path)
    assert before.file is not None
    names, arrays = arrayfile.read(before.file)
    arrayfile.write(before.file, {k: a for k, a in arrays.items() if k != "weights"}, names)
    handed: list[Classifier] = []

    full = Classifier.train(EDITED, elsewhere=True, previous=before, stopgap=handed.append)

    assert not handed and full.exact
    assert best(full, "when does the desk close") == "hours"
    assert "no stop-gap understanding" in caplog.text


def test_no_stopgap_without_a_kept_model_nor_in_this_process(tmp_path: Path) -> None:
    """A model before the edit kept in no file: no stop-gap (the server's process does not
    write one for the child). A training in this process (a command, not a server) makes none
    either: the full model is what it waits for."""
    before = Classifier.train(EXAMPLES)
    assert before.file is None
    handed: list[Classifier] = []
    full = Classifier.train(EDITED, elsewhere=True, previous=before, stopgap=handed.append)
    assert full.exact and not handed
    kept = Classifier.train(EXAMPLES, cache=tmp_path)
    here = Classifier.train(EDITED, cache=tmp_path, previous=kept, stopgap=handed.append)
    assert here.exact and not handed


def test_no_stopgap_when_most_examples_changed(tmp_path: Path) -> None:
    """More than STOPGAP_SHARE of the examples changed: the stop-gap would hold the full
    model back by about as much as it saves."""
    before = Classifier.train(EXAMPLES, cache=tmp_path)
    everything = [(label, f"{text} oggi", group, lang) for label, text, group, lang in EXAMPLES]
    handed: list[Classifier] = []
    full = Classifier.train(
        everything, cache=tmp_path, elsewhere=True, previous=before, stopgap=handed.append
    )
    assert full.exact and not handed


def test_a_stopgap_after_an_edit_knows_the_new_content(tmp_path: Path) -> None:
    before, stopgap, full = stopgap_and_full(tmp_path)

    assert not stopgap.exact and full.exact and before.exact
    # The edited group's new questions: understood at once, features unseen before included.
    closing = stopgap.read("when does the desk close")
    assert "w:close" not in before._vocabulary and "w:close" in stopgap._vocabulary
    assert best(stopgap, "when does the desk close") == "hours"
    assert stopgap.nearest(closing, "hours") > 0.7
    assert before.nearest(before.read("when does the desk close"), "hours") < 0.5
    # The new group and its new label are reachable; the removed group and its label are gone.
    assert best(stopgap, "codice fiscale") == "tax"
    scores = dict(zip(stopgap.group_names, stopgap.groups(stopgap.read("tax code")), strict=True))
    assert max(scores, key=lambda group: scores[group]) == "tax"
    assert "lost" not in stopgap.group_names and "lost" not in stopgap.labels
    assert stopgap.nearest(stopgap.read("lost my card"), "lost") == 0.0
    assert set(stopgap.labels) == set(full.labels)
    assert set(stopgap.group_names) == set(full.group_names)
    # What the edit did not touch is as it was: the same examples, the same closeness.
    renew = "renew the permit"
    assert stopgap.nearest(stopgap.read(renew), "kit") == before.nearest(before.read(renew), "kit")
    assert best(stopgap, "rinnovo del permesso") == "renewal"
    assert best(stopgap, "ricetta della pizza") == "~off"


def test_a_stopgap_is_never_kept_nor_reused(tmp_path: Path) -> None:
    """Only the full training's models are kept: a restart reads the full model, and never
    makes or takes a stop-gap for content already trained."""
    import bot.content.classifier as module

    _, stopgap, full = stopgap_and_full(tmp_path)
    stored = sorted(tmp_path.glob("understanding-*.arrays"))
    assert len(stored) == 2  # the content before the edit, and after it
    assert all(Classifier.load(path).exact for path in stored)
    module._CACHE.clear()  # a restart
    handed: list[Classifier] = []
    again = Classifier.train(
        EDITED, cache=tmp_path, elsewhere=True, previous=stopgap, stopgap=handed.append
    )
    assert again.exact and not handed  # the full model, read back: no stop-gap made
    query = again.read("closing time")
    assert again.rank(query) == full.rank(full.read("closing time"))


def test_a_stopgap_stored_by_mistake_is_not_taken_for_the_model(tmp_path: Path) -> None:
    """A stop-gap saved where the full model goes is read as no model: trained again."""
    import bot.content.classifier as module

    _, stopgap, full = stopgap_and_full(tmp_path)
    stored = tmp_path.glob("understanding-*.arrays")
    path = max(stored, key=lambda found: found.stat().st_mtime_ns)  # the edited content's
    stopgap.save(path)
    assert not Classifier.load(path).exact
    module._CACHE.clear()  # a restart
    again = Classifier.train(EDITED, cache=tmp_path)
    assert again.exact
    assert again.rank(again.read("closing time")) == full.rank(full.read("closing time"))


def test_a_second_edit_while_a_stopgap_answers(tmp_path: Path) -> None:
    """A second edit while the first one's stop-gap answers (it is kept in no file): the
    child works the second stop-gap out from the newest model kept, both edits read again."""
    before = Classifier.train(EXAMPLES, cache=tmp_path)
    hours = [example for example in EDITED if example[0] == "hours"]
    edited = [*(example for example in EXAMPLES if example[2] != "hours"), *hours]
    first = work_out_stopgap(before, edited)
    assert first is not None and first.file is None
    again = [*edited, ("tax", "partita iva", "tax", "it"), ("tax", "iva partita", "tax", "it")]
    handed: list[Classifier] = []
    Classifier.train(again, cache=tmp_path, elsewhere=True, previous=first, stopgap=handed.append)
    assert len(handed) == 1 and not handed[0].exact
    assert best(handed[0], "partita iva") == "tax"
    assert handed[0].nearest(handed[0].read("partita iva"), "tax") > 0.9
    assert best(handed[0], "when does the desk close") == "hours"  # the first edit's


def test_no_stopgap_when_the_synonyms_change(tmp_path: Path) -> None:
    """New synonyms change every example's features: only a full training then."""
    before = Classifier.train(EXAMPLES, cache=tmp_path)
    handed: list[Classifier] = []
    full = Classifier.train(
        EDITED,
        cache=tmp_path,
        synonyms=[["codice fiscale", "cf"]],
        elsewhere=True,
        previous=before,
        stopgap=handed.append,
    )
    assert full.exact and not handed
    assert work_out_stopgap(before, EDITED, [["codice fiscale", "cf"]]) is None


# Another edit: the first group's and the off-topic examples changed, a language added.
REWORDED = [
    *(("renewal", f"{text} subito", group, language) for _, text, group, language in EXAMPLES[:4]),
    *(example for example in EXAMPLES[4:] if example[2] is not None),
    *(("~off", text, None, "de") for text in ("pizza rezept", "fussball spiel heute")),
    *(("~off", text, None, "en") for text in ("pizza recipe", "a cat video")),
]


@pytest.mark.parametrize("edited", [EDITED, REWORDED])
def test_a_stopgaps_rows_and_centroids_are_those_of_its_examples(
    tmp_path: Path, edited: list[tuple[str, str, str | None, str]]
) -> None:
    """The layered stop-gap merged (the kept model's rows and centroids, the fresh ones): the
    same as the stop-gap's examples and centroids worked out afresh from its rows."""
    _, layered, _ = stopgap_and_full(tmp_path, edited)
    assert isinstance(layered, _StopGap)
    stopgap = layered.flattened()
    rows = stopgap._rows
    assert np.all(np.diff(rows.groups) >= 0)  # ordered by group, as a model keeps them
    for index, name in [(-1, None), *enumerate(stopgap.group_names)]:
        members = np.flatnonzero(rows.groups == index)
        assert len(members) == sum(1 for example in edited if example[2] == name)
        assert {stopgap.labels[t] for t in rows.targets[members]} == {
            label for label, _, group, _ in edited if group == name
        }
        assert sorted(stopgap.language_names[n] for n in rows.languages[members]) == sorted(
            language for _, _, group, language in edited if group == name
        )
    width = len(stopgap._vocabulary)
    afresh = _centroid_postings(rows, stopgap._group_starts, width)

    def triples(postings: tuple[np.ndarray, ...]) -> list[tuple[int, int, float]]:
        starts, ends, groups, weights = postings
        columns = np.repeat(np.arange(width), ends - starts)
        found = zip(columns.tolist(), groups.tolist(), weights.round(5).tolist(), strict=True)
        return sorted(found)

    assert triples(stopgap._postings) == triples(afresh)


QUESTIONS = [
    "when does the desk close",
    "rinnovo del permesso",
    "codice fiscale",
    "lost my card",
    "pizza rezept",
    "a che ora chiude",
    "klingon",
    "",
]


def assert_answers_as_merged(layered: Classifier | None) -> None:
    """Every answer of the layered stop-gap is that of the same model merged into one."""
    assert isinstance(layered, _StopGap)
    merged = layered.flattened()
    assert layered.examples_per_language() == merged.examples_per_language()
    for text in QUESTIONS:
        here, there = layered.read(text), merged.read(text)
        assert np.array_equal(here.columns, there.columns) and np.allclose(
            here.values, there.values
        )
        assert layered.rank(here) == pytest.approx(merged.rank(there), abs=1e-9)
        assert layered.languages(here) == pytest.approx(merged.languages(there), abs=1e-9)
        assert np.allclose(layered.groups(here), merged.groups(there), atol=1e-6)
        for group in (*layered.group_names, "lost", "nowhere"):
            assert layered.nearest(here, group) == pytest.approx(
                merged.nearest(there, group), abs=1e-6
            ), (text, group)


@pytest.mark.parametrize("edited", [EDITED, REWORDED])
def test_a_layered_stopgap_answers_as_its_merged_model(
    tmp_path: Path, edited: list[tuple[str, str, str | None, str]]
) -> None:
    """The stop-gap keeps the model before the edit and only the edit's changes on top: every
    answer is that of the same model merged into one (the model a stop-gap used to copy)."""
    _, layered, _ = stopgap_and_full(tmp_path, edited)
    assert_answers_as_merged(layered)


OFF_TOPIC = [example for example in EXAMPLES if example[2] is None]
TAX = [example for example in EDITED if example[2] == "tax"]


@pytest.mark.parametrize(
    "edited",
    [
        pytest.param([*OFF_TOPIC, *TAX], id="every-group-replaced"),
        pytest.param([e for e in EXAMPLES if e[2] is not None], id="no-off-topic-left"),
        pytest.param([*EXAMPLES, *TAX], id="a-group-added"),
    ],
)
def test_a_layered_stopgap_of_any_edit_answers_as_its_merged_model(
    edited: list[tuple[str, str, str | None, str]],
) -> None:
    """Edits a server never makes a stop-gap of (most examples changed), or that leave one
    side of the layers empty, still layer and merge to the same answers."""
    assert_answers_as_merged(work_out_stopgap(Classifier.train(EXAMPLES), edited))


def many_topics(count: int, words: int = 6) -> list[tuple[str, str, str | None, str]]:
    """Examples of ``count`` topics, each with words of its own and words shared by all."""
    return [
        (f"area{topic % 3}", f"topic{topic} word{topic}x{n} shared{n} common", f"t{topic}", "en")
        for topic in range(count)
        for n in range(words)
    ]


def test_a_stopgaps_file_holds_the_edit_only(tmp_path: Path) -> None:
    """An edit of one topic in hundreds: the stop-gap handed over is written as a layer over
    the kept model's file, a small part of it (at 100x, the copy of the rest took seconds)."""
    from bot.content import arrayfile

    examples = many_topics(400)
    before = Classifier.train(examples, cache=tmp_path)
    assert before.file is not None
    edited = [(label, f"{text} edited", group, lang) for label, text, group, lang in examples[:6]]
    handed: list[Classifier] = []
    Classifier.train(
        edited + examples[6:],
        cache=tmp_path,
        elsewhere=True,
        previous=before,
        stopgap=handed.append,
    )
    (stopgap,) = handed
    stopgap.save(tmp_path / "layer.arrays")

    names, arrays = arrayfile.read(tmp_path / "layer.arrays")
    assert names["base"] == str(before.file.absolute())
    assert (tmp_path / "layer.arrays").stat().st_size < before.file.stat().st_size / 10
    assert len(arrays["indptr"]) - 1 == 6  # the edited topic's rows only
    assert best(stopgap, "topic0 edited") == "area0"
    assert stopgap.nearest(stopgap.read("topic0 word0x1 shared1 common edited"), "t0") > 0.99
    untouched = "topic7 word7x2 shared2 common"
    assert stopgap.nearest(stopgap.read(untouched), "t7") == before.nearest(
        before.read(untouched), "t7"
    )


def test_a_layer_whose_kept_model_changed_or_went_is_not_read(tmp_path: Path) -> None:
    """A stop-gap's file names the kept model under it: that file gone, or holding another
    model, the layer is refused (the server then waits for the full model)."""
    before = Classifier.train(EXAMPLES, cache=tmp_path)
    assert before.file is not None
    stopgap = work_out_stopgap(before, EDITED)
    assert stopgap is not None
    stopgap.save(tmp_path / "layer.arrays")
    assert not Classifier.load(tmp_path / "layer.arrays").exact

    Classifier.train(many_topics(5)).save(before.file)
    with pytest.raises(ValueError, match="worked out from"):
        Classifier.load(tmp_path / "layer.arrays")
    before.file.unlink()
    with pytest.raises(FileNotFoundError):
        Classifier.load(tmp_path / "layer.arrays")


def test_the_examples_reach_the_training_child_whole_and_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written a slice at a time (the server never holds them all pickled), read back whole."""
    import bot.content.classifier as module

    monkeypatch.setattr(module, "SENT_AT_A_TIME", 3)
    examples = tuple(("area", f"example {n}", f"t{n % 4}", None) for n in range(10))
    module._send(examples, tmp_path / "sent")
    assert module._received(tmp_path / "sent") == list(examples)
    module._send((), tmp_path / "none")
    assert module._received(tmp_path / "none") == []

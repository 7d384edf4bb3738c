"""The message classifier: n-grams for typos and scripts, sound keys, nearest examples."""

from __future__ import annotations

from bot.content.classifier import Classifier, features

EXAMPLES = [
    *(("renewal", text) for text in ("rinnovo del permesso", "renew my permesso", "kit rinnovo")),
    *(("lost", text) for text in ("ho perso il permesso", "lost my card", "stolen permit")),
    *(("hours", text) for text in ("orari di apertura", "when are you open", "opening hours")),
    *(("~off_topic", text) for text in ("pizza recipe", "football match", "weather tomorrow")),
]


def test_features_hold_words_pairs_ngrams_and_sound_keys() -> None:
    found = features("Permesso scaduto")
    assert {"w:permesso", "w:scaduto", "b:permesso scaduto", " pe", "sso ", "k:brms"} <= found


def test_training_is_deterministic_and_reused() -> None:
    first = Classifier.train(EXAMPLES)
    assert Classifier.train(list(EXAMPLES)) is first  # the same examples: the same model
    assert first.rank("renew") == first.rank("renew")


def test_unseen_forms_reach_their_label() -> None:
    model = Classifier.train(EXAMPLES)
    assert model.rank("rinnovare permeso")[0][0] == "renewal"  # a typo, another verb form
    assert model.rank("pizza")[0][0] == "~off_topic"
    # The Italian word in Urdu letters shares the sound key of "permesso".
    urdu = dict(model.rank("پرمیسو"))
    assert urdu["renewal"] + urdu["lost"] > urdu["hours"]


def test_probabilities_add_up_and_every_label_is_ranked() -> None:
    ranked = Classifier.train(EXAMPLES).rank("opening hours please")
    assert ranked[0][0] == "hours"
    assert {label for label, _ in ranked} == {"renewal", "lost", "hours", "~off_topic"}
    assert abs(sum(chance for _, chance in ranked) - 1.0) < 1e-5


def test_nearest_example_measures_resemblance_not_likelihood() -> None:
    model = Classifier.train(EXAMPLES)
    assert model.nearest("lost my card", "lost") > 0.99  # a training example itself
    # Mostly words the content never uses: far from every example of any label.
    assert model.nearest("my cat likes blue cheese and jazz", "lost") < 0.3
    assert model.nearest("anything", "no such label") == 0.0


def test_nothing_known_is_nothing_ranked() -> None:
    model = Classifier.train(EXAMPLES)
    assert not model.knows_any("ぁぁぁ")
    assert model.nearest("ぁぁぁ", "renewal") == 0.0

"""The opt-out intent detector (SPEC §3, *Revocation in a sentence*): pure logic, no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapter.intent import (
    DEFAULT_LANGUAGES,
    Policy,
    detect,
    load_labelled,
    parse_languages,
    parse_policy,
    score,
)
from adapter.keywords import KeywordLists

DATA = Path(__file__).parent / "data"
EVALUATION = DATA / "opt_out_intent.csv"
# Written after successive versions of the grammar and measured before it was changed for them.
HELD_OUT = [DATA / f"opt_out_intent_holdout{n}.csv" for n in ("", "2", "3", "4")]
# Written after the last two versions and never tuned on: the honest estimate on text the
# grammar has not seen.
UNTUNED = [DATA / "opt_out_intent_untuned.csv", DATA / "opt_out_intent_untuned2.csv"]
ALL_SETS = [EVALUATION, *HELD_OUT, *UNTUNED]


def test_evaluation_set_meets_the_targets():
    scores = score(load_labelled(EVALUATION))
    missed = [message.text for message in scores.misses]
    assert scores.overall.recall >= 0.95, missed
    assert scores.overall.precision >= 0.98, missed


@pytest.mark.parametrize("path", HELD_OUT, ids=lambda path: path.stem)
def test_held_out_sets_meet_the_targets(path):
    scores = score(load_labelled(path))
    missed = [message.text for message in scores.misses]
    assert scores.overall.recall >= 0.95, missed
    assert scores.overall.precision >= 0.98, missed


def test_untuned_sets_stay_at_their_measured_level():
    # Measured when written and never tuned on (together: precision 98.3%, recall 94.2%); a
    # change that falls below this on text the grammar was not written for has made it worse.
    scores = score(message for path in UNTUNED for message in load_labelled(path))
    assert scores.overall.recall >= 0.94
    assert scores.overall.precision >= 0.98


def test_each_language_is_measured_on_its_own():
    scores = score(load_labelled(EVALUATION))
    for language in ("en", "es", "fr"):
        counts = scores.by_language[language]
        assert counts.tp + counts.fn >= 50, language
        assert counts.recall >= 0.95 and counts.precision >= 0.98, language


@pytest.mark.parametrize("path", ALL_SETS, ids=lambda path: path.stem)
def test_sets_hold_no_bare_keyword(path):
    # The detector is only asked about messages that are not keywords: the keyword matcher
    # answers those first.
    keywords = KeywordLists.of()
    messages = load_labelled(path)
    assert [m.text for m in messages if keywords.classify(m.text, stopped=True)] == []


def test_evaluation_set_is_large_hard_and_unique():
    messages = load_labelled(EVALUATION)
    assert len(messages) >= 400
    negatives = [m for m in messages if not m.intent]
    assert len(negatives) / len(messages) >= 0.45
    assert {m.language for m in messages} == {"en", "es", "fr"}
    texts = [m.text for s in ALL_SETS for m in load_labelled(s)]
    assert len(texts) == len(set(texts)), "a message appears twice across the sets"


@pytest.mark.parametrize("path", ALL_SETS, ids=lambda path: path.stem)
def test_triggers_quote_the_message_itself(path):
    for message in load_labelled(path):
        result = detect(message.text)
        if result.is_intent:
            assert result.triggers, message.text
            assert result.triggers in message.text, (result.triggers, message.text)
            assert result.explanation.startswith(f"{result.language} rule: ")
        else:
            assert result.triggers == "" and result.language is None


@pytest.mark.parametrize(
    ("text", "triggers"),
    [
        ("Please STOP texting me!!", "STOP texting"),
        ("ＳＴＯＰ texting me", "ＳＴＯＰ texting"),
        ("Arrêtez de m’écrire svp", "Arrêtez de m’écrire"),
        ("Désabonnez-moi", "Désabonnez"),
        ("stpo texting me", "stpo texting"),
        ("unsubcribe me", "unsubcribe"),
        ("dézabonnez moi", "dézabonnez"),
        ("dejen de enviarme mesajes", "dejen de enviarme"),
    ],
)
def test_triggers_keep_the_senders_spelling(text, triggers):
    result = detect(text)
    assert result.is_intent
    assert result.triggers == triggers


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("please stop texting me", "en"),
        ("take me off your list", "en"),
        ("no more texts please", "en"),
        ("No me envíen más mensajes", "es"),
        ("quiero darme de baja", "es"),
        ("dejen de escribirme", "es"),
        ("ne m'envoyez plus de messages", "fr"),
        ("je ne veux plus recevoir vos SMS", "fr"),
        ("retirez-moi de votre liste", "fr"),
    ],
)
def test_each_language(text, language):
    result = detect(text)
    assert result.is_intent and result.language == language


def test_languages_limit_the_grammars():
    assert detect("No me envíen más mensajes", ["es"]).is_intent
    assert not detect("No me envíen más mensajes", ["en"]).is_intent
    assert not detect("ne m'écrivez plus", ["en", "es"]).is_intent
    assert detect("ne m'écrivez plus", ["fr"]).is_intent
    with pytest.raises(ValueError, match="'de'"):
        detect("stop texting me", ["de"])


@pytest.mark.parametrize(
    "text",
    [
        "don't stop texting me",
        "Never stop sending me these deals",
        "I don't want to unsubscribe",
        "please don't remove me from the list",
        "no pares de enviarme los resultados",
        "No dejes de escribirme",
        "no me den de baja",
        "n'arrêtez pas de m'envoyer les scores",
        "ne me désabonnez pas",
        "Je ne veux pas me désabonner",
    ],
)
def test_negation_cancels(text):
    result = detect(text)
    assert not result.is_intent
    assert "negated" in result.explanation


def test_a_negated_sending_verb_is_itself_the_request():
    # "Don't text me" and "ne m'envoyez plus" carry their negation: it is the request.
    assert detect("don't text me again").is_intent
    assert detect("no me escriban más").is_intent
    assert detect("ne m'écrivez plus").is_intent
    # ...but "why won't you stop" is a complaint, not a negation.
    assert detect("Why won't you stop texting me?").is_intent


@pytest.mark.parametrize(
    "text",
    [
        'He said "stop texting me" but I want them',
        "Quote from the movie: “Stop texting me!” classic",
        "she replied 'unsubscribe me' to the wrong chat",
        "mi hijo escribió «baja» sin querer",
        "Il a dit « arrêtez de m'écrire » mais je veux les messages",
    ],
)
def test_quoted_or_reported_words_are_not_a_request(text):
    assert not detect(text).is_intent


def test_the_sender_quoting_themself_is_a_request():
    assert detect('I said "stop texting me"').is_intent
    assert detect("I already told you to stop texting me").is_intent


@pytest.mark.parametrize(
    "text",
    [
        "unsubscribe from what?",
        "is this the end?",
        "What does opt out mean?",
        "Why did you stop texting me?",
        "¿Qué significa darse de baja?",
        "se désabonner de quoi ?",
        "If I say stop, will you stop all emails too?",
    ],
)
def test_questions_about_the_words_are_not_requests(text):
    assert not detect(text).is_intent


@pytest.mark.parametrize(
    "text",
    [
        "How do I unsubscribe?",
        "Could you stop messaging me please?",
        "Can you take me off your list?",
        "¿Pueden dejar de enviarme mensajes?",
        "¿Cómo me doy de baja?",
        "Pouvez-vous arrêter de m'envoyer des messages ?",
    ],
)
def test_requests_asked_as_questions_are_requests(text):
    assert detect(text).is_intent


@pytest.mark.parametrize(
    "text",
    [
        "stop by the store at 5",
        "can't stop laughing",
        "the end of the month",
        "cancel my 3pm appointment and book 4pm instead",
        "can I opt out of the extended warranty?",
        "Take me off the waitlist for Tuesday and put me on Wednesday",
        "no more pizza for me thanks",
        "Stop it, you're making me blush 😊",
        "ok I'll stop bugging you now",
        "para mañana a las 5",
        "mi mamá está de baja esta semana",
        "¿cómo doy de baja mi tarjeta perdida?",
        "Sácame de la lista de espera del martes",
        "Arrête-toi à la boulangerie en rentrant",
        "plus de 3 personnes ce soir",
        "retirez-moi de la liste d'attente de mardi",
    ],
)
def test_look_alikes_are_not_intents(text):
    assert not detect(text).is_intent


def test_a_tease_said_laughing_is_not_a_request():
    assert "laughing" in detect("deja de mandarme memes jajaja").explanation
    assert not detect("arrête de m'envoyer des vidéos de chats mdr").is_intent
    assert not detect("stop sending me cat videos 😂").is_intent
    # Laughter elsewhere in the message does not make a clear request a joke.
    assert detect("lol who is this? stop texting me").is_intent


def test_a_lone_stop_needs_the_rest_of_the_message_to_be_about_messages():
    assert detect("Please stop!!!").is_intent
    assert detect("Stop. Wrong number.").is_intent
    assert not detect("Stop! You're too kind").is_intent


def test_misspellings_are_forgiven_only_near_the_key_words():
    assert detect("stpo texting me").is_intent
    assert detect("sto texting me").is_intent
    assert detect("unsubscibe me").is_intent
    # Real words one letter away stay themselves.
    assert not detect("stop testing me").is_intent
    assert not detect("stop messing with me").is_intent
    assert not detect("stop sexting him").is_intent


def test_explanations_name_the_rule_or_the_objection():
    assert detect("please stop texting me").explanation == "en rule: stop + a sending verb"
    rejected = detect("don't stop texting me")
    assert rejected.explanation.startswith("'stop texting' looks like en rule")
    assert detect("hello").explanation == "no opt-out phrase"


def test_detection_is_deterministic():
    messages = load_labelled(EVALUATION)
    first = [detect(m.text) for m in messages]
    assert [detect(m.text) for m in reversed(messages)][::-1] == first


@pytest.mark.parametrize(
    ("value", "policy"),
    [
        (None, Policy.ASK),
        ("", Policy.ASK),
        ("  ", Policy.ASK),
        ("ask", Policy.ASK),
        ("STOP", Policy.STOP),
        (" Flag ", Policy.FLAG),
    ],
)
def test_parse_policy(value, policy):
    assert parse_policy(value) is policy


def test_parse_policy_names_the_choices():
    with pytest.raises(ValueError, match=r"one of ask, stop, flag, not 'block'"):
        parse_policy("block")


@pytest.mark.parametrize(
    ("value", "languages"),
    [
        (None, ("en", "es", "fr")),
        ("", ("en", "es", "fr")),
        (" , ", ("en", "es", "fr")),
        ("fr", ("fr",)),
        ("ES, en", ("es", "en")),
        ("en en fr", ("en", "fr")),
    ],
)
def test_parse_languages(value, languages):
    assert parse_languages(value) == languages
    assert DEFAULT_LANGUAGES == ("en", "es", "fr")


def test_parse_languages_refuses_a_language_without_grammar():
    with pytest.raises(ValueError, match=r"no grammar for 'pt'; supported: en, es, fr"):
        parse_languages("en,pt")

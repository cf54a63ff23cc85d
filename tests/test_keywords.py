"""Keyword matching (SPEC §3): pure logic, no database."""

from __future__ import annotations

import pytest

from adapter.keywords import KeywordLists, normalize
from adapter.provider import Keyword

DEFAULTS = KeywordLists.of()


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Stop. ",
        "ＳＴＯＰ",  # full-width, as some phone keyboards send it
        "stop!!!",
        "\tSTOP\n",
        "opt out",
        "OPT-OUT",
        "optout",
        "stop all",
        "STOPALL",
        "Stop  All",
        "UNSUBSCRIBE",
        "cancel",
        "End",
        "quit",
        "revoke",
        "ARRÊT",
        "arret",
        "🛑 STOP 🛑",
    ],
)
def test_opt_out_spellings(text):
    assert DEFAULTS.classify(text, stopped=False) == Keyword.OPT_OUT
    assert DEFAULTS.classify(text, stopped=True) == Keyword.OPT_OUT


@pytest.mark.parametrize(
    "text",
    [
        "please stop texting me",
        "stop it",
        "don't stop",
        "STOPPED",
        "hello",
        "",
        "   ",
        "...",
        "😀",
        "停止",
    ],
)
def test_sentences_and_other_text_are_not_keywords(text):
    assert DEFAULTS.classify(text, stopped=False) is None


@pytest.mark.parametrize("text", ["START", "start.", "Unstop", "UNSTOP"])
def test_opt_in_keywords(text):
    assert DEFAULTS.classify(text, stopped=True) == Keyword.OPT_IN
    assert DEFAULTS.classify(text, stopped=False) == Keyword.OPT_IN


def test_yes_is_an_opt_in_only_for_someone_stopped():
    assert DEFAULTS.classify("Yes!", stopped=True) == Keyword.OPT_IN
    assert DEFAULTS.classify("Yes!", stopped=False) is None


@pytest.mark.parametrize("text", ["HELP", "help?", "Info"])
def test_help_keywords(text):
    assert DEFAULTS.classify(text, stopped=False) == Keyword.HELP


def test_configured_lists_replace_the_defaults_and_may_hold_other_languages():
    spanish = KeywordLists.of(opt_out=["ALTO", "PARE"], opt_in=["INICIO"], help=["AYUDA"])
    assert spanish.classify("alto", stopped=False) == Keyword.OPT_OUT
    assert spanish.classify("Páre", stopped=False) == Keyword.OPT_OUT
    assert spanish.classify("inicio", stopped=True) == Keyword.OPT_IN
    assert spanish.classify("AYUDA", stopped=False) == Keyword.HELP
    assert spanish.classify("STOP", stopped=False) is None


def test_a_word_on_both_lists_is_read_as_an_opt_out():
    both = KeywordLists.of(opt_out=["END"], opt_in=["END"])
    assert both.classify("end", stopped=True) == Keyword.OPT_OUT


def test_normalize_collapses_inner_space_and_strips_accents():
    assert normalize("  Arrêt   Tout. ") == "arret tout"

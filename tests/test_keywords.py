"""Keyword matching (SPEC §3): pure logic, no database."""

from __future__ import annotations

import pytest

from adapter.channels import DEFAULT_OPT_OUT_REPLY, load_channel_settings
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
        "Arrêt!",
        "🛑 STOP 🛑",
        "OPT\u2010OUT",  # Unicode hyphen
        "opt\u2013out",  # en dash
        "Opt\u2014Out",  # em dash, as iOS smart punctuation types "--"
        "ＯＰＴ－ＯＵＴ",  # full-width, hyphen included
        "STOP\u200b",  # zero-width space pasted after the word
        "ST\u00adOP",  # soft hyphen inside the word
        "\ufeffStop",  # byte-order mark in front
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
        "end of the month",
        "stop stop",
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


def test_normalize_keeps_non_latin_text():
    assert normalize(" Привет, мир! ") == "привет, мир"
    assert normalize("你好") == "你好"


class _Provider:
    """Any provider: the settings are found through its prefix alone."""

    name = "acme"
    env_prefix = "ACME"

    def enforces_opt_out(self, config):
        return config.get("ACME_ENFORCES") == "yes"


def test_channel_settings_come_from_the_providers_own_prefix():
    settings = load_channel_settings(
        _Provider(),
        {
            "ACME_OPT_OUT_KEYWORDS": "STOP, ALTO ,PARE",
            "ACME_HELP_REPLY": "Acme alerts. Help: acme.example/help",
            "ACME_ENFORCES": "yes",
            # Another provider's settings are not this channel's.
            "OTHER_OPT_OUT_KEYWORDS": "NOPE",
        },
    )
    assert settings.name == "acme"
    assert settings.enforces_opt_out is True
    assert settings.keywords.classify("Alto", stopped=False) == Keyword.OPT_OUT
    assert settings.keywords.classify("nope", stopped=False) is None
    # Replaced, not extended: a list without CANCEL no longer knows it.
    assert settings.keywords.classify("cancel", stopped=False) is None
    assert settings.help_reply == "Acme alerts. Help: acme.example/help"
    assert settings.opt_out_reply == DEFAULT_OPT_OUT_REPLY


def test_blank_channel_settings_keep_the_defaults():
    settings = load_channel_settings(
        _Provider(), {"ACME_OPT_OUT_KEYWORDS": " , ", "ACME_OPT_OUT_REPLY": "   "}
    )
    assert settings.keywords.classify("STOP", stopped=False) == Keyword.OPT_OUT
    assert settings.opt_out_reply == DEFAULT_OPT_OUT_REPLY
    assert "START" in settings.opt_out_reply

"""Opt-out, opt-in and help keywords (SPEC §3): whole-message matching, Unicode-safe."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from .provider import Keyword

# The major providers' default list plus the words the FCC's 2025 consent-revocation rule names;
# ARRET is required in Canada. Spellings with a space or hyphen (OPT OUT, OPT-OUT) match through
# :func:`match_key`, so one entry covers them all.
DEFAULT_OPT_OUT = (
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
    "ARRET",
)
DEFAULT_OPT_IN = ("START", "UNSTOP", "YES")
DEFAULT_HELP = ("HELP", "INFO")
# YES is an opt-in only from someone who opted out; from anyone else it is an ordinary reply.
OPT_IN_ONLY_WHEN_STOPPED = frozenset({"yes"})

_SURROUNDING = re.compile(r"^[\W_]+|[\W_]+$")
# Besides ASCII ones, phones send typographic dashes (iOS turns "--" into an em dash) and the
# minus sign; all of them separate words as a hyphen does.
_SEPARATORS = re.compile(r"[\s\-_.\u2010-\u2015\u2212\ufe58\ufe63\uff0d]+")


def _is_ignorable(char: str) -> bool:
    # Accents (combining marks) and invisible format characters (zero-width space and joiner,
    # soft hyphen, BOM) that keyboards and copy-paste slip into a word without changing it.
    return bool(unicodedata.combining(char)) or unicodedata.category(char) == "Cf"


def fold(text: str) -> str:
    """NFKC, case folding, accents and invisible format characters removed: ``Arrêt`` becomes
    ``arret``, full-width STOP ``stop``. Punctuation and white space are left as they are."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(
        char for char in unicodedata.normalize("NFKD", folded) if not _is_ignorable(char)
    )


def normalize(text: str) -> str:
    """:func:`fold`, then surrounding white space and punctuation trimmed and inner white space
    collapsed: `` Arrêt. `` becomes ``arret``."""
    trimmed = _SURROUNDING.sub("", fold(text))
    return " ".join(trimmed.split())


def match_key(text: str) -> str:
    """The form keywords are compared in: normalised, with inner spaces and hyphens dropped, so
    OPT OUT, OPT-OUT and OPTOUT are one keyword, as are STOP ALL and STOPALL."""
    return _SEPARATORS.sub("", normalize(text))


@dataclass(frozen=True)
class KeywordLists:
    opt_out: frozenset[str]
    opt_in: frozenset[str]
    help: frozenset[str]

    @classmethod
    def of(
        cls,
        opt_out: Iterable[str] = DEFAULT_OPT_OUT,
        opt_in: Iterable[str] = DEFAULT_OPT_IN,
        help: Iterable[str] = DEFAULT_HELP,
    ) -> KeywordLists:
        def keys(words: Iterable[str]) -> frozenset[str]:
            return frozenset(key for key in map(match_key, words) if key)

        return cls(opt_out=keys(opt_out), opt_in=keys(opt_in), help=keys(help))

    def classify(self, text: str | None, stopped: bool) -> Keyword | None:
        """The keyword ``text`` is, if it is one as a whole message. ``stopped`` says whether
        the sender has opted out, which is when YES counts as an opt-in."""
        if not text:
            return None
        key = match_key(text)
        if not key:
            return None
        # Opt-out first: a word on both lists must never be read as consent.
        if key in self.opt_out:
            return Keyword.OPT_OUT
        if key in self.opt_in and (stopped or key not in OPT_IN_ONLY_WHEN_STOPPED):
            return Keyword.OPT_IN
        if key in self.help:
            return Keyword.HELP
        return None

"""Opt-out requests written as sentences ("please stop texting me"), SPEC §3 *Revocation in a
sentence*: :func:`detect` and the settings that steer it."""

from .detector import GRAMMARS, IntentResult, detect
from .evaluation import Counts, Labelled, Scores, load_labelled, score
from .settings import DEFAULT_LANGUAGES, Policy, parse_languages, parse_policy

__all__ = [
    "DEFAULT_LANGUAGES",
    "GRAMMARS",
    "Counts",
    "IntentResult",
    "Labelled",
    "Policy",
    "Scores",
    "detect",
    "load_labelled",
    "parse_languages",
    "parse_policy",
    "score",
]

"""The shape of a language's phrase grammar: what asks for no more messages, and what around such
words says that they do not ask it (a negation, a question, someone else's words, a look-alike).

Patterns run on folded text (lower case, no accents, ASCII apostrophes and quotes, hyphens as
spaces), one clause at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .text import words


def pattern(source: str) -> re.Pattern[str]:
    # Verbose mode lets each grammar spell its alternatives over several commented lines.
    return re.compile(source, re.VERBOSE)


NEVER = pattern(r"(?!x)x")
# Tears of joy, rolling on the floor, grinning squint, sweat smile, winking tongue: said
# laughing, in any language.
LAUGHING_EMOJI = "[\U0001f602\U0001f923\U0001f606\U0001f605\U0001f61c]"


@dataclass(frozen=True)
class Rule:
    """One way of asking for no more messages. ``name`` is what the explanation calls it."""

    name: str
    regex: re.Pattern[str]
    # A negation just before the words cancels them ("don't stop texting me"). Off for rules
    # whose words are a negation themselves ("don't text me").
    negatable: bool = True
    # What follows "from ..." / "of ..." must be messages or a list ("opt out of the warranty"
    # is not about messages).
    scoped: bool = False
    # The words make up a whole clause ("please stop"), and count only when nothing else in the
    # message gives them another meaning (see :attr:`Grammar.support`).
    bare: bool = False


@dataclass(frozen=True)
class Grammar:
    language: str
    rules: tuple[Rule, ...]
    # Matched against the clause's text before the trigger, at its end.
    negation: re.Pattern[str]
    # Matched against the clause's text after the trigger's first word, at its start
    # ("n'arrêtez pas de m'écrire", "désabonnez-moi pas").
    negation_after: re.Pattern[str] = NEVER
    # Anywhere before the trigger in its clause: someone else's words, or a conditional ("my son
    # texted", "what happens if I reply").
    reported: re.Pattern[str] = NEVER
    # An earlier clause of the same sentence that makes it hypothetical ("If I say stop, will
    # you stop the emails too?").
    conditional: re.Pattern[str] = NEVER
    # Before the trigger: the sender speaks of stopping themself ("I'll stop texting so late").
    self_subject: re.Pattern[str] = NEVER
    # Before the trigger: a past tense ("vous avez arrêté de m'écrire").
    past: re.Pattern[str] = NEVER
    # The start of a question that is a request or a how-to ("can you...", "how do I...");
    # other questions only ask about the words ("unsubscribe from what?").
    request: re.Pattern[str] = NEVER
    # Questions that are complaints in disguise; their negation is not one ("why won't you stop").
    rhetorical: re.Pattern[str] = NEVER
    # After a scoped trigger: "from"/"of" and what it must then name.
    scope_intro: re.Pattern[str] = NEVER
    scope_ok: re.Pattern[str] = NEVER
    # After the trigger: the word is talked about ("unsubscribe is spelled wrong").
    mention: re.Pattern[str] = NEVER
    # In another clause: what lets a bare "stop" be about messages ("Stop. Wrong number.").
    support: re.Pattern[str] = NEVER
    # In the trigger's clause: it was sent by mistake.
    mistake: re.Pattern[str] = NEVER
    # In the trigger's clause: laughter, so a tease between friends rather than a request
    # ("deja de mandar memes jaja").
    playful: re.Pattern[str] = NEVER
    # Before a quotation: the sender quotes themself ("I said 'stop'").
    own_quote: re.Pattern[str] = NEVER
    # Key words a misspelling is put right to, and real words near them never to be "corrected".
    spelling: frozenset[str] = field(default_factory=frozenset)
    known: frozenset[str] = field(default_factory=frozenset)


def spelling(*values: str) -> frozenset[str]:
    return words(values)

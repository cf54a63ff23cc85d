"""The opt-out intent detector: a message that is not a keyword but asks for no more messages.

Deterministic and explainable: each language's phrase grammar names the rule that matched and
the objection that cancelled a look-alike; nothing is downloaded and nothing is learnt."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from . import en, es, fr
from .grammar import Grammar, Rule
from .text import Clause, Folded, Speller, fold_message, spell_corrected

GRAMMARS: dict[str, Grammar] = {
    grammar.language: grammar for grammar in (en.GRAMMAR, es.GRAMMAR, fr.GRAMMAR)
}


@dataclass(frozen=True)
class IntentResult:
    is_intent: bool
    # The message's own words that made it an intent ("" when it is not one).
    triggers: str
    # The language whose grammar matched (None when none did).
    language: str | None
    # Which rule matched, or why the closest look-alike did not count.
    explanation: str


@dataclass(frozen=True)
class _Candidate:
    grammar: Grammar
    rule: Rule
    clause: Clause
    match: re.Match[str]


def detect(text: str, languages: Sequence[str] = ("en", "es", "fr")) -> IntentResult:
    """Whether ``text`` (a message that is not a keyword) asks for no more messages, read with
    the grammars of ``languages`` in that order."""
    base = fold_message(text or "")
    # Each grammar reads the message with its own spelling corrections, so a word of one
    # language is never "corrected" into another's ("contacten" is not "contacting").
    views = [
        (grammar, folded, folded.clauses())
        for grammar in map(_grammar, languages)
        for folded in [spell_corrected(base, _speller(grammar.language))]
    ]
    grammars = [grammar for grammar, _, _ in views]
    # Which clauses are about messages, for judging a bare "stop": computed once, when needed.
    supports = _Supports(grammars)
    objected: tuple[_Candidate, Folded, str] | None = None
    # Rules with words of their own first; a bare "stop" is judged only when none of them
    # matched, by what the rest of the message says.
    for bare in (False, True):
        for grammar, folded, clauses in views:
            for rule in grammar.rules:
                if rule.bare != bare:
                    continue
                for clause in clauses:
                    for match in rule.regex.finditer(clause.text):
                        candidate = _Candidate(grammar, rule, clause, match)
                        objection = _objection(candidate, folded, clauses, supports)
                        if objection is None:
                            return IntentResult(
                                True,
                                _words(candidate, folded),
                                grammar.language,
                                f"{grammar.language} rule: {rule.name}",
                            )
                        objected = objected or (candidate, folded, objection)
    if objected is None:
        return IntentResult(False, "", None, "no opt-out phrase")
    candidate, folded, objection = objected
    return IntentResult(
        False,
        "",
        None,
        f"{_words(candidate, folded)!r} looks like {candidate.grammar.language} rule "
        f"'{candidate.rule.name}', but {objection}",
    )


class _Supports:
    def __init__(self, grammars: list[Grammar]) -> None:
        self._grammars = grammars
        self._known: dict[str, bool] = {}

    def __call__(self, clause: Clause) -> bool:
        if clause.text not in self._known:
            self._known[clause.text] = any(g.support.search(clause.text) for g in self._grammars)
        return self._known[clause.text]


def _objection(
    candidate: _Candidate, folded: Folded, clauses: list[Clause], supports: _Supports
) -> str | None:
    """Why the matched words do not ask for no more messages, or None when they do."""
    grammar, rule, clause, match = (
        candidate.grammar,
        candidate.rule,
        candidate.clause,
        candidate.match,
    )
    before = clause.text[: match.start()]
    after = clause.text[match.end() :]
    rhetorical = bool(grammar.rhetorical.search(clause.text))
    if grammar.mistake.search(clause.text):
        return "the message says it was sent by mistake"
    if grammar.playful.search(clause.text):
        return "it is said laughing"
    start = clause.start + match.start()
    for quote_start, quote_end in folded.quoted_spans():
        if quote_start <= start < quote_end and not grammar.own_quote.search(
            folded.text[:quote_start]
        ):
            return "the words are quoted"
    if grammar.reported.search(before) or _hypothetical(grammar, clause, clauses):
        return "it reports someone else's words or a condition"
    first_word = re.match(r"\S*", clause.text[match.start() :])
    after_verb = clause.text[match.start() + (first_word.end() if first_word else 0) :]
    negated = grammar.negation.search(before) or grammar.negation_after.match(after_verb)
    if rule.negatable and negated and not rhetorical:
        return "it is negated"
    if grammar.self_subject.search(before):
        return "the sender speaks of stopping themself"
    if grammar.past.search(before):
        return "it tells what happened"
    if clause.question and not rhetorical and not grammar.request.search(clause.text):
        return "it is a question about the words, not a request"
    if grammar.mention.match(after):
        return "the word is talked about"
    if rule.scoped:
        intro = grammar.scope_intro.match(after)
        if intro and not grammar.scope_ok.match(after[intro.end() :]):
            return "it is about something other than messages"
    others = (other for other in clauses if other is not clause)
    if rule.bare and len(clauses) > 1 and not any(map(supports, others)):
        return "a lone 'stop' beside words about something else"
    return None


def _hypothetical(grammar: Grammar, clause: Clause, clauses: list[Clause]) -> bool:
    """An earlier clause of the same sentence sets a condition ("If I say stop, ...")."""
    index = clauses.index(clause)
    while index > 0 and clauses[index].continues:
        index -= 1
        if grammar.conditional.search(clauses[index].text):
            return True
    return False


def _words(candidate: _Candidate, folded: Folded) -> str:
    start = candidate.clause.start + candidate.match.start()
    end = candidate.clause.start + candidate.match.end()
    # A bare clause's pattern takes in punctuation and emoji around the word; quote the words.
    while start < end and not folded.text[start].isalnum():
        start += 1
    while end > start and not folded.text[end - 1].isalnum():
        end -= 1
    return folded.quote(start, end)


def _grammar(code: str) -> Grammar:
    try:
        return GRAMMARS[code]
    except KeyError:
        raise ValueError(f"no opt-out intent grammar for language {code!r}") from None


@cache
def _speller(language: str) -> Speller:
    grammar = GRAMMARS[language]
    return Speller(targets=grammar.spelling, known=grammar.known)

"""Precision, recall and speed of the opt-out intent detector on the labelled sets.

    .venv/bin/python bench/intent.py [SECONDS]

For each set in tests/data/opt_out_intent*.csv: TP/FP/FN/TN, precision and recall, overall and
per language. Then the detector's throughput over all those messages, beside the whole-message
keyword matcher's on the same messages in the same run (the work every inbound message already
costs), so the figure says what the detector adds to the inbound path."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from adapter.intent import Counts, detect, load_labelled, score
from adapter.keywords import KeywordLists

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def line(name: str, counts: Counts) -> str:
    return (
        f"  {name:<8} TP {counts.tp:>3}  FP {counts.fp:>2}  FN {counts.fn:>2}  TN {counts.tn:>3}"
        f"  precision {counts.precision:6.1%}  recall {counts.recall:6.1%}"
    )


def throughput(work: Callable[[str], object], texts: list[str], seconds: float) -> float:
    done = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for text in texts:
            work(text)
        done += len(texts)
    return done / elapsed


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    texts: list[str] = []
    for path in sorted(DATA.glob("opt_out_intent*.csv")):
        messages = load_labelled(path)
        texts += [message.text for message in messages]
        scores = score(messages)
        print(f"{path.name} ({len(messages)} messages)")
        print(line("all", scores.overall))
        for language, counts in sorted(scores.by_language.items()):
            print(line(language, counts))
        for message in scores.misses:
            kind = "FN" if message.intent else "FP"
            print(f"    {kind} [{message.language}] {message.text}")
    keywords = KeywordLists.of()
    detector = throughput(detect, texts, seconds)
    ceiling = throughput(lambda text: keywords.classify(text, stopped=False), texts, seconds)
    print(
        f"\ndetector: {detector:,.0f} messages/s; keyword matcher (same messages, same run): "
        f"{ceiling:,.0f} messages/s; the detector costs {ceiling / detector:.0f}x a keyword match"
    )


if __name__ == "__main__":
    main()

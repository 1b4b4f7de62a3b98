"""The built-in bot (服务助手): answers from a small FAQ file, hands off when it cannot (R7.7).

``resources/faq.toml`` holds ``[[faq]]`` entries, each with ``keywords`` and an ``answer``. The
first entry with a keyword contained in the buyer's message answers it. A message with a
hand-off word (policy ``bot.handoff_words``), or one no entry matches, is handed to a human.
Matching is on casefolded text, so ``FAQ`` and ``faq`` are the same keyword.

An entry with ``assist = false`` (a greeting) is left out when the bot assists an agent (policy
``bot.assist``): inside an agent's session only real answers are worth sending.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from console.paths import resource
from console.routing.matching import says_handoff

DEFAULT_FAQ = resource("faq.toml")


class FaqError(ValueError):
    """The FAQ file is not valid (the message names the entry)."""


@dataclass(frozen=True, slots=True)
class FaqEntry:
    keywords: tuple[str, ...]
    answer: str
    assist: bool = True  # also answers inside an agent's session (bot.assist)


@dataclass(frozen=True, slots=True)
class BotAnswer:
    """What the bot does with one message: ``text`` to answer, or ``None`` to hand off."""

    text: str | None

    @property
    def handoff(self) -> bool:
        return self.text is None


class Bot:
    def __init__(self, entries: tuple[FaqEntry, ...]) -> None:
        self.entries = entries

    @classmethod
    def from_file(cls, path: Path = DEFAULT_FAQ) -> Bot:
        """Load the FAQ; a missing default file gives a bot that always hands off."""
        if not path.exists() and path == DEFAULT_FAQ:
            return cls(())
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise FaqError(f"{path}: {exc}") from None
        return cls(parse_faq(data, str(path)))

    @classmethod
    def from_text(cls, text: str, where: str) -> Bot:
        """A FAQ kept as text (a shop's own on PostgreSQL, issue 15); ``where`` names it in errors."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise FaqError(f"{where}: {exc}") from None
        return cls(parse_faq(data, where))

    def answer(self, text: str, handoff_words: tuple[str, ...], *, assist: bool = False) -> BotAnswer:
        """``assist``: the bot answers inside an agent's session (only entries meant for it)."""
        if says_handoff(text, handoff_words):  # R7.7 hand-off word: the engine's own matcher
            return BotAnswer(None)
        folded = text.casefold()
        for entry in self.entries:
            if assist and not entry.assist:
                continue
            if any(keyword in folded for keyword in entry.keywords):
                return BotAnswer(entry.answer)
        return BotAnswer(None)  # R7.7: the bot cannot answer


def parse_faq(data: object, where: str = "faq") -> tuple[FaqEntry, ...]:
    if not isinstance(data, dict):
        raise FaqError(f"{where}: expected a table")
    items = data.get("faq", [])
    if not isinstance(items, list):
        raise FaqError(f"{where}: faq: expected [[faq]] entries")
    entries = []
    for i, item in enumerate(items):
        path = f"{where}: faq[{i}]"
        if not isinstance(item, dict):
            raise FaqError(f"{path}: expected a table")
        keywords = item.get("keywords")
        answer = item.get("answer")
        if not isinstance(keywords, list) or not keywords or not all(isinstance(k, str) and k for k in keywords):
            raise FaqError(f"{path}.keywords: expected a non-empty list of non-empty strings")
        if not isinstance(answer, str) or not answer.strip():
            raise FaqError(f"{path}.answer: expected a non-empty string")
        assist = item.get("assist", True)
        if not isinstance(assist, bool):
            raise FaqError(f"{path}.assist: expected true or false")
        unknown = set(item) - {"keywords", "answer", "assist"}
        if unknown:
            raise FaqError(f"{path}.{sorted(unknown)[0]}: unknown key")
        entries.append(FaqEntry(tuple(k.casefold() for k in keywords), answer, assist))
    return tuple(entries)

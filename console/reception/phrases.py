"""Quick replies (快捷短语, CONSOLE.md §6) on the console side, without Qt: search, variables, CSV.

- ``PhraseIndex`` answers the reply box's ``/`` popup: a phrase matches by its title, its text,
  or the pinyin initials of either (``tk`` finds 退款, ``qsd`` 请稍等). Initials come from
  ``pypinyin`` (its phrase dictionary picks the common reading of polyphones: 行 in 银行 is h),
  computed once per phrase when the list changes, not per keystroke.
- ``fill`` puts the buyer's name, the agent's name and the buyer's latest order number in place
  of ``{买家}``, ``{客服}``, ``{订单号}`` (an unknown value becomes empty).
- ``read_csv`` / ``write_csv``: the exchange format with shops' spreadsheets, UTF-8 (with BOM, so
  Excel opens it right) or GBK (what Chinese Excel and most shop tools write). Reading is all or
  nothing: every bad row is reported by its line number and no phrase is returned.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from console.protocol.messages import (
    MAX_PHRASE_BATCH,
    MAX_PHRASE_TEXT,
    PhraseDraft,
    PhraseInfo,
    PhraseScope,
)

VARIABLES = ("{买家}", "{客服}", "{订单号}")
PINNED_KEYS = 9  # Ctrl+1..9
TITLE_MAX = 40
GROUP_MAX = 20

# CSV columns, Chinese header first; the English one is accepted too.
HEADER = ("分组", "标题", "内容", "置顶")
HEADER_EN = ("group", "title", "text", "pinned")
_YES = {"1", "是", "y", "yes", "true", "置顶"}
_NO = {"", "0", "否", "n", "no", "false"}


def initials(text: str) -> str:
    """Pinyin initials of the Chinese characters, letters and digits as they are, lower case.

    >>> initials("退款流程 OK")
    'tklcok'
    """
    # imported here: its dictionaries take 0.14 s to load, which only the phrase search needs
    # (not the server, nor a command that reads a phrase CSV)
    from pypinyin import Style, lazy_pinyin

    parts = lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")
    return "".join(ch for part in parts for ch in part.lower() if ch.isascii() and ch.isalnum())


@dataclass(frozen=True, slots=True)
class _Entry:
    phrase: PhraseInfo
    title: str
    text: str
    title_initials: str
    text_initials: str


class PhraseIndex:
    """The phrases in list order, with what the search needs precomputed."""

    def __init__(self, phrases: Iterable[PhraseInfo] = ()) -> None:
        self.phrases: list[PhraseInfo] = list(phrases)
        self._entries = [_Entry(p, p.title.lower(), p.text.lower(), initials(p.title), initials(p.text))
                         for p in self.phrases]

    def search(self, query: str) -> list[PhraseInfo]:
        """Matching phrases, best first: title prefix, title, title initials, text, text initials;
        list order within each. An empty query lists them all."""
        q = query.strip().lower()
        if not q:
            return list(self.phrases)
        q_initials = "".join(ch for ch in q if ch.isascii() and ch.isalnum())
        ranked: list[tuple[int, int, PhraseInfo]] = []
        for place, e in enumerate(self._entries):
            rank = _rank(e, q, q_initials)
            if rank is not None:
                ranked.append((rank, place, e.phrase))
        ranked.sort(key=lambda r: (r[0], r[1]))
        return [p for _, _, p in ranked]

    def pinned(self) -> list[PhraseInfo]:
        """The phrases Ctrl+1..9 insert, in list order (the team's first)."""
        return [p for p in self.phrases if p.pinned][:PINNED_KEYS]

    def groups(self, scope: PhraseScope) -> list[str]:
        """Group names of one set, in the order of their first phrase."""
        seen: dict[str, None] = {}
        for p in self.phrases:
            if p.scope is scope:
                seen.setdefault(p.group, None)
        return list(seen)


def _rank(e: _Entry, q: str, q_initials: str) -> int | None:
    if e.title.startswith(q):
        return 0
    if q in e.title:
        return 1
    if q_initials == q and q_initials:  # initials are typed as plain letters and digits
        if e.title_initials.startswith(q):
            return 2
        if q in e.title_initials:
            return 3
    if q in e.text:
        return 4
    if q_initials == q and q_initials and q in e.text_initials:
        return 5
    return None


def fill(text: str, *, buyer: str, agent: str, order: str | None) -> str:
    """The phrase as sent: its variables replaced (an unknown order number becomes empty)."""
    return text.replace("{买家}", buyer).replace("{客服}", agent).replace("{订单号}", order or "")


# -- CSV ------------------------------------------------------------------------------------------


class CsvEncoding(StrEnum):
    UTF8 = "utf-8-sig"  # with a BOM: Excel then reads it as UTF-8
    GBK = "gbk"


class Problem(StrEnum):
    """What is wrong with a CSV row (the console words each one, in Chinese or English)."""

    ENCODING = "encoding"  # neither UTF-8 nor GBK
    HEADER = "header"  # the first line is not 分组,标题,内容,置顶
    COLUMNS = "columns"  # not 3 or 4 columns (detail: how many)
    NO_TITLE = "no_title"
    NO_TEXT = "no_text"
    LONG_TITLE = "long_title"
    LONG_GROUP = "long_group"
    LONG_TEXT = "long_text"
    PINNED = "pinned"  # 置顶 is neither 是 nor empty (detail: what it is)
    EMPTY = "empty"  # no phrase in the file
    TOO_MANY = "too_many"  # more than one request may add
    # the catalogue's (console/reception/catalog.py)
    NO_ID = "no_id"
    BAD_ID = "bad_id"  # too long, or holds hidden characters (identifiers.ID_RULE)
    PRICE = "price"  # not a price in yuan (detail: what it is)
    LINK = "link"  # image or url is not an http(s) address
    DUPLICATE = "duplicate"  # an id given twice (detail: the id and its first line)


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int  # 1-based line of the file (the header is line 1)
    problem: Problem
    detail: str = ""


class CsvError(ValueError):
    """The file cannot be imported; ``problems`` names each bad row by line. Nothing is imported."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        super().__init__("; ".join(f"line {p.line}: {p.problem.value} {p.detail}".rstrip() for p in problems))
        self.problems = list(problems)


def write_csv(phrases: Iterable[PhraseInfo], encoding: CsvEncoding = CsvEncoding.UTF8) -> bytes:
    """A file with the header 分组,标题,内容,置顶. GBK cannot hold every character: such a phrase
    raises ``UnicodeEncodeError`` (the caller offers UTF-8 instead) rather than losing text."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for p in phrases:
        writer.writerow((p.group, p.title, p.text, "是" if p.pinned else ""))
    return out.getvalue().encode(encoding.value)


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes as such, else GBK; neither: ``CsvError``."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # GBK's superset: also reads files that say GBK but hold more
    except UnicodeDecodeError as exc:
        raise CsvError([RowProblem(_line_of(data, exc.start), Problem.ENCODING)]) from None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_csv(data: bytes, scope: PhraseScope) -> list[PhraseDraft]:
    """Phrases to add to ``scope``, or ``CsvError`` listing every bad row (then nothing is added).

    Columns: 分组, 标题, 内容, 置顶 (or group, title, text, pinned); the header row is required so
    a file of some other shape is not taken for phrases."""
    text = decode_csv(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[RowProblem] = []
    drafts: list[PhraseDraft] = []
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header[:4]) not in (HEADER, HEADER_EN):
        raise CsvError([RowProblem(1, Problem.HEADER)])
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 3 or len(row) > 4:
            problems.append(RowProblem(line, Problem.COLUMNS, str(len(row))))
            continue
        group, title, body = row[0].strip(), row[1].strip(), row[2].strip()
        pin = row[3].strip().lower() if len(row) == 4 else ""
        why = _check(group, title, body, pin)
        if why is not None:
            problems.append(RowProblem(line, *why))
            continue
        drafts.append(PhraseDraft(scope=scope, group=group, title=title, text=body, pinned=pin in _YES))
    if not problems and not drafts:
        problems.append(RowProblem(1, Problem.EMPTY))
    if len(drafts) > MAX_PHRASE_BATCH:
        problems.append(RowProblem(1, Problem.TOO_MANY, str(MAX_PHRASE_BATCH)))
    if problems:
        raise CsvError(problems)
    return drafts


def _check(group: str, title: str, text: str, pin: str) -> tuple[Problem, str] | None:
    if not title:
        return Problem.NO_TITLE, ""
    if not text:
        return Problem.NO_TEXT, ""
    if len(title) > TITLE_MAX:
        return Problem.LONG_TITLE, str(TITLE_MAX)
    if len(group) > GROUP_MAX:
        return Problem.LONG_GROUP, str(GROUP_MAX)
    if len(text) > MAX_PHRASE_TEXT:
        return Problem.LONG_TEXT, str(MAX_PHRASE_TEXT)
    if pin not in _YES and pin not in _NO:
        return Problem.PINNED, pin
    return None

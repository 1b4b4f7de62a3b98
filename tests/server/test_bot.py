"""The FAQ bot's choices (console/server/bot.py): which entries answer when it assists an agent."""

from __future__ import annotations

import pytest

from console.server.bot import DEFAULT_FAQ, Bot, FaqError, parse_faq

pytestmark = pytest.mark.sqlite_only  # no store in these tests


def test_a_greeting_is_not_sent_inside_an_agents_session() -> None:
    bot = Bot.from_file(DEFAULT_FAQ)
    assert bot.answer("在吗", ("人工",)).text is not None  # the bot's own buyer is greeted
    assert bot.answer("在吗", ("人工",), assist=True).text is None  # an agent's buyer is not
    assert "发货" in (bot.answer("在吗？什么时候发货", ("人工",), assist=True).text or "")
    assert bot.answer("发货要转人工", ("人工",), assist=True).text is None  # a hand-off word: silent


def test_assist_must_be_true_or_false() -> None:
    with pytest.raises(FaqError, match=r"faq\[0\]\.assist"):
        parse_faq({"faq": [{"keywords": ["a"], "answer": "b", "assist": "no"}]})

"""The platform's [微笑]-style codes as emoji (issue 13): one table, only its codes replaced."""

from __future__ import annotations

from console.reception.emoji import CODES, PICKER, with_emoji


def test_known_codes_become_emoji_and_other_brackets_stay_text() -> None:
    assert with_emoji("好的[微笑]") == "好的🙂"
    assert with_emoji("[大哭][大哭]退款呢") == "😭😭退款呢"
    assert with_emoji("[商品] 碎花连衣裙 [订单号] [微笑") == "[商品] 碎花连衣裙 [订单号] [微笑"
    assert with_emoji("[[微笑]]") == "[🙂]"
    assert with_emoji("no brackets") == "no brackets"


def test_the_table_covers_the_common_set_and_the_picker_offers_each_emoji_once() -> None:
    assert len(CODES) >= 60
    for code in ("微笑", "害羞", "大笑", "大哭", "再见", "握手", "玫瑰", "爱心", "礼物", "OK", "好的", "谢谢"):
        assert code in CODES
    emojis = [emoji for emoji, _ in PICKER]
    assert len(emojis) == len(set(emojis)) == len(set(CODES.values()))
    assert all(f"[{name}]" and CODES[name] == emoji for emoji, name in PICKER)

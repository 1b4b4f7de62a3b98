"""Emoji (CONSOLE.md §6, issue 13): the platform's ``[微笑]``-style codes, one table.

Taobao / Qianniu buyers' apps send their built-in faces as a code in square brackets (``[微笑]``,
``[大哭]``, ``[好的]``); the console shows each as the closest Unicode emoji, in bubbles and in the
reception list's previews. Only the codes of this table are replaced: ``[订单号]`` or ``[图片]`` in a
message stay text. The reply box's picker offers the same set (``PICKER``), and inserts the emoji
itself, which every platform shows as it is.
"""

from __future__ import annotations

import re
from functools import lru_cache

CODES: dict[str, str] = {
    # faces
    "微笑": "🙂", "害羞": "😊", "吐舌头": "😛", "偷笑": "🤭", "爱慕": "😍", "大笑": "😄", "跳舞": "💃",
    "飞吻": "😘", "安慰": "🤗", "抱抱": "🫂", "加油": "💪", "胜利": "✌️", "强": "👍", "亲亲": "😚",
    "花痴": "🤩", "露齿笑": "😁", "查找": "🔍", "呼叫": "📢", "算账": "🧮", "财迷": "🤑", "好主意": "💡",
    "鬼脸": "😜", "天使": "😇", "再见": "👋", "流口水": "🤤", "享受": "😌", "思考": "🤔", "迷惑": "😕",
    "疑问": "❓", "没钱了": "💸", "无聊": "😑", "怀疑": "🧐", "嘘": "🤫", "小样": "😏", "摇头": "🙅",
    "感冒": "🤧", "尴尬": "😅", "傻笑": "😆", "不会吧": "😲", "无奈": "😩", "流汗": "😓", "困了": "😪",
    "晕": "😵", "忧伤": "😔", "委屈": "🥺", "悲泣": "😢", "大哭": "😭", "对不起": "🙇", "皱眉": "😟",
    "好累": "😫", "生病": "😷", "吐": "🤮", "惊讶": "😮", "惊愕": "😱", "闭嘴": "🤐", "鄙视": "😒",
    "大怒": "😡", "生气": "😠", "可爱": "🥰", "酷": "😎", "睡觉": "😴", "奋斗": "✊",
    # things and gestures
    "握手": "🤝", "鼓掌": "👏", "OK": "👌", "好的": "👌", "赞": "👍", "弱": "👎", "拜托": "🙏", "谢谢": "🙏",
    "红唇": "💋", "玫瑰": "🌹", "残花": "🥀", "爱心": "❤️", "心碎": "💔", "钱": "💰", "购物": "🛍️",
    "礼物": "🎁", "红包": "🧧", "电话": "📞", "举杯庆祝": "🥂", "时钟": "⏰", "等待": "⏳", "很晚了": "🌙",
    "飞机": "✈️", "快递": "📦", "成交": "🤝", "招财猫": "🐱", "恭喜发财": "🎉", "太阳": "☀️", "咖啡": "☕",
}
"""Platform code (without brackets) -> emoji."""



def _picker() -> tuple[tuple[str, str], ...]:
    first: dict[str, str] = {}
    for code, emoji in CODES.items():
        first.setdefault(emoji, code)
    return tuple(first.items())


PICKER: tuple[tuple[str, str], ...] = _picker()
"""What the reply box's picker offers, in the table's order: (emoji, its platform name), each emoji once
(under the first name the table gives it)."""

_CODE = re.compile(r"\[([^\[\]\s]{1,6})\]")


@lru_cache(maxsize=8192)
def with_emoji(text: str) -> str:
    """``text`` with every known ``[code]`` as its emoji (the bubble and the row preview show this).

    >>> with_emoji("好的[微笑]，[订单号]稍等")
    '好的🙂，[订单号]稍等'
    """
    if "[" not in text:
        return text
    return _CODE.sub(lambda m: CODES.get(m.group(1), m.group(0)), text)

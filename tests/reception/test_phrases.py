"""Quick replies on the console side: search by title, text and pinyin initials, variables, CSV."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.protocol.messages import PhraseDraft, PhraseInfo, PhraseScope
from console.reception.phrases import (
    CsvEncoding,
    CsvError,
    PhraseIndex,
    Problem,
    fill,
    initials,
    read_csv,
    write_csv,
)

TEAM, MINE = PhraseScope.TEAM, PhraseScope.PERSONAL


def _p(pid: int, title: str, text: str, *, scope: PhraseScope = TEAM, group: str = "", pinned: bool = False
       ) -> PhraseInfo:
    return PhraseInfo(id=pid, scope=scope, group=group, title=title, text=text, pinned=pinned)


PHRASES = [
    _p(1, "欢迎", "{买家}您好，我是{客服}，很高兴为您服务", pinned=True),
    _p(2, "退款进度", "您的退款已提交，订单{订单号}"),
    _p(3, "发货时间", "付款后48小时内发货"),
    _p(4, "稍等", "请稍等，我帮您查一下", scope=MINE, pinned=True),
    _p(5, "OK", "好的", scope=MINE),
]


def _titles(found: list[PhraseInfo]) -> list[str]:
    return [p.title for p in found]


def test_initials_of_chinese_letters_and_digits() -> None:
    assert initials("退款进度") == "tkjd"
    assert initials("银行卡") == "yhk"  # the phrase dictionary picks 行 = hang here
    assert initials("48小时 发货!") == "48xsfh"


def test_search_by_title_text_and_initials_best_first() -> None:
    index = PhraseIndex(PHRASES)
    assert _titles(index.search("")) == [p.title for p in PHRASES]
    assert _titles(index.search("退款")) == ["退款进度"]
    assert _titles(index.search("tk")) == ["退款进度"]  # title initials
    assert _titles(index.search("TKJ")) == ["退款进度"]  # case does not matter
    assert _titles(index.search("qsd")) == ["稍等"]  # text initials (请稍等)
    assert _titles(index.search("发货")) == ["发货时间"]
    assert _titles(index.search("48")) == ["发货时间"]  # text
    assert _titles(index.search("ok")) == ["OK"]
    assert _titles(index.search("您")) == ["欢迎", "退款进度", "稍等"]  # in the text, list order
    assert index.search("没有这个") == []


def test_title_matches_come_before_text_matches() -> None:
    index = PhraseIndex([_p(1, "物流", "发货后查看物流"), _p(2, "发货", "今天发")])
    assert _titles(index.search("发货")) == ["发货", "物流"]


def test_pinned_in_list_order_at_most_nine() -> None:
    assert _titles(PhraseIndex(PHRASES).pinned()) == ["欢迎", "稍等"]
    many = [_p(i, f"t{i}", "x", pinned=True) for i in range(1, 13)]
    assert len(PhraseIndex(many).pinned()) == 9


def test_fill_variables() -> None:
    assert fill("{买家}您好，我是{客服}，订单{订单号}", buyer="王小姐", agent="小美", order="TB1") == \
        "王小姐您好，我是小美，订单TB1"
    assert fill("订单{订单号}。", buyer="", agent="", order=None) == "订单。"


@pytest.mark.parametrize("encoding", list(CsvEncoding))
def test_csv_round_trip_in_both_encodings(encoding: CsvEncoding) -> None:
    data = write_csv(PHRASES, encoding)
    assert data.startswith(b"\xef\xbb\xbf") == (encoding is CsvEncoding.UTF8)
    back = read_csv(data, MINE)
    assert back == [PhraseDraft(scope=MINE, group=p.group, title=p.title, text=p.text, pinned=p.pinned)
                    for p in PHRASES]


def test_csv_gbk_and_plain_utf8_files_are_recognised() -> None:
    text = "分组,标题,内容,置顶\r\n售后,退款,\"退款已提交，请留意\n到账\",是\r\n"
    for data in (text.encode("gbk"), text.encode("utf-8")):
        [draft] = read_csv(data, TEAM)
        assert (draft.group, draft.title, draft.text, draft.pinned) == ("售后", "退款", "退款已提交，请留意\n到账", True)


def test_bad_rows_are_reported_by_line_and_nothing_is_imported() -> None:
    data = ("分组,标题,内容,置顶\n"
            "售前,欢迎,您好\n"  # line 2: fine
            ",,没有标题\n"  # line 3
            "售后,退款\n"  # line 4: two columns
            "售后,很长," + "长" * 501 + "\n"  # line 5
            "售后,置顶,内容,也许\n").encode("utf-8")  # line 6
    with pytest.raises(CsvError) as bad:
        read_csv(data, TEAM)
    assert [(p.line, p.problem) for p in bad.value.problems] == [
        (3, Problem.NO_TITLE), (4, Problem.COLUMNS), (5, Problem.LONG_TEXT), (6, Problem.PINNED)]


def test_a_file_without_the_header_or_in_another_encoding_is_refused() -> None:
    with pytest.raises(CsvError) as bad:
        read_csv("欢迎,您好\n".encode(), TEAM)
    assert bad.value.problems[0].problem is Problem.HEADER
    with pytest.raises(CsvError) as bad:
        read_csv(b"group,title,text\n\xff\xfe\xff,x,y\n", TEAM)
    assert [(p.line, p.problem) for p in bad.value.problems] == [(2, Problem.ENCODING)]


_cell = st.text(st.characters(codec="gbk", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30) \
    .map(str.strip).filter(bool)


@given(st.lists(st.tuples(st.text(st.characters(codec="gbk", exclude_categories=("Cs", "Cc")), max_size=10)
                          .map(str.strip), _cell, _cell, st.booleans()), min_size=1, max_size=20),
       st.sampled_from(list(CsvEncoding)))
def test_csv_round_trip_of_any_gbk_text(rows: list[tuple[str, str, str, bool]], encoding: CsvEncoding) -> None:
    phrases = [_p(i, title, text, group=group, pinned=pin) for i, (group, title, text, pin) in enumerate(rows, 1)]
    back = read_csv(write_csv(phrases, encoding), TEAM)
    assert [(d.group, d.title, d.text, d.pinned) for d in back] == [(p.group, p.title, p.text, p.pinned)
                                                                    for p in phrases]

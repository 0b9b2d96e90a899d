"""Feeds whose bytes and labels disagree: stray bytes, wide codecs without BOM, no label at all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newswatch.sources.charset import decode_body
from newswatch.sources.feeds import ParsedFeed, parse_feed

# Realistic news copy: several items of several sentences, as a real feed has.
NEWS = {
    "greek": [
        (
            "Νέα μέτρα στήριξης για τα νοικοκυριά",
            "Η κυβέρνηση ανακοίνωσε σήμερα νέα μέτρα για τη στήριξη των νοικοκυριών. Ο υπουργός "
            "Οικονομικών δήλωσε ότι η αύξηση των τιμών της ενέργειας θα αντιμετωπιστεί με "
            "επιδόματα.",
        ),
        (
            "Κέντρα θέρμανσης σε Αθήνα και Θεσσαλονίκη",
            "Οι δήμοι θα ανοίξουν κέντρα θέρμανσης για τους ηλικιωμένους. Η λειτουργία τους "
            "ξεκινά την επόμενη εβδομάδα και θα διαρκέσει όλο τον χειμώνα.",
        ),
    ],
    "arabic": [
        (
            "خطة جديدة لدعم الأسر",
            "أعلنت الحكومة اليوم عن خطة جديدة لدعم الأسر ذات الدخل المحدود. وقال وزير المالية "
            "إن ارتفاع أسعار الطاقة سيواجه بمساعدات مباشرة.",
        ),
        (
            "مراكز تدفئة في القاهرة والإسكندرية",
            "ستفتح البلديات مراكز تدفئة لكبار السن خلال فصل الشتاء. ويبدأ العمل بها الأسبوع "
            "المقبل في جميع الأحياء.",
        ),
    ],
    "japanese": [
        (
            "政府、家計支援の新対策を発表",
            "政府は本日、家計を支援するための新たな対策を発表しました。財務大臣は、"
            "エネルギー価格の上昇には直接給付で対応すると述べました。",
        ),
        (
            "東京と大阪で暖房センター開設へ",
            "自治体は高齢者のための暖房センターを開設する予定です。来週から冬の間、"
            "毎日利用できるということです。",
        ),
    ],
    "chinese": [
        (
            "政府宣布支持低收入家庭的新计划",
            "政府今天宣布了支持低收入家庭的新计划。财政部长表示，能源价格上涨将通过直接补贴来应对。",
        ),
        (
            "北京和上海将开放取暖中心",
            "北京和上海的市政府将在冬季为老年人开放取暖中心。这些中心将从下周开始每天开放。",
        ),
    ],
}


def rss(items: list[tuple[str, str]], channel: str = "News", declaration: str = "") -> str:
    entries = "".join(
        f"<item><guid>https://news.example/{n}</guid><title>{title}</title>"
        f"<description>{text}</description></item>"
        for n, (title, text) in enumerate(items)
    )
    head = f'<?xml version="1.0"{declaration}?>\n'
    return f'{head}<rss version="2.0"><channel><title>{channel}</title>{entries}</channel></rss>'


def parse(body: bytes, content_type: str = "application/rss+xml") -> ParsedFeed:
    return parse_feed(
        body,
        url="https://news.example/feed",
        headers={"content-type": content_type},
        source="s",
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def texts(feed: ParsedFeed) -> list[tuple[str, str]]:
    return [(item.title, item.body) for item in feed.items]


GERMAN = [
    ("Müller übernimmt den Vorsitz", "Herr Müller zahlt in der Goethestraße \xa35 Miete."),
    ("Sperrung der Straße", "Die Straße bleibt bis Freitag gesperrt, sagte Müller."),
]


@pytest.mark.parametrize("content_type", ["application/rss+xml; charset=utf-8", "text/xml"])
def test_one_stray_byte_in_utf8_keeps_the_rest_of_the_feed_intact(content_type: str) -> None:
    xml = rss(GERMAN, declaration=' encoding="utf-8"')
    body = xml.replace("\xa3", "\x00").encode().replace(b"\x00", b"\xa3")  # one raw 0xA3
    feed = parse(body, content_type)
    assert texts(feed) == [
        ("Müller übernimmt den Vorsitz", "Herr Müller zahlt in der Goethestraße £5 Miete."),
        ("Sperrung der Straße", "Die Straße bleibt bis Freitag gesperrt, sagte Müller."),
    ]
    at = body.index(b"\xa3")
    assert feed.bozo == (
        f"declared utf-8, but 1 byte is not UTF-8 (the first at byte {at}); read as Windows-1252"
    )


def test_stray_bytes_without_a_label_and_a_cut_off_sequence() -> None:
    body = rss(GERMAN).encode().replace(b"Freitag", b"Fr\xe2\x80itag")  # cut "€"
    feed = parse(body, "text/xml")
    assert feed.items[1].body == "Die Straße bleibt bis Fr\ufffditag gesperrt, sagte Müller."
    assert feed.bozo is not None and feed.bozo.startswith("no charset declared, but 2 bytes")


def test_utf8_with_a_stray_byte_under_a_latin_label_is_still_utf8() -> None:
    body = rss(GERMAN).encode().replace(b"\xc2\xa3", b"\xa3")
    feed = parse(body, "text/xml; charset=iso-8859-1")
    assert feed.items[0].title == "Müller übernimmt den Vorsitz"
    assert feed.bozo is not None and feed.bozo.startswith("declared iso-8859-1, but the body")


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("declaration", ["", ' encoding="UTF-32"'])
def test_wide_codecs_without_a_byte_order_mark(codec: str, declaration: str) -> None:
    xml = rss(NEWS["greek"], declaration=declaration)
    for body in (xml.encode(codec), xml[xml.index("<rss") :].encode(codec)):
        feed = parse(body, "application/xml")
        assert texts(feed) == NEWS["greek"]
        assert feed.bozo is None


@pytest.mark.parametrize(
    ("language", "codec", "guessed"),
    [
        ("greek", "cp1253", "cp1253"),
        ("greek", "iso-8859-7", "cp1253"),  # the same letters; cp1253 is its superset
        ("arabic", "cp1256", "cp1256"),
        ("japanese", "shift_jis", "cp932"),  # Microsoft's superset of Shift_JIS
        ("chinese", "gb2312", "gb18030"),  # the superset of GB2312
    ],
)
@pytest.mark.parametrize("content_type", ["application/rss+xml", "text/xml; charset=utf-8"])
def test_undeclared_charsets_are_guessed(
    language: str, codec: str, guessed: str, content_type: str
) -> None:
    feed = parse(rss(NEWS[language]).encode(codec), content_type)
    assert texts(feed) == NEWS[language]
    said = "declared utf-8" if "charset" in content_type else "no charset declared"
    assert feed.bozo == f"{said} and the body is not UTF-8; read as {guessed}"


@pytest.mark.parametrize(
    ("language", "codec"), [("greek", "windows-1253"), ("japanese", "shift_jis")]
)
def test_a_declared_charset_is_used_and_a_bad_byte_replaced(language: str, codec: str) -> None:
    xml = rss(NEWS[language], declaration=f' encoding="{codec}"')
    body = xml.encode(codec).replace(b"</channel>", b"\xff\xff</channel>")  # never valid there
    clean = parse(xml.encode(codec))
    assert texts(clean) == NEWS[language] and clean.bozo is None
    damaged = parse(body)
    assert texts(damaged) == NEWS[language]
    assert damaged.bozo is not None and damaged.bozo.startswith(f"declared {codec}, but")


def test_a_declared_charset_that_does_not_fit_gives_way_to_a_guess() -> None:
    body = rss(NEWS["chinese"], declaration=' encoding="big5"').encode("gb2312")
    feed = parse(body)
    assert texts(feed) == NEWS["chinese"]
    assert feed.bozo == "declared big5 and the body is not UTF-8; read as gb18030"


def test_short_western_text_without_a_label_stays_windows_1252() -> None:
    items = [("Café à Paris", "Le garçon a mangé une crème brûlée près de la fenêtre.")]
    feed = parse(rss(items).encode("cp1252"))
    assert texts(feed) == items


def test_valid_utf8_takes_the_fast_path_unchanged() -> None:
    body = rss(NEWS["japanese"], declaration=' encoding="utf-8"').encode()
    assert decode_body(body, "text/xml; charset=utf-8") == (body, None)


WORDS = ["Müller", "Straße", "café", "naïve", "日本語", "Ελλάδα", "Москва", "plain", "news"]


@given(
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=30),
    stray=st.integers(0x80, 0xFF),
    at=st.integers(0, 30),
)
def test_one_stray_byte_between_words_never_garbles_the_others(
    words: list[str], stray: int, at: int
) -> None:
    words = ["Müller", *words]
    before, after = " ".join(words[:at]), " ".join(words[at:])
    body = before.encode() + bytes([0x20, stray, 0x20]) + after.encode()
    decoded, warning = decode_body(body, "text/xml; charset=utf-8")
    read_as = bytes([stray]).decode("cp1252", "replace")
    assert decoded.decode("utf-8") == f"{before} {read_as} {after}"
    assert warning is not None and "1 byte is not UTF-8" in warning

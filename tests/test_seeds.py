"""Seed files: parsing, error reports with path and line, folder listing, change detection."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newswatch.sources.seedfolder import RESTAT_SCANS, SeedFolder, list_seed_files
from newswatch.sources.seeds import (
    FileStamp,
    SeedFile,
    SeedFolderError,
    SeedFormatError,
    SeedReadError,
    changed_files,
    parse_seed,
    read_seed,
)

REAL_SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_4aedde6dc7f46a07.txt"
GOOD = "date 2024-11-14 https://example.org/a\n\nA Title\n\nFirst paragraph.\n\nSecond.\n"


def parse(text: str) -> object:
    return parse_seed(text, path="seeds/x.txt", source="seeds", key="x.txt")


def test_the_real_seed_parses() -> None:
    text = REAL_SEED.read_text(encoding="utf-8")
    item = parse_seed(text, path=str(REAL_SEED), source="seeds", key=REAL_SEED.name)
    assert item.title == "What Does Russia Expect From Trump 2.0? Senior Russian Lawmaker Explains"
    assert item.published == datetime(2024, 11, 14, tzinfo=UTC)
    assert item.url == (
        "https://sputnikglobe.com/20241114/"
        "what-does-russia-expect-from-trump-20-senior-russian-lawmaker-explains-1120882629.html"
    )
    assert item.body.startswith("Russia has no illusions about Donald Trump’s return")
    assert item.body.endswith("global stability, and global peace.”")
    assert (item.source, item.key) == ("seeds", REAL_SEED.name)


@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        "\ufeff" + GOOD,
        "\n\n   " + GOOD,
        GOOD.replace("\n", "\r\n"),
        "date 2024-11-14 https://example.org/a\nA Title\nFirst paragraph.\n\nSecond.",
        "  DATE   2024-11-14\thttps://example.org/a  \n\n\n  A Title  \n\n"
        "First paragraph.\n\nSecond.",
    ],
    ids=["plain", "bom", "leading-blanks", "crlf", "no-blank-lines", "loose-spacing"],
)
def test_accepted_layouts(text: str) -> None:
    item = parse_seed(text, path="p", source="seeds", key="k")
    assert item.title == "A Title"
    assert item.url == "https://example.org/a"
    assert item.published == datetime(2024, 11, 14, tzinfo=UTC)
    assert item.body.replace("\r", "") == "First paragraph.\n\nSecond."


def test_title_only_gives_empty_body() -> None:
    item = parse_seed(
        "date 2024-11-14 http://example.org/\nJust a title\n", path="p", source="s", key="k"
    )
    assert (item.title, item.body) == ("Just a title", "")


BROKEN = [
    ("", 1, "empty", "`date YYYY-MM-DD URL`"),
    ("\n  \n\t\n", 1, "empty", "`date YYYY-MM-DD URL`"),
    (
        "\nTitle first\ndate 2024-11-14 https://e.org/\n",
        2,
        "does not begin with `date`",
        "`date YYYY-MM-DD URL`",
    ),
    ("date\nTitle\n", 1, "no date", "2024-11-14"),
    ("date 2024-13-45 https://e.org/\nTitle\n", 1, "not a calendar date", "real"),
    ("date 2024-02-30 https://e.org/\nTitle\n", 1, "not a calendar date", "YYYY-MM-DD"),
    ("date 14.11.2024 https://e.org/\nTitle\n", 1, "after `date` is not a date", "YYYY-MM-DD"),
    ("date 2024-11-14\nTitle\n", 1, "no URL", "http(s) URL"),
    ("date 2024-11-14 example.org/a\nTitle\n", 1, "is not a URL", "http(s)"),
    ("date 2024-11-14 ftp://e.org/a\nTitle\n", 1, "is not a URL", "http(s)"),
    ("date 2024-11-14 https:///a\nTitle\n", 1, "is not a URL", "http(s)"),
    ("date 2024-11-14 https://e.org/a b\nTitle\n", 1, "1 unexpected word(s) after the URL", "only"),
    ("\n\ndate 2024-11-14 https://e.org/a\n\n  \n", 4, "no title", "title"),
]


@pytest.mark.parametrize(("text", "line", "what", "expected"), BROKEN)
def test_broken_files_name_path_line_and_what_was_expected(
    text: str, line: int, what: str, expected: str
) -> None:
    with pytest.raises(SeedFormatError) as caught:
        parse(text)
    error = caught.value
    assert (error.path, error.line) == ("seeds/x.txt", line)
    message = str(error)
    assert message.startswith(f"seeds/x.txt:{line}: ")
    assert what in message
    assert f"; expected {error.expected}" in message
    assert expected in error.expected
    assert "\n" not in message


# --- files ----------------------------------------------------------------


def write(path: Path, content: str | bytes, mtime_ns: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def test_list_seed_files_recurses_and_skips_hidden_and_temp_files(tmp_path: Path) -> None:
    for name in ["b.txt", "a.txt", "sub/c.txt", "sub/deeper/d", "README"]:
        write(tmp_path / name, GOOD)
    skipped = [".hidden.txt", ".git/config", "e.txt~", "f.txt.swp", ".f.txt.swp", "g.tmp", "h.part"]
    for name in [*skipped, "#autosave#"]:
        write(tmp_path / name, GOOD)
    (tmp_path / "link-to-nowhere").symlink_to(tmp_path / "missing")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)

    files = list_seed_files(tmp_path)

    assert [f.key for f in files] == ["README", "a.txt", "b.txt", "sub/c.txt", "sub/deeper/d"]
    first = files[1]
    stat = (tmp_path / "a.txt").stat()
    assert (first.path, first.size, first.mtime_ns) == (
        tmp_path / "a.txt",
        stat.st_size,
        stat.st_mtime_ns,
    )


def test_list_seed_files_on_an_empty_folder(tmp_path: Path) -> None:
    assert list_seed_files(tmp_path) == []


def test_missing_folder_is_reported_clearly(tmp_path: Path) -> None:
    with pytest.raises(SeedFolderError) as caught:
        list_seed_files(tmp_path / "nope")
    message = str(caught.value)
    assert str(tmp_path / "nope") in message
    assert "does not exist" in message
    assert "create it" in message


def test_a_file_instead_of_a_folder_is_reported(tmp_path: Path) -> None:
    target = write(tmp_path / "seeds", GOOD)
    with pytest.raises(SeedFolderError, match="is not a folder"):
        list_seed_files(target)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_unreadable_folder_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0)
    try:
        with pytest.raises(SeedFolderError, match="permission denied"):
            list_seed_files(folder)
    finally:
        folder.chmod(0o755)


def test_changed_files_picks_new_and_modified_only() -> None:
    files = [
        SeedFile("same.txt", Path("same.txt"), 10, 1_000),
        SeedFile("touched.txt", Path("touched.txt"), 10, 2_000),
        SeedFile("grown.txt", Path("grown.txt"), 11, 1_000),
        SeedFile("new.txt", Path("new.txt"), 5, 1_000),
    ]
    known = {
        "same.txt": FileStamp(10, 1_000, "aa"),
        "touched.txt": FileStamp(10, 1_000, "bb"),
        "grown.txt": FileStamp(10, 1_000, "cc"),
        "gone.txt": FileStamp(1, 1, None),
    }
    assert [f.key for f in changed_files(files, known)] == ["touched.txt", "grown.txt", "new.txt"]
    assert changed_files(files, {}) == files
    assert changed_files([], known) == []


def test_read_seed_stamps_and_parses(tmp_path: Path) -> None:
    path = write(tmp_path / "sub" / "one.txt", GOOD, mtime_ns=1_700_000_000_000_000_000)
    [file] = list_seed_files(tmp_path)

    stamp, item = read_seed(file, source="my seeds")

    assert stamp == FileStamp(
        size=len(GOOD.encode()),
        mtime_ns=1_700_000_000_000_000_000,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )
    assert (item.source, item.key, item.title) == ("my seeds", "sub/one.txt", "A Title")


def test_same_bytes_give_the_same_hash_after_a_touch(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", GOOD, mtime_ns=1_000_000_000)
    [before] = list_seed_files(tmp_path)
    stamp_before, _ = read_seed(before, source="s")
    os.utime(path, ns=(2_000_000_000, 2_000_000_000))
    [after] = changed_files(list_seed_files(tmp_path), {"a.txt": stamp_before})
    stamp_after, _ = read_seed(after, source="s")
    assert stamp_after.mtime_ns != stamp_before.mtime_ns
    assert stamp_after.sha256 == stamp_before.sha256


def test_read_seed_reports_the_files_path_and_keeps_the_stamp(tmp_path: Path) -> None:
    write(tmp_path / "broken.txt", "Hello\n\ndate 2024-11-14 https://e.org/\n")
    [file] = list_seed_files(tmp_path)
    with pytest.raises(SeedFormatError) as caught:
        read_seed(file, source="s")
    assert str(caught.value).startswith(f"{tmp_path / 'broken.txt'}:1: ")
    assert caught.value.stamp is not None
    assert caught.value.stamp.size == file.size
    assert caught.value.sha256 == hashlib.sha256(file.path.read_bytes()).hexdigest()


def test_invalid_utf8_names_the_line_of_the_bad_byte(tmp_path: Path) -> None:
    content = b"date 2024-11-14 https://e.org/\n\nTitle\n\nok\nbad \xff byte\n"
    write(tmp_path / "latin.txt", content)
    [file] = list_seed_files(tmp_path)
    with pytest.raises(SeedFormatError) as caught:
        read_seed(file, source="s")
    assert caught.value.line == 6
    assert "0xff is not valid UTF-8" in str(caught.value)
    assert "UTF-8" in caught.value.expected


def test_a_binary_file_is_a_format_error_not_a_crash(tmp_path: Path) -> None:
    write(tmp_path / "image.png", bytes(range(256)) * 4)
    [file] = list_seed_files(tmp_path)
    with pytest.raises(SeedFormatError):
        read_seed(file, source="s")


def test_a_vanished_file_is_a_read_error(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", GOOD)
    [file] = list_seed_files(tmp_path)
    path.unlink()
    with pytest.raises(SeedReadError) as caught:
        read_seed(file, source="s")
    assert isinstance(caught.value, OSError)
    assert str(path) in str(caught.value)
    assert "cannot read seed file" in str(caught.value)


_SEED_PIECES = [
    *("date", " ", "\n", "\r", "\t", "2024-11-14", "2024-13-45", "https://e.org/a", "http://"),
    *("x", "Title", "\ufeff", "\x1c", "\u2028", "٢٠٢٤-١١-١٤", "ftp://h/"),
]
_SEEDISH = st.lists(st.sampled_from(_SEED_PIECES), max_size=12)


@given(st.one_of(st.text(max_size=60), st.builds("".join, _SEEDISH)))
def test_parse_seed_gives_an_item_or_a_format_error(text: str) -> None:
    try:
        item = parse_seed(text, path="p", source="s", key="k")
    except SeedFormatError as error:
        assert str(error).startswith(f"p:{error.line}: ")
        assert 1 <= error.line <= text.count("\n") + 2
    else:
        assert item.title
        assert item.url is not None and item.url.startswith(("http://", "https://"))


def test_a_kept_folder_reports_new_gone_and_edited_files(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", GOOD)
    write(tmp_path / "sub" / "b.txt", GOOD)
    folder = SeedFolder(tmp_path)
    assert folder.scan().changed == {"a.txt", "sub/b.txt"}
    assert folder.scan().changed == set()

    write(tmp_path / "c.txt", GOOD)
    (tmp_path / "sub" / "b.txt").unlink()
    (tmp_path / "sub").rmdir()
    scan = folder.scan()
    assert (scan.changed, scan.gone) == ({"c.txt"}, {"sub/b.txt"})
    assert sorted(folder.files) == ["a.txt", "c.txt"]


def test_a_write_in_place_is_found_within_restat_scans(tmp_path: Path) -> None:
    """Appending to a file leaves its directory's mtime alone: the rotating re-stat finds it."""
    for n in range(30):
        write(tmp_path / f"{n:02d}.txt", GOOD, mtime_ns=1_000_000_000)
    os.utime(tmp_path, ns=(1_000_000_000, 1_000_000_000))
    folder = SeedFolder(tmp_path)
    folder.scan()
    write(tmp_path / "17.txt", GOOD + "More.\n", mtime_ns=2_000_000_000)
    os.utime(tmp_path, ns=(1_000_000_000, 1_000_000_000))
    found = [folder.scan().changed for _ in range(RESTAT_SCANS)]
    assert [c for c in found if c] == [{"17.txt"}]
    assert folder.files["17.txt"].size == len(GOOD) + len("More.\n")

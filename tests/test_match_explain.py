"""snippet() and explain(): what a user reads in an alert or in `newswatch match`."""

from __future__ import annotations

import subprocess
import sys

from newswatch.config import Person
from newswatch.match import compile_watches, explain, snippet
from newswatch.model import Hit

LONG = " ".join(f"word{i}" for i in range(200))


def test_snippet_marks_the_term() -> None:
    text = "Russia has no illusions about Donald Trump’s return, Kosachev said."
    assert snippet(text, Hit("body", 30, 42, "Donald Trump")) == (
        "Russia has no illusions about «Donald Trump»’s return, Kosachev said."
    )


def test_snippet_keeps_to_its_width_and_cuts_at_spaces() -> None:
    start = LONG.index("word100")
    cut = snippet(LONG, Hit("body", start, start + 7, "word100"), width=60)
    assert "«word100»" in cut
    assert cut.startswith("…") and cut.endswith("…")
    assert len(cut) <= 60 + 4
    words = cut.strip("…").replace("«", "").replace("»", "").split()
    assert all(w.startswith("word") and w[4:].isdigit() for w in words), "no word cut in half"
    assert len(cut) >= 45 and abs(words.index("word100") - len(words) // 2) <= 1


def test_snippet_at_the_edges_of_the_text() -> None:
    assert snippet(LONG, Hit("body", 0, 5, "word0"), width=30).startswith("«word0» word1")
    end = len(LONG)
    assert snippet(LONG, Hit("body", end - 7, end, "word199"), width=30).endswith("«word199»")


def test_snippet_squeezes_whitespace_and_survives_bad_offsets() -> None:
    assert snippet("Donald\n\n  Trump said", Hit("body", 0, 15, "x")) == "«Donald Trump» said"
    assert snippet("short", Hit("body", 50, 60, "x")) == "short«»"


def test_explain_names_the_rule_and_the_mentions() -> None:
    body = "Kosachev said. " * 7
    (match,) = compile_watches([Person(name="K", aliases=("Kosachev",))], []).match("", body)
    text = explain(match)
    assert text.startswith('alias "Kosachev": 7 mentions: "Kosachev" body 0-8')
    assert text.endswith("and 2 more")


def test_the_package_exports_the_functions_whatever_was_imported_first() -> None:
    """`newswatch.match` exports its names lazily: a submodule of the same name as a
    function (imported first by anyone) would shadow it."""
    code = (
        "import newswatch.match.matcher, newswatch.match.reasons\n"
        "from newswatch.match import compile_watches, explain, snippet\n"
        "assert all(callable(f) for f in (compile_watches, explain, snippet))\n"
        "assert all(not isinstance(f, type(newswatch)) for f in (explain, snippet))\n"
    )
    subprocess.run([sys.executable, "-c", "import newswatch\n" + code], check=True)

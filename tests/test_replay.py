"""`newswatch replay`: new watches over stored documents, never a pair twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import alert_records, seed_text, write_config
from newswatch.cli import main

EXTRA_TOPIC = """\
    - name: Sanctions
      query: 'sanction* AND (Russia OR Iran)'
"""


def run(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), "--log-format", "json", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_replay_alerts_only_pairs_never_alerted(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    body = "Biden announced new sanctions on Russia."
    (folder / "a.txt").write_text(seed_text("Measures", body, "https://x.org/a", "2024-11-14"))
    (folder / "old.txt").write_text(
        seed_text("Old", "Biden sanctioned Iran.", "https://x.org/old", "2020-01-01")
    )
    config = write_config(tmp_path, database_url, folder)
    _, out, _ = run(config, capsys, "ingest")
    assert sorted(a["watch"] for a in alert_records(out)) == ["Iran", "Joe Biden", "Joe Biden"]

    text = config.read_text().replace("  topics:\n", "  topics:\n" + EXTRA_TOPIC)
    config.write_text(text)
    code, out, err = run(config, capsys, "replay", "--since", "2024-01-01", "--dry-run")
    assert code == 0
    would = [json.loads(line) for line in out.splitlines()]
    assert [(w["watch"], w["url"]) for w in would] == [("Sanctions", "https://x.org/a")]
    assert "1 alert(s) would be raised" in err

    code, out, err = run(config, capsys, "replay", "--since", "2024-01-01")
    assert code == 0
    assert [(a["watch"], a["url"]) for a in alert_records(out)] == [
        ("Sanctions", "https://x.org/a")
    ]

    code, out, err = run(config, capsys, "replay", "--since", "2024-01-01")
    assert alert_records(out) == [] and "0 alert(s) raised" in err

    _, out, _ = run(config, capsys, "replay", "--since", "2019-01-01")
    assert [(a["watch"], a["url"]) for a in alert_records(out)] == [
        ("Sanctions", "https://x.org/old")
    ]


def test_replay_dry_run_explain_shows_the_rule_and_refused_mentions(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    body = "Nathan Law spoke against the new law."
    (folder / "a.txt").write_text(seed_text("Hong Kong", body, "https://x.org/a", "2024-11-14"))
    config = write_config(tmp_path, database_url, folder)
    run(config, capsys, "ingest")
    person = "    - name: Nathan Law\n      aliases: [Law]\n"
    config.write_text(config.read_text().replace("  people:\n", "  people:\n" + person))
    args = ("replay", "--since", "2024-01-01", "--dry-run")
    _, out, _ = run(config, capsys, *args, "--explain")
    [would] = [json.loads(line) for line in out.splitlines()]
    assert (would["watch"], would["rule"]) == ("Nathan Law", 'name "Nathan Law"')
    assert [(r["text"], r["reason"]) for r in would["rejected"]] == [("law", "case")]
    _, out, _ = run(config, capsys, *args)
    assert "rejected" not in json.loads(out)

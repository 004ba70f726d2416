"""headwater ingest checks every line before it appends any: a bad line appends nothing."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from headwater.cli import app
from headwater.errors import HeadwaterError
from headwater.platform import Platform
from headwater.sources import inbox as inbox_module
from tests.streaming.helpers import events, jsonl, stream_project


def _ingest(root, *args, input=None):
    return CliRunner().invoke(app, ["ingest", "clicks", *args, "-p", str(root)], input=input)


def _said(out) -> str:
    """What the user reads: the output, and the HeadwaterError 'headwater' prints as Error: ..."""
    return out.output + (str(out.exception) if out.exception else "")


def _inbox_lines(root) -> list[dict]:
    inbox = Platform(root).streaming.inbox("clicks")
    return [json.loads(line) for _, path in inbox.segments() for line in path.read_bytes().splitlines()]


def test_a_bad_line_after_ten_thousand_good_ones_appends_nothing(tmp_path):
    root = stream_project(tmp_path / "p")
    good = jsonl(events(10_000))
    (root / "ev.jsonl").write_text(good + "oops\n")
    out = _ingest(root, str(root / "ev.jsonl"))
    assert out.exit_code == 1
    assert "line 10001 of" in _said(out) and "ev.jsonl is not JSON" in _said(out)
    assert "nothing was appended" in _said(out)
    assert _inbox_lines(root) == [] and Platform(root).streaming.inbox("clicks").backlog_bytes() == 0
    (root / "ev.jsonl").write_text(good)  # fixed: the retry appends every event exactly once
    out = _ingest(root, str(root / "ev.jsonl"), "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["records"] == 10_000
    assert [e["event_id"] for e in _inbox_lines(root)] == [e["event_id"] for e in events(10_000)]


def test_line_numbers_count_blank_lines_and_standard_input_is_named(tmp_path):
    root = stream_project(tmp_path / "p")
    out = _ingest(root, "-", input="\n" + jsonl(events(2)) + "\n[1, 2]\n")
    assert out.exit_code == 1
    assert "line 5 of standard input is not a JSON object" in _said(out)
    assert _inbox_lines(root) == []


def test_a_large_file_is_staged_and_lands_whole_or_not_at_all(tmp_path, monkeypatch):
    """Past STAGE_BYTES the lines go to a staging file renamed into place as one segment."""
    monkeypatch.setattr(inbox_module, "CHECK_BYTES", 2_000)
    monkeypatch.setattr(inbox_module, "STAGE_BYTES", 5_000)
    root = stream_project(tmp_path / "p")
    first = jsonl(events(50))
    assert _ingest(root, "-", input=first).exit_code == 0  # small: appended to the tail segment
    big = jsonl(events(400, start=50))
    (root / "big.jsonl").write_text(big + '{"event_id": "x"}\n' + "{broken\n")
    out = _ingest(root, str(root / "big.jsonl"))
    assert out.exit_code == 1 and "line 402 of" in _said(out), _said(out)
    inbox = Platform(root).streaming.inbox("clicks")
    assert len(_inbox_lines(root)) == 50
    assert not list(inbox.dir.glob("stage-*")), "the staging file is removed"
    (root / "big.jsonl").write_text(big)
    out = _ingest(root, str(root / "big.jsonl"), "--json")
    assert out.exit_code == 0, out.output
    done = json.loads(out.stdout)
    assert done["records"] == 400 and done["first_offset"] == len(first.encode())
    assert [s for s, _ in inbox.segments()] == [0, len(first.encode())]  # a segment of its own
    result = Platform(root).streaming.run("clicks", until_idle=0.3)
    assert result.status == "success", result.error
    assert result.stats["written"] == 450


def test_a_payload_larger_than_the_inbox_bound_is_refused_before_writing(tmp_path, monkeypatch):
    monkeypatch.setattr(inbox_module, "CHECK_BYTES", 1_000)
    monkeypatch.setattr(inbox_module, "STAGE_BYTES", 2_000)
    root = stream_project(tmp_path / "p", source="{kind: inbox, options: {max_bytes: 10000}}")
    (root / "big.jsonl").write_text(jsonl(events(300)))
    out = _ingest(root, str(root / "big.jsonl"))
    assert out.exit_code == 1 and "more than the inbox bound" in _said(out), _said(out)
    assert _inbox_lines(root) == []
    assert not list(Platform(root).streaming.inbox("clicks").dir.glob("stage-*"))


def test_an_empty_file_appends_nothing(tmp_path):
    root = stream_project(tmp_path / "p")
    (root / "empty.jsonl").write_text("\n\n")
    out = _ingest(root, str(root / "empty.jsonl"), "--json")
    assert out.exit_code == 0 and json.loads(out.stdout)["records"] == 0


def test_the_api_names_the_line_too(tmp_path):
    root = stream_project(tmp_path / "p")
    inbox = Platform(root).streaming.inbox("clicks")
    with pytest.raises(HeadwaterError, match="line 3 of the payload is not JSON"):
        inbox.append(jsonl(events(1)) + "\n" + "nope\n")


@pytest.mark.parametrize("args", [["--max-events", "-1", "--until-idle", "0.2"],
                                  ["--max-events", "0", "--until-idle", "0.2"], ["--until-idle", "-1"]],
                         ids=["max-events-negative", "max-events-zero", "until-idle-negative"])
def test_stream_run_refuses_out_of_range_options(tmp_path, args):
    root = stream_project(tmp_path / "p")
    out = CliRunner().invoke(app, ["stream", "run", "clicks", *args, "-p", str(root)])
    assert out.exit_code == 2 and "Invalid value" in out.output


def test_counts_read_as_english(tmp_path):
    root = stream_project(tmp_path / "p")
    out = _ingest(root, "-", input=jsonl(events(1)))
    assert out.exit_code == 0 and "1 event appended" in out.output
    out = CliRunner().invoke(app, ["stream", "run", "clicks", "--until-idle", "0.3", "-p", str(root)])
    assert out.exit_code == 0, out.output
    assert "1 event in 1 micro-batch," in out.output and "0 duplicates" in out.output

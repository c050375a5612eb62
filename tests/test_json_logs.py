"""`--log-format json` / SEGSQL_LOG_FORMAT on every command (real processes: stdout holds
JSON lines only), `ls --format json`, and the text lines of `segsql run`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from segsql.adapters import connect
from segsql.definitions.profiles import load_target
from segsql.definitions.project import load_project
from segsql.runner.run import run_segments

from .conftest import write_project
from .test_cli import project as project  # noqa: F401 - the fixture

REQUIRED = {"ts", "level", "event", "msg"}
SEGMENT_FIELDS = {"segment", "members", "entered", "exited", "seconds"}


def segsql(project, *args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "segsql.cli", *args, "--project-dir", str(project)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def records(stdout: str) -> list[dict]:
    """Every stdout line is one JSON object with the required keys."""
    lines = stdout.splitlines()
    assert lines, "nothing on stdout"
    out = []
    for line in lines:
        obj = json.loads(line)  # raises on anything that is not JSON
        assert isinstance(obj, dict) and obj.keys() >= REQUIRED, line
        assert obj["level"] in ("debug", "info", "warn", "error")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", obj["ts"])
        out.append(obj)
    assert len({o["invocation_id"] for o in out}) == 1
    return out


@pytest.mark.parametrize(
    "args",
    [
        ("compile",),
        ("compile", "--plan"),
        ("run", "--as-of", "2026-12-01"),
        ("ls",),
        ("ls", "--format", "json"),
        ("validate",),
        ("test",),
        ("docs", "generate"),
        ("demo", "--users", "50", "--events", "500"),
        ("lookup", "1", "--as-of", "2026-12-01"),
        ("explain", "trial", "1", "--as-of", "2026-12-01"),
        ("explain", "trial", "1", "--as-of", "2026-12-01", "--format", "json"),
        ("diff", "--as-of", "2026-12-01"),
        ("diff", "--as-of", "2026-12-01", "--format", "json"),
        (
            "backfill",
            "--select",
            "trial",
            "--from",
            "2026-11-29",
            "--to",
            "2026-12-01",
            "--every",
            "1d",
        ),
        ("prune", "--dry-run"),
    ],
)
def test_every_command_prints_json_lines_only(project, args):
    result = segsql(project, *args, "--log-format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    objs = records(result.stdout)
    outputs = [o for o in objs if o["event"] == "output"]
    if args[0] in ("compile", "ls", "explain", "diff"):
        assert len(outputs) == 1  # the result is one object
    if args[0] == "explain" and "json" in args:
        assert outputs[0]["data"]["segment"] == "trial" and "tree" in outputs[0]["data"]
    if args[0] == "backfill":
        steps = [o for o in objs if o["event"] == "backfill_step"]
        assert [o["as_of"][:10] for o in steps] == ["2026-11-29", "2026-11-30", "2026-12-01"]
    if args == ("compile",):
        assert "CREATE" not in outputs[0]["data"] and "SELECT" in outputs[0]["data"]
    if args[0] == "run":
        done = [o for o in objs if o["event"] == "segment_done"]
        assert {o["segment"] for o in done} == {"buyers", "repeat_buyers", "trial"}
        for o in done:
            assert o.keys() >= SEGMENT_FIELDS
        trial = next(o for o in done if o["segment"] == "trial")
        assert (trial["members"], trial["entered"], trial["exited"]) == (3, 3, 0)
        assert objs[-1]["event"] == "run_done" and objs[-1]["refreshed"] == 3
        assert not outputs
    if args == ("ls", "--format", "json"):
        segments = outputs[0]["data"]["segments"]
        assert [s["name"] for s in segments] == ["buyers", "repeat_buyers", "trial"]


def test_errors_are_json_on_stdout_with_the_exit_code(project):
    result = segsql(project, "run", "--select", "buyer", env={"SEGSQL_LOG_FORMAT": "json"})
    assert result.returncode == 2
    assert result.stderr == ""
    (err,) = records(result.stdout)
    assert err["level"] == "error" and err["event"] == "error" and err["exit_code"] == 2
    assert "did you mean 'buyers'" in err["msg"]


def test_a_failed_segment_is_an_error_event(project):
    path = project / "segments" / "main.yml"
    broken = '  - name: broken\n    where: {sql: "CAST(plan AS INTEGER) > 0"}\n'
    path.write_text(path.read_text().replace("tests:", broken + "tests:", 1))
    result = segsql(project, "run", "--as-of", "2026-12-01", "--log-format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    objs = records(result.stdout)
    failed = [o for o in objs if o["event"] == "segment_error"]
    assert [o["segment"] for o in failed] == ["broken"] and failed[0]["level"] == "error"
    assert objs[-1]["event"] == "error" and objs[-1]["exit_code"] == 1


def test_ls_format_json_in_text_mode_is_one_document(project):
    assert segsql(project, "run", "--as-of", "2026-12-01").returncode == 0
    result = segsql(project, "ls", "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    trial = next(s for s in doc["segments"] if s["name"] == "trial")
    assert trial["members"] == 3 and trial["last_run_as_of"] == "2026-12-01T00:00:00Z"
    assert trial["refresh"] == "1h" and trial["file"] == "segments/main.yml"


MANY = """
sources:
  users: {table: main.users, entity: user, key: user_id}
  events: {table: main.events, events_of: user, key: user_id, event: event_name,
           timestamp: ts, json: [properties]}
segments:
""" + "".join(
    f"  - name: seg_{i:02d}\n    {'refresh: 1d' + chr(10) + '    ' if i >= 3 else ''}"
    f"where: {{property: plan, eq: trial}}\n"
    for i in range(12)
)


def test_run_lines_align_and_count_the_due_segments(tmp_path):
    import duckdb

    write_project(tmp_path, MANY)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("CREATE TABLE users AS SELECT range AS user_id, 'trial' AS plan FROM range(3)")
    con.execute(
        "CREATE TABLE events (user_id BIGINT, event_name VARCHAR, ts TIMESTAMP, properties JSON)"
    )
    con.close()
    first = segsql(tmp_path, "run", "--as-of", "2026-12-01")
    assert first.returncode == 0, first.stdout + first.stderr
    lines = [line[10:] for line in first.stdout.splitlines()]  # without the time
    assert lines[0].startswith("segsql run: 12 segment(s) selected")
    assert lines[1] == "12 of 12 due"
    rows = [line for line in lines if " OK " in line]
    assert len(rows) == 12
    assert rows[0].startswith(" 1 of 12 OK ") and rows[11].startswith("12 of 12 OK ")
    assert len({row.index("members") for row in rows}) == 1  # no column shift
    assert all(row.endswith("(batch of 12)") for row in rows)
    # an hour later 9 of them are not due: the lines count the 3 that are
    second = segsql(tmp_path, "run", "--as-of", "2026-12-01T01:00:00")
    assert second.returncode == 0, second.stdout + second.stderr
    lines = [line[10:] for line in second.stdout.splitlines()]
    assert lines[1] == "3 of 12 due (9 not due yet: refresh)"
    assert [line[:7] for line in lines if " OK " in line] == ["1 of 3 ", "2 of 3 ", "3 of 3 "]
    assert "Done in" in lines[-1] and "3 refreshed, 0 failed, 9 not due" in lines[-1]


def test_start_is_reported_before_the_work_and_done_after(project):
    events: list[tuple[str, str]] = []
    target = load_target(project, None, None, None)
    adapter = connect(target)
    from datetime import datetime

    try:
        run_segments(
            adapter,
            load_project(project),
            list(load_project(project).enabled.values()),
            datetime(2026, 12, 1),
            report=lambda event, result, i, n: events.append((event, result.segment)),
            timings=lambda phase, seconds: events.append((phase, "")),
        )
    finally:
        adapter.close()
    kinds = [e for e, _ in events]
    first_eval = kinds.index("evaluate")
    assert set(kinds[:first_eval]) <= {"views", "start"} and "start" in kinds[:first_eval]
    assert kinds.index("done") > first_eval
    assert kinds.count("start") == kinds.count("done") == 3


def test_a_terminal_gets_a_progress_bar_and_the_same_lines(project):
    import pty

    main, replica = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "segsql.cli", "run", "--as-of", "2026-12-01"]
        + ["--project-dir", str(project)],
        stdout=replica,
        stderr=replica,
        env={**os.environ, "COLUMNS": "120"},
    )
    os.close(replica)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=60) == 0
    text = seen.decode()
    assert "refreshing  [" in text and "3/3" in text  # the bar, up to the end
    assert "buyers +2 more" in text  # the batch being worked on
    for name in ("buyers", "repeat_buyers", "trial"):
        assert re.search(rf"\d of 3 OK    {name} ", text)

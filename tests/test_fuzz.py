"""Fuzzing the loader: whatever is in segments/*.yml, `load_project` returns a Project or
raises DefinitionError - never another exception - and `segsql compile` exits 0 or 2
without a traceback (docs/language.md, Definition errors).

Three kinds of input, each derandomized (reproducible in CI):
- random YAML documents: nested mappings, lists and scalars built from the language's
  real keys and names mixed with junk;
- grammar-shaped segments (real sources, conditions of every kind) with junk spliced in:
  these get deep into the parser and, when valid, through the compiler;
- random text mutations of the real segments/*.yml files of the demo and of the
  conditions project: deleted and inserted characters, swapped, duplicated and re-indented
  lines, replaced words, YAML tags and anchors.

SEGSQL_FUZZ_EXAMPLES=N scales the number of examples per input kind (default 200 for the
loader, 50 through the CLI).
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from segsql.cli import cli
from segsql.definitions.conditions import CONDITION_KINDS, WINDOWS
from segsql.definitions.project import load_project
from segsql.definitions.segments import FILE_KEYS, SEGMENT_KEYS
from segsql.errors import DefinitionError
from segsql.model.types import COMPARISON_OPS, MEASURES, NUMERIC_OPS

from .reference.strategies import reproducible

ROOT = Path(__file__).parent.parent
REAL_FILES = sorted((ROOT / "segments").glob("*.yml")) + sorted(
    (ROOT / "tests" / "projects" / "conditions" / "segments").glob("*.yml")
)
REAL_SOURCES = (ROOT / "segments" / "sources.yml").read_text()
EXAMPLES = int(os.environ.get("SEGSQL_FUZZ_EXAMPLES", "200"))
CLI_EXAMPLES = max(20, EXAMPLES // 4)

OTHER_KEYS = (
    "table",
    "entity",
    "key",
    "created_at",
    "json",
    "parents",
    "events_of",
    "event",
    "timestamp",
    "description",
    "of",
    "for",
    "from",
    "to",
    "n",
    "steps",
    "absent",
    "completed_within",
    "source",
    "where",
    "given",
    "expect",
    "members",
    "as_of",
    "segment",
    "count",
    "name",
)
KEYS = tuple(
    dict.fromkeys(
        FILE_KEYS
        + SEGMENT_KEYS
        + CONDITION_KINDS
        + COMPARISON_OPS
        + MEASURES
        + WINDOWS
        + OTHER_KEYS
    )
)
PROPERTIES = (
    "plan",
    "email",
    "signup_at",
    "last_seen_at",
    "lifetime_value",
    "country",
    "tier",
    "account_id",
    "user_id",
    "traits.company_size",
    "traits.address.city",
    "properties.amount",
    "properties.category",
    "properties.path",
    "platform",
    "traits..x",
    "nope.x",
    "Plan",
    "1abc",
    "",
)
EVENTS = (
    "login",
    "session_start",
    "add_to_cart",
    "checkout_completed",
    "report_created",
    "email_delivered",
    "email_opened",
    "invoice_paid",
    "*",
    "",
)
SOURCES = ("users", "accounts", "events", "email_events", "account_events", "evnts")
ENTITIES = ("user", "account", "users", "customer")
SEGMENT_NAMES = ("s0", "s1", "s2", "power_users", "segsql_runs", "Bad-Name", "trial_users")
NAMES = (
    PROPERTIES
    + EVENTS
    + SOURCES
    + ENTITIES
    + SEGMENT_NAMES
    + (
        "30d",
        "0h",
        "24h",
        "2w",
        "5y",
        "-3d",
        "99999999999999999999d",
        "2026-01-01",
        "2026-02-30",
        "2026-01-01T12:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "main.users",
        "x'); DROP TABLE users; --",
        "(unclosed",
        "a{99999999999}",
        "%_",
        "\\",
        "\x00",
    )
)

junk_text = st.text(max_size=12)
scalars = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from(KEYS),
    junk_text,
    st.integers(min_value=-(10**25), max_value=10**25),
    st.integers(-3, 200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.dates(min_value=date(1, 1, 1)),
    st.datetimes(
        timezones=st.sampled_from(
            [None, timezone.utc, timezone(timedelta(hours=5)), timezone(timedelta(hours=-11))]
        )
    ),
)
map_keys = st.one_of(
    st.sampled_from(KEYS),
    st.sampled_from(KEYS),
    junk_text,
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(map_keys, children, max_size=5)
    ),
    max_leaves=40,
)


# ------------------------------------------------------------------ grammar-shaped segments
# Strategies are built once (module level or cached): building them inside a draw makes
# Hypothesis inspect lambdas' source on every example.

ROLL = st.integers(0, 39)


def pick(draw, good: st.SearchStrategy, bad: st.SearchStrategy | None = None):
    """A draw of `good` 39 times in 40, otherwise junk: many documents stay valid (and
    reach the compiler), the others break in one place or two."""
    return draw(bad if bad is not None else trees) if draw(ROLL) == 0 else draw(good)


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy | None = None) -> st.SearchStrategy:
    return st.composite(lambda draw: pick(draw, good, bad))()


ODDS = st.integers(0, 79)


def spliced(base: st.SearchStrategy[dict]) -> st.SearchStrategy:
    """A mapping of the grammar; now and then with a key dropped, a junk key added or a
    value replaced by a random tree."""

    @st.composite
    def build(draw):
        m = dict(draw(base))
        if draw(ODDS) == 0 and m:
            m.pop(draw(st.sampled_from(sorted(m, key=str))))
        if draw(ODDS) == 0:
            m[draw(map_keys)] = draw(trees)
        if draw(ODDS) == 0 and m:
            m[draw(st.sampled_from(sorted(m, key=str)))] = draw(trees)
        return m

    return build()


texts = st.sampled_from(
    (
        "trial",
        "pro",
        "free",
        "enterprise",
        "x'); DROP TABLE users; --",
        "50%_off",
        "O'Brien",
        "\\",
        "--",
        "/*",
        "日本",
        "\u202eabc",
        "🎉",
    )
)
numbers = st.one_of(st.integers(-5, 10**6), st.floats(-1e6, 1e6, allow_nan=False))
moments = st.one_of(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
)
scalar_values = st.one_of(texts, numbers, st.booleans(), moments)
value_lists = st.lists(scalar_values, min_size=1, max_size=3)
pairs = st.lists(numbers, min_size=2, max_size=2)
durations = mostly(
    st.sampled_from(("30s", "15m", "24h", "7d", "90d", "2w", "36500d")),
    st.sampled_from(("0d", "3y", "1 d", "-3d", "99999999999999d", "7", "")),
)
regexes = mostly(
    st.sampled_from(("^a.*$", "\\d+", "[[:alpha:]]+", "a|b", "^$", "x{2,3}", "\\.com$")),
    st.sampled_from(("(x", "a{99999999999}", "*", "[z-a]")),
)
BAD_OPS = st.sampled_from(("equals", "eqq", "of", ""))


@st.composite
def comparison(draw, ops):
    op = pick(draw, st.sampled_from(ops), BAD_OPS)
    if op in ("in", "not_in"):
        v = pick(draw, value_lists)
    elif op == "between":
        v = pick(draw, pairs)
    elif op == "is_null":
        v = pick(draw, st.booleans())
    elif op in ("within", "older_than"):
        v = draw(durations)
    elif op in ("before", "after"):
        v = pick(draw, moments)
    elif op == "matches":
        v = draw(regexes)
    elif op in ("contains", "starts_with", "ends_with"):
        v = pick(draw, texts)
    else:
        v = pick(draw, scalar_values)
    return {op: v}


@functools.cache
def comparisons(ops=COMPARISON_OPS) -> st.SearchStrategy[dict]:
    return st.lists(comparison(ops), min_size=1, max_size=2).map(
        lambda ds: {k: v for d in ds for k, v in d.items()}
    )


USER_PROPS = (
    "plan",
    "email",
    "signup_at",
    "last_seen_at",
    "lifetime_value",
    "country",
    "traits.company_size",
    "traits.address.city",
    "traits.role",
)
ACCOUNT_PROPS = ("tier", "created_at", "name")
EVENT_PROPS = ("properties.amount", "properties.category", "properties.path", "platform")
BAD_PROPS = st.sampled_from(("traits..x", "nope.x", "1abc", "", "a-b"))


@functools.cache
def property_cond(props: tuple[str, ...]) -> st.SearchStrategy:
    return spliced(
        st.tuples(mostly(st.sampled_from(props), BAD_PROPS), comparisons()).map(
            lambda t: {"property": t[0], **t[1]}
        )
    )


EVENT_NAMES = {
    "user": ("login", "session_start", "add_to_cart", "email_opened"),
    "account": ("invoice_paid", "seat_added"),
}
EVENT_VALUES = {
    e: st.one_of(st.sampled_from(n + ("*",)), st.lists(st.sampled_from(n), min_size=1, max_size=3))
    for e, n in EVENT_NAMES.items()
}
SOURCE_NAMES = st.sampled_from(("events", "email_events"))
BAD_SOURCES = st.sampled_from(("evnts", "accounts"))
WINDOW_KINDS = st.sampled_from((None, None) + WINDOWS)
MEASURE_KINDS = st.sampled_from((None, None) + MEASURES)
SMALL_N = st.integers(1, 5)
EVENT_PROP_NAMES = st.sampled_from(EVENT_PROPS)


@st.composite
def event_body(draw, entity: str):
    names = EVENT_NAMES[entity]
    m = {"event": pick(draw, EVENT_VALUES[entity])}
    if entity == "user" and draw(st.integers(0, 3)) == 0:
        m["source"] = pick(draw, SOURCE_NAMES, BAD_SOURCES)
    if draw(st.integers(0, 3)) == 0:
        m["where"] = draw(property_cond(EVENT_PROPS))
    window = draw(WINDOW_KINDS)
    if window == "within":
        m["within"] = draw(durations)
    elif window == "during":
        start, end = sorted(
            draw(st.lists(moments, min_size=2, max_size=2)), key=lambda d: (d.year, d.month, d.day)
        )
        m["during"] = pick(draw, st.just({"from": start, "to": end}))
    elif window == "since_property":
        m["since_property"] = pick(draw, st.just("signup_at" if entity == "user" else "created_at"))
        if draw(st.booleans()):
            m["for"] = draw(durations)
    elif window == "since_nth_last":
        m["since_nth_last"] = {"event": draw(st.sampled_from(names)), "n": pick(draw, SMALL_N)}
    measure = draw(MEASURE_KINDS)
    if measure:
        timed = measure in ("first", "last")
        body = draw(comparisons(COMPARISON_OPS if timed else NUMERIC_OPS))
        if not timed and measure != "count":
            body["of"] = pick(draw, EVENT_PROP_NAMES)
        m[measure] = body
    return m


STEP_NAMES = st.lists(
    st.sampled_from(("add_to_cart", "checkout_completed", "product_viewed", "login")),
    min_size=2,
    max_size=5,
)


@st.composite
def sequence_cond(draw):
    steps = [{"event": e} for e in draw(STEP_NAMES)]
    if draw(st.booleans()):
        steps[-1]["absent"] = True
    if draw(st.integers(0, 3)) == 0:
        steps[0]["where"] = draw(property_cond(EVENT_PROPS))
    seq = {"steps": pick(draw, st.just(steps))}
    if draw(st.booleans()):
        seq["within"] = draw(durations)
    if draw(st.booleans()):
        seq["completed_within"] = draw(durations)
    return {"sequence": seq}


SQL = st.sampled_from(
    (
        "lifetime_value > 1000 AND country IN ('DE', 'FR')",
        "plan = 'x''); DROP TABLE users; --'",
        "(((lifetime_value)) > 0)",
        "plan = 'x' -- c",
        "email LIKE '%@gmail.com'",
        "TRUE",
    )
)
BAD_SQL = st.sampled_from(
    ("x; DROP TABLE users", "DROP TABLE users", "SELECT 1", "'unclosed", "a = 1 /* x", "*", "")
)


@functools.cache
def leaf_conditions(entity: str, index: int) -> st.SearchStrategy:
    earlier = tuple(f"s{i}" for i in range(index)) or ("s0",)  # s0 -> s0 is a cycle
    refs = st.builds(
        dict,
        in_segment=mostly(st.sampled_from(earlier), st.sampled_from(("power_usr", "S0", "s2"))),
    )
    sql = st.builds(dict, sql=mostly(SQL, BAD_SQL))
    if entity == "account":
        return st.one_of(
            property_cond(ACCOUNT_PROPS),
            spliced(event_body("account")),
            refs,
            sql,
            spliced(
                st.builds(
                    dict,
                    members=mostly(st.just("user")),
                    where=property_cond(USER_PROPS),
                    count=comparisons(NUMERIC_OPS),
                )
            ),
        )
    return st.one_of(
        property_cond(USER_PROPS),
        property_cond(USER_PROPS),
        spliced(event_body("user")),
        spliced(event_body("user")),
        spliced(sequence_cond()),
        refs,
        sql,
        spliced(
            st.builds(dict, parent=mostly(st.just("account")), where=property_cond(ACCOUNT_PROPS))
        ),
    )


@functools.cache
def conditions(entity: str, index: int) -> st.SearchStrategy:
    return st.recursive(
        leaf_conditions(entity, index),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(lambda xs: {"all": xs}),
            st.lists(inner, max_size=3).map(lambda xs: {"any": xs}),
            inner.map(lambda x: {"not": x}),
        ),
        max_leaves=6,
    )


ENTITY_KINDS = st.sampled_from(("user", "user", "user", "account"))
BAD_NAMES = st.sampled_from(SEGMENT_NAMES)
OPTIONAL_KEYS = (
    ("holdout", st.integers(0, 50)),
    ("refresh", durations),
    ("enabled", st.booleans()),
    ("tags", st.lists(st.sampled_from(("a", "b")), max_size=2)),
    ("description", texts),
    ("owner", texts),
)


@st.composite
def segment_body(draw, index: int):
    entity = draw(ENTITY_KINDS)
    m = {"name": pick(draw, st.just(f"s{index}"), BAD_NAMES)}
    if entity == "account" or draw(st.integers(0, 5)) == 0:
        m["entity"] = entity
    m["where"] = draw(conditions(entity, index))
    for key, strategy in OPTIONAL_KEYS:
        if draw(st.integers(0, 4)) == 0:
            m[key] = pick(draw, strategy)
    return m


SEGMENTS = [spliced(segment_body(i)) for i in range(3)]
FIXTURE_USERS = st.fixed_dictionaries(
    {
        "users": st.lists(
            st.fixed_dictionaries({"user_id": st.integers(1, 5), "plan": texts}), max_size=2
        )
    }
)
FIXTURE_EXPECT = st.builds(dict, members=st.lists(st.integers(1, 5), max_size=3))


@st.composite
def fixture(draw):
    return {
        "name": pick(draw, st.just("t0"), junk_text),
        "segment": pick(draw, st.just("s0")),
        "as_of": pick(draw, moments),
        "given": pick(draw, FIXTURE_USERS),
        "expect": pick(draw, FIXTURE_EXPECT),
    }


@st.composite
def structured_doc(draw):
    doc = {"segments": [draw(seg) for seg in SEGMENTS[: draw(st.integers(1, 3))]]}
    if draw(st.integers(0, 4)) == 0:
        doc["tests"] = [draw(fixture())]
    return doc


structured = structured_doc()
random_docs = st.one_of(st.dictionaries(map_keys, trees, max_size=4), trees)


# ------------------------------------------------------------------ text mutations

YAML_BITS = (
    ":",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "*a",
    "<<: *a",
    "!!int ",
    "!!float ",
    "!!bool ",
    "!!timestamp ",
    "!!binary ",
    "!!set ",
    "!!python/object ",
    "? ",
    "|",
    ">",
    "'",
    '"',
    "#",
    "%",
    "@",
    "`",
    "\t",
    "\n",
    "  ",
    "~",
    "null",
    "\\",
    "\x00",
    "\ufeff",
    "\u202e",
    "2026-02-30",
    "9" * 30,
    ".nan",
    "-.inf",
)


@st.composite
def mutated(draw):
    path = draw(st.sampled_from(REAL_FILES))
    text = path.read_text()
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(
                ("delete", "insert", "word", "dup", "drop", "swap", "indent", "digit", "digit")
            )
        )
        lines = text.split("\n")
        at = draw(st.integers(0, max(0, len(text) - 1)))
        if op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 30)) :]
        elif op == "insert":
            bit = draw(st.one_of(st.sampled_from(YAML_BITS), junk_text))
            text = text[:at] + bit + text[at:]
        elif op == "digit":  # often still valid: durations, counts, dates, thresholds
            digits = [i for i, ch in enumerate(text) if ch.isdigit()]
            if digits:
                i = digits[at % len(digits)]
                text = text[:i] + draw(st.sampled_from("0123456789")) + text[i + 1 :]
        elif op == "word":
            words = [w for w in text.replace(":", " ").split() if w.isidentifier()]
            if words:
                old = draw(st.sampled_from(words))
                text = text.replace(old, draw(st.sampled_from(KEYS + NAMES)), 1)
        else:
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if op == "dup":
                lines.insert(j, lines[i])
            elif op == "drop":
                del lines[i]
            elif op == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                lines[i] = " " * draw(st.integers(0, 6)) + lines[i].lstrip(" ")
            text = "\n".join(lines)
    keep_sources = path.name != "sources.yml"
    return path.name, text, keep_sources


# ------------------------------------------------------------------ the checks


def dump(doc) -> str:
    try:
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    except yaml.YAMLError:
        return yaml.safe_dump(repr(doc))


def write(root: Path, files: dict[str, str]) -> None:
    seg = root / "segments"
    seg.mkdir(parents=True, exist_ok=True)
    for old in seg.iterdir():
        old.unlink()
    for name, text in files.items():
        (seg / name).write_text(text, encoding="utf-8", errors="surrogatepass")


def check_loader(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp), files)
        try:
            load_project(tmp)
        except DefinitionError as err:
            assert str(err).strip(), "an empty error message"


def check_cli(files: dict[str, str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp), files)
        result = CliRunner().invoke(cli, ["compile", "--project-dir", tmp, "-q"])
        output = result.output
        assert result.exit_code in (0, 2), f"exit {result.exit_code}:\n{output}\n" + "".join(
            f"--- {n}\n{t}\n" for n, t in files.items()
        )
        assert "Traceback" not in output
        if result.exit_code == 2:
            assert output.startswith("Error: ") and len(output.strip().splitlines()) == 1, output
        return result.exit_code


def files_of(kind: str, doc) -> dict[str, str]:
    if kind == "mutated":
        name, text, keep_sources = doc
        return {name: text, **({"sources.yml": REAL_SOURCES} if keep_sources else {})}
    if kind == "structured":
        return {"sources.yml": REAL_SOURCES, "main.yml": dump(doc)}
    return {"main.yml": dump(doc)}


KINDS = {"random": random_docs, "structured": structured, "mutated": mutated()}


def fuzz(kind: str, check, n: int) -> None:
    """`n` derandomized examples of one kind of input through `check`; prints the count."""
    seen = []

    @reproducible(n)
    @given(KINDS[kind])
    def run(doc):
        seen.append(check(files_of(kind, doc)))

    started = time.monotonic()
    run()
    assert len(seen) >= n * 0.9
    outcome = ""
    if check is check_cli:
        outcome = f" (exit 0: {seen.count(0)}, exit 2: {seen.count(2)})"
    print(
        f"\n[fuzz] {check.__name__} {kind}: {len(seen)} examples{outcome} in "
        f"{time.monotonic() - started:.1f}s"
    )


def test_loader_random_documents():
    fuzz("random", check_loader, EXAMPLES)


def test_loader_grammar_shaped_segments():
    fuzz("structured", check_loader, EXAMPLES)


def test_loader_mutated_real_files():
    fuzz("mutated", check_loader, EXAMPLES)


def test_compile_cli_random_documents():
    fuzz("random", check_cli, CLI_EXAMPLES)


def test_compile_cli_grammar_shaped_segments():
    fuzz("structured", check_cli, CLI_EXAMPLES)


def test_compile_cli_mutated_real_files():
    fuzz("mutated", check_cli, CLI_EXAMPLES)


def test_known_crashers():
    """Inputs the fuzzer found crashing the loader (each now a DefinitionError)."""

    def nested(depth: int) -> str:
        cond = "{property: plan, eq: x}"
        for i in range(depth):
            cond = f"{{not: {cond}}}" if i % 2 else f"{{all: [{cond}]}}"
        return cond

    cases = {
        "impossible_date": "segments:\n  - name: a\n    where: {property: signup_at, "
        "before: 2026-02-30}\n",
        "timestamp_overflow": "segments:\n  - name: a\n    where: {property: signup_at, "
        "before: 0001-01-01T00:00:00+01:00}\n",
        "bad_float_tag": "segments:\n  - name: a\n    holdout: !!float abc\n    where: {all: []}\n",
        "bad_bool_tag": "segments: !!bool maybe\n",
        "unhashable_set": "segments: !!set {[a]: }\n",
        "huge_regex_repeat": "segments:\n  - name: a\n    where: {property: plan, "
        "matches: 'a{99999999999}'}\n",
        "sql_token_error": 'segments:\n  - name: a\n    where: {sql: "\'unclosed"}\n',
        "sql_statements": "segments:\n  - name: a\n    where: {sql: 'x; DROP TABLE users'}\n",
        "sql_statement": "segments:\n  - name: a\n    where: {sql: 'DROP TABLE users'}\n",
        "parent_not_text": "segments:\n  - name: a\n    where: {parent: [account]}\n",
        "deep_conditions": f"segments:\n  - name: a\n    where: {nested(120)}\n",
        "deeper_conditions": f"segments:\n  - name: a\n    where: {nested(400)}\n",
        "deep_yaml": "segments: " + "[" * 3000 + "]" * 3000 + "\n",
        "parents_column": "sources:\n  users: {table: main.users, entity: user, key: id, "
        "parents: {account: 'x\"; DROP TABLE users; --'}}\n"
        "  accounts: {table: main.accounts, entity: account, key: id}\n",
        "json_column": "sources:\n  users: {table: main.users, entity: user, key: id, "
        "json: [{a: 1}]}\n",
        "control_char_key": 'segments:\n  - name: a\n    "\\x1e\\e[2J\\u202e": 1\n'
        "    where: {all: []}\n",
        "control_char_file": "segments:\n  - name: a\x1f\n",
        "huge_window": "segments:\n  - name: a\n    where: {event: login, "
        "within: 99999999999999d}\n",
        "huge_refresh": "segments:\n  - name: a\n    refresh: 99999999999999d\n"
        "    where: {all: []}\n",
        "infinite_value": "segments:\n  - name: a\n    where: {property: plan, eq: .inf}\n",
        "nan_value": "segments:\n  - name: a\n    where: {property: plan, in: [1, .nan]}\n",
    }
    failures = []
    for name, text in cases.items():
        files = {"main.yml": text}
        if "sources:" not in text:
            files["sources.yml"] = REAL_SOURCES
        try:
            check_loader(files)
            assert check_cli(files) == 2
        except AssertionError as err:
            failures.append(f"{name}: {err}")
        except Exception as err:  # noqa: BLE001 - collect them all
            failures.append(f"{name}: {type(err).__name__}: {err}")
    assert not failures, "\n".join(failures)

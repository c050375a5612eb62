"""The error hierarchy: every user-facing failure maps to one exit code (dbt's)."""

from __future__ import annotations

from dataclasses import dataclass


class SegsqlError(Exception):
    """Base class; `exit_code` is what the CLI exits with."""

    exit_code = 1


@dataclass(frozen=True)
class Location:
    """Where a value came from: a file (relative to the project) and a 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class DefinitionError(SegsqlError):
    """A mistake in the segment definitions, reported as `file:line: what: message`."""

    exit_code = 2

    def __init__(self, message: str, loc: Location | None = None, context: str | None = None):
        self.message, self.loc, self.context = message, loc, context
        prefix = f"{loc}: " if loc else ""
        where = f"{context}: " if context else ""
        super().__init__(f"{prefix}{where}{message}")


class ProfileError(SegsqlError):
    """profiles.yml is missing, malformed, or names an unknown target / env var."""

    exit_code = 2


class UsageError(SegsqlError):
    """A command-line mistake (e.g. a refused --as-of)."""

    exit_code = 2


class WarehouseError(SegsqlError):
    """The warehouse refused or failed a statement."""

    exit_code = 1


class LockError(WarehouseError):
    """Another run holds the target's lock (exit 1: try again later)."""


class RunFailed(SegsqlError):
    """One or more segments (or fixtures) failed; the details were already reported."""

    exit_code = 1


def printable(text: str) -> str:
    """`text` with control and format characters (newlines, ESC, NUL, bidi overrides,
    zero-width marks) escaped, so a message quoting user input stays one honest line."""
    import unicodedata

    def esc(ch: str) -> str:
        if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            return ch
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return "".join(esc(ch) for ch in text)


def did_you_mean(word: str, choices) -> str:
    """' (did you mean 'x'?)' for the closest choice, or ''."""
    import difflib

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def one_line(err: BaseException | str, first_only: bool = False) -> str:
    """An error's message on one line (whitespace collapsed); with `first_only`, just its
    first line (drivers that append stack traces). Never empty: the error's class name."""
    text = str(err).strip()
    if first_only:
        text = (text.splitlines() or [""])[0]
    fallback = type(err).__name__ if isinstance(err, BaseException) else "error"
    return " ".join(text.split()) or fallback

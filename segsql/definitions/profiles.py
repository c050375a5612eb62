"""profiles.yml, dbt-style: `profile: {target: dev, outputs: {dev: {type: ..., ...}}}`.

Only the selected output is rendered with Jinja, so a missing env var in an unused
target is not an error. Secrets stay inside `Target.options` and are never printed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DefinitionError, ProfileError, did_you_mean
from .yaml import load_file

DEFAULT_PROFILE = "segsql"
SECRET_KEYS = ("password", "token", "private_key", "secret", "access_token", "keyfile_json")


@dataclass
class Target:
    name: str
    type: str
    schema: str
    project_dir: str
    options: dict[str, Any] = field(repr=False)
    profile: str = DEFAULT_PROFILE
    incremental: bool = True  # keep feature state between runs (`incremental: false`: never)

    def secrets(self) -> list[str]:
        """Values that must never appear in output (for redaction)."""
        return [
            str(v)
            for k, v in self.options.items()
            if any(s in k.lower() for s in SECRET_KEYS) and v not in (None, "")
        ]


def profiles_path(project_dir: Path, profiles_dir: str | None) -> Path:
    base = profiles_dir or os.environ.get("SEGSQL_PROFILES_DIR") or str(project_dir)
    return Path(base) / "profiles.yml"


class _MissingEnv(Exception):
    pass


def _env_var(name: str, default: Any = None) -> Any:
    if name in os.environ:
        return os.environ[name]
    if default is not None:
        return default
    raise _MissingEnv(name)


def render_value(value: Any, where: str) -> Any:
    """Render a profile value with Jinja (`env_var(name[, default])`), keeping types."""
    if isinstance(value, dict):
        return {k: render_value(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, where) for v in value]
    if not isinstance(value, str) or "{" not in value:
        return value
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.globals["env_var"] = _env_var
    try:
        rendered = env.from_string(value).render()
    except _MissingEnv as err:
        raise ProfileError(
            f"profiles.yml: '{where}' needs environment variable '{err}', which "
            "is not set (and has no default)"
        ) from None
    except jinja2.TemplateError as err:
        raise ProfileError(f"profiles.yml: '{where}' is not a valid template: {err}") from None
    if rendered.lstrip("-").isdigit():
        return int(rendered)
    return {"true": True, "false": False}.get(rendered.lower(), rendered)


def _default_target(path: Path, prof: dict, name: str, outputs: dict) -> Any:
    """The profile's `target:`, rendered like the other values (`"{{ env_var('SEGSQL_TARGET',
    'dev') }}"`), else its first output. Rendered only when `--target` is not given."""
    raw = prof.get("target")
    if raw is None or raw == "":
        return next(iter(outputs))
    if not isinstance(raw, (str, int)) or isinstance(raw, bool):
        raise ProfileError(
            f"{path}: profile '{name}' has `target: {raw!r}`; expected the name of one "
            f"of its outputs: {', '.join(map(str, outputs))}"
        )
    chosen = render_value(raw, f"{name}.target")
    if chosen in outputs or chosen == raw:
        return chosen  # (an unknown literal name is reported by the caller)
    # rendering reads digits as a number: `'1'` is the output named 1 or '1'
    match = next((o for o in outputs if str(o) == str(chosen)), None)
    if match is not None:
        return match
    raise ProfileError(
        f"{path}: profile '{name}' has no target '{chosen}' (what its `target: {raw}` "
        f"renders to){did_you_mean(str(chosen), outputs)}; the valid target names for "
        f"this profile are: {', '.join(map(str, outputs))}"
    )


def load_target(
    project_dir: Path,
    profiles_dir: str | None = None,
    profile: str | None = None,
    target: str | None = None,
) -> Target:
    path = profiles_path(project_dir, profiles_dir)
    if not path.is_file():
        raise ProfileError(
            f"no profiles.yml at {path}: create one (see README, 'profiles.yml'),"
            " or point to it with --profiles-dir or SEGSQL_PROFILES_DIR"
        )
    try:
        doc = load_file(path, str(path))
    except DefinitionError as err:
        raise ProfileError(str(err)) from None
    name = profile or DEFAULT_PROFILE
    if not isinstance(doc, dict) or name not in doc:
        names = list(doc) if isinstance(doc, dict) else []
        raise ProfileError(
            f"{path}: no profile named '{name}'{did_you_mean(name, names)}; "
            f"profiles here: {', '.join(map(str, names)) or '(none)'}"
        )
    prof = doc[name]
    if not isinstance(prof, dict) or not isinstance(prof.get("outputs"), dict):
        raise ProfileError(f"{path}: profile '{name}' needs 'outputs:' with at least one target")
    outputs = prof["outputs"]
    chosen = target or _default_target(path, prof, name, outputs)
    if chosen not in outputs:
        raise ProfileError(
            f"{path}: profile '{name}' has no target '{chosen}'"
            f"{did_you_mean(chosen, outputs)}; the valid target names for this "
            f"profile are: {', '.join(outputs)}"
        )
    raw = outputs[chosen]
    if not isinstance(raw, dict):
        raise ProfileError(f"{path}: target '{chosen}' must be a mapping")
    options = render_value(dict(raw), f"{name}.outputs.{chosen}")
    from ..targets import TARGETS

    kind = options.get("type")
    if kind not in TARGETS:
        raise ProfileError(
            f"{path}: target '{chosen}' has type {kind!r}"
            f"{did_you_mean(str(kind), TARGETS)}; expected one of: " + ", ".join(TARGETS)
        )
    schema = str(options.get("schema") or "segsql")
    incremental = options.get("incremental", True)
    if not isinstance(incremental, bool):
        raise ProfileError(
            f"{path}: target '{chosen}' has `incremental: {incremental!r}`; expected true "
            "(keep feature state between runs, the default) or false (every run is full)"
        )
    return Target(
        name=chosen,
        type=kind,
        schema=schema,
        project_dir=str(project_dir),
        options=options,
        profile=name,
        incremental=incremental,
    )

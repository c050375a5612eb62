"""YAML loading that remembers where every mapping, list and key came from.

Mappings load as `YMap` (a dict) and lists as `YList` (a list); both carry `.loc` and
the location of each key / item, so the model can point errors at `file:line`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import DefinitionError, Location, one_line


class YMap(dict):
    loc: Location
    key_locs: dict[Any, Location]

    def loc_of(self, key: Any) -> Location:
        return self.key_locs.get(key, self.loc)


class YList(list):
    loc: Location
    item_locs: list[Location]

    def loc_of(self, index: int) -> Location:
        return self.item_locs[index] if index < len(self.item_locs) else self.loc


MERGE_TAG = "tag:yaml.org,2002:merge"  # the `<<` key
VALUE_TAG = "tag:yaml.org,2002:value"  # the `=` key

# What PyYAML's own constructors raise for a tagged or implicit value they cannot build
# (`2026-02-30`, `!!float abc`, `!!bool maybe`, ...) instead of a YAMLError.
_VALUE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError, IndexError)


def _loader(file: str, base: type = yaml.SafeLoader) -> type[yaml.SafeLoader]:
    def where(node: yaml.Node) -> Location:
        return Location(file, node.start_mark.line + 1)

    class Loader(base):  # type: ignore[valid-type,misc]
        def construct_object(self, node, deep=False):
            try:
                return super().construct_object(node, deep=deep)
            except _VALUE_ERRORS as err:
                kind = str(node.tag).rsplit(":", 1)[-1]
                if isinstance(node, yaml.ScalarNode):
                    problem = f"{node.value!r} is not a valid {kind}"
                    if not isinstance(err, KeyError):
                        problem += f" ({err})"
                else:
                    problem = f"cannot build this {kind}: {err}"
                raise DefinitionError(f"invalid YAML: {problem}", where(node)) from None

    def merged(loader: yaml.SafeLoader, node: yaml.Node) -> list[YMap]:
        """The mappings of a merge key's value (`<<: *a` or `<<: [*a, *b]`), first one
        first. Each is built by `mapping`, so it keeps the lines where its keys are."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        built = [loader.construct_object(n, deep=True) for n in items]
        if not built or not all(isinstance(m, YMap) for m in built):
            raise DefinitionError(
                "'<<' (a YAML merge key) takes a mapping or a list of mappings, "
                "such as `<<: *defaults`",
                where(node),
            )
        return built

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> YMap:
        """A YMap; merge keys as YAML 1.1 defines them: the mapping's own keys win over
        merged ones, and of several merged mappings the first that has a key wins. A key
        keeps the line it is written on (in the anchored mapping, for a merged one)."""
        own: dict[Any, Location] = {}
        values: dict[Any, Any] = {}
        defaults: list[YMap] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                key: Any = "<<"
            elif key_node.tag == VALUE_TAG:  # a plain `=` key, which PyYAML reads as text
                key = key_node.value
            else:
                key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise DefinitionError("a mapping key must be a plain value", where(key_node))
            if key in own:
                raise DefinitionError(f"duplicate key '{key}'", where(key_node))
            own[key] = where(key_node)
            if key_node.tag == MERGE_TAG:
                defaults = merged(loader, value_node)
                continue
            values[key] = loader.construct_object(value_node, deep=True)
        out = YMap()
        out.loc, out.key_locs = where(node), {}
        for default in defaults:  # merged keys first, as PyYAML orders them
            for key, value in default.items():
                if key not in out and key not in values:
                    out[key] = value
                    out.key_locs[key] = default.loc_of(key)
        for key, value in values.items():
            out[key] = value
            out.key_locs[key] = own[key]
        return out

    def sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> YList:
        out = YList(loader.construct_object(child, deep=True) for child in node.value)
        out.loc, out.item_locs = where(node), [where(child) for child in node.value]
        return out

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, sequence)
    return Loader


def load_text(text: str, file: str) -> Any:
    """Parse one YAML document; syntax errors become DefinitionErrors with a line.

    libyaml's parser (where PyYAML has it) reads valid files about five times faster;
    a file it rejects is read again by the pure-Python parser, whose messages point at
    the line that is wrong (libyaml reports an unclosed `[` where it gave up)."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(text, Loader=_loader(file, fast))  # noqa: S506 - safe loader
        except DefinitionError:
            raise
        except Exception:  # noqa: BLE001, S110 - reported by the pure-Python parser below
            pass
    try:
        return yaml.load(text, Loader=_loader(file))  # noqa: S506 - SafeLoader subclass
    except DefinitionError:
        raise
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or "invalid YAML"
        if err.context_mark and "<stream end>" in problem:  # e.g. an unclosed [ or {
            mark = err.context_mark
            problem += f" ({err.context} that is never closed)"
        line = mark.line + 1 if mark else 1
        lines = text.splitlines()
        if line <= len(lines) and "\t" in lines[line - 1]:
            problem += " (YAML does not allow tabs for indentation; use spaces)"
        raise DefinitionError(f"invalid YAML: {problem}", Location(file, line)) from None
    except yaml.reader.ReaderError as err:  # a control character, or not UTF-8
        line = text.count("\n", 0, max(err.position, 0)) + 1
        raise DefinitionError(
            f"invalid YAML: unacceptable character #x{err.character:04x} ({err.reason})"
            if isinstance(err.character, int)
            else f"invalid YAML: {err.reason}",
            Location(file, line),
        ) from None
    except yaml.YAMLError as err:
        raise DefinitionError(f"invalid YAML: {one_line(err)}", Location(file, 1)) from None
    except RecursionError:
        raise DefinitionError(
            "invalid YAML: nested too deeply to read", Location(file, 1)
        ) from None
    except _VALUE_ERRORS as err:  # raised outside construct_object (e.g. in a !!set)
        raise DefinitionError(f"invalid YAML: {err}", Location(file, 1)) from None


def load_file(path: Path, display: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DefinitionError("file is not UTF-8 text", Location(display, 1)) from None
    return load_text(text, display)

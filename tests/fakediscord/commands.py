"""Turning a test's `send_command("story add", file=..., rating="teen")` into the `data` of an
application-command interaction, using the command schemas the bot itself synced.

Owns option typing (string, integer, boolean, number, user, channel, role, attachment), subcommand
paths, `resolved` data, and the checks Discord's client makes before sending (unknown option,
missing required option, value not among the choices). It must not talk to the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SUB_COMMAND, SUB_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11


class CommandUsageError(LookupError):
    """The test asked for a command or option the bot did not register (Discord would not send it)."""


def find_command(commands: dict[str, dict[str, Any]], path: str) -> tuple[dict[str, Any], list[str]]:
    """The top-level command schema named by the first word of `path`, and the subcommand words."""
    words = path.split()
    if not words:
        raise CommandUsageError("empty command path")
    top = commands.get(words[0])
    if top is None:
        raise CommandUsageError(f"/{words[0]} is not registered; the bot synced {sorted(commands)}")
    return top, words[1:]


def _leaf(top: dict[str, Any], subs: list[str]) -> tuple[dict[str, Any], list[str]]:
    node = top
    for word in subs:
        children = {
            o["name"]: o for o in node.get("options") or [] if o.get("type") in (SUB_COMMAND, SUB_GROUP)
        }
        if word not in children:
            raise CommandUsageError(f"/{top['name']} has no subcommand {word!r}; it has {sorted(children)}")
        node = children[word]
    leftover = [o["name"] for o in node.get("options") or [] if o.get("type") in (SUB_COMMAND, SUB_GROUP)]
    if leftover:
        raise CommandUsageError(f"/{top['name']} {' '.join(subs)} needs a subcommand: {leftover}")
    return node, subs


Resolver = Callable[[int, Any, dict[str, dict[str, Any]]], str]
"""Adds an entity (user, channel, role, attachment) to `resolved` and returns its id."""


def _value(option: dict[str, Any], value: Any, resolved: dict[str, dict[str, Any]], resolve: Resolver) -> Any:
    kind = option.get("type")
    if kind == STRING:
        value = str(value)
    elif kind == INTEGER:
        value = int(value)
    elif kind == NUMBER:
        value = float(value)
    elif kind == BOOLEAN:
        value = bool(value)
    elif kind in (USER, CHANNEL, ROLE, MENTIONABLE, ATTACHMENT):
        return resolve(kind, value, resolved)
    choices = option.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise CommandUsageError(f"{value!r} is not a choice of option {option['name']!r}: {choices}")
    min_value, max_value = option.get("min_value"), option.get("max_value")
    if (min_value is not None and value < min_value) or (max_value is not None and value > max_value):
        raise CommandUsageError(f"{value!r} is outside {option['name']!r}'s range {min_value}..{max_value}")
    return value


def build_data(
    commands: dict[str, dict[str, Any]],
    path: str,
    values: dict[str, Any],
    resolve: Resolver,
    *,
    focused: str | None = None,
) -> dict[str, Any]:
    """The `data` of a slash command (or, with `focused`, an autocomplete) interaction."""
    top, subs = find_command(commands, path)
    leaf, _ = _leaf(top, subs)
    schema = {o["name"]: o for o in leaf.get("options") or []}
    unknown = sorted(set(values) - set(schema))
    if unknown:
        raise CommandUsageError(f"/{path} has no option(s) {unknown}; it has {sorted(schema)}")
    resolved: dict[str, dict[str, Any]] = {}
    options: list[dict[str, Any]] = []
    for name, option in schema.items():  # Discord sends options in their declared order
        if name not in values:
            if option.get("required") and focused is None:
                raise CommandUsageError(f"/{path} needs option {name!r}")
            continue
        if name == focused:
            options.append(
                {"name": name, "type": option["type"], "value": str(values[name]), "focused": True}
            )
            continue
        options.append(
            {"name": name, "type": option["type"], "value": _value(option, values[name], resolved, resolve)}
        )
    if focused is not None and focused not in values:
        raise CommandUsageError(f"the focused option {focused!r} needs a (partial) value")
    if focused is not None and not schema.get(focused, {}).get("autocomplete"):
        raise CommandUsageError(f"option {focused!r} of /{path} has no autocomplete")
    for word in reversed(subs):
        kind = SUB_GROUP if options and options[0].get("type") == SUB_COMMAND else SUB_COMMAND
        options = [{"name": word, "type": kind, "options": options}]
    data: dict[str, Any] = {
        "id": top["id"],
        "name": top["name"],
        "type": top.get("type", 1),
        "options": options,
    }
    if top.get("guild_id"):
        data["guild_id"] = top["guild_id"]
    if resolved:
        data["resolved"] = resolved
    return data

"""The limits real Discord enforces on what a bot sends, so the fake answers 400 where Discord would.

Owns the message, embed, component and autocomplete limits (documented Discord limits). It must not
hold state or build replies; the server turns a non-empty list of problems into a 400.
"""

from __future__ import annotations

from typing import Any

EMBED_LIMITS = {"title": 256, "description": 4096}
EMBED_TOTAL = 6000


def _embed(embed: dict[str, Any], where: str) -> tuple[list[str], int]:
    problems: list[str] = []
    total = 0
    for key, limit in EMBED_LIMITS.items():
        text = embed.get(key) or ""
        total += len(text)
        if len(text) > limit:
            problems.append(f"{where}.{key} is {len(text)} chars (limit {limit})")
    fields = embed.get("fields") or []
    if len(fields) > 25:
        problems.append(f"{where} has {len(fields)} fields (limit 25)")
    for i, field in enumerate(fields):
        name, value = field.get("name") or "", field.get("value") or ""
        if not name or not value:
            problems.append(f"{where}.fields[{i}] has an empty name or value")
        if len(name) > 256 or len(value) > 1024:
            problems.append(f"{where}.fields[{i}] is too long ({len(name)}/256, {len(value)}/1024)")
        total += len(name) + len(value)
    footer = (embed.get("footer") or {}).get("text") or ""
    author = (embed.get("author") or {}).get("name") or ""
    if len(footer) > 2048:
        problems.append(f"{where}.footer.text is {len(footer)} chars (limit 2048)")
    if len(author) > 256:
        problems.append(f"{where}.author.name is {len(author)} chars (limit 256)")
    return problems, total + len(footer) + len(author)


def _components(components: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    if len(components) > 5 and all(c.get("type") == 1 for c in components):
        problems.append(f"{len(components)} action rows (limit 5)")
    for r, row in enumerate(components):
        children = row.get("components") or []
        if row.get("type") == 1 and len(children) > 5:
            problems.append(f"components[{r}] holds {len(children)} items (limit 5)")
        for c, child in enumerate(children):
            custom_id = child.get("custom_id") or ""
            if len(custom_id) > 100:
                problems.append(f"components[{r}][{c}].custom_id is {len(custom_id)} chars (limit 100)")
            if len(child.get("label") or "") > 80:
                problems.append(f"components[{r}][{c}].label is longer than 80 chars")
            if child.get("type") == 2 and child.get("style") != 5 and not custom_id:
                problems.append(f"components[{r}][{c}] is a button without custom_id")
    return problems


def message_body(body: dict[str, Any], *, files: int = 0, edit: bool = False) -> list[str]:
    """Problems Discord would report for a message create (or, with `edit`, a message edit)."""
    problems: list[str] = []
    content = body.get("content") or ""
    if len(content) > 2000:
        problems.append(f"content is {len(content)} chars (limit 2000)")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        problems.append(f"{len(embeds)} embeds (limit 10)")
    total = 0
    for i, embed in enumerate(embeds):
        found, size = _embed(embed, f"embeds[{i}]")
        problems += found
        total += size
    if total > EMBED_TOTAL:
        problems.append(f"embeds hold {total} chars together (limit {EMBED_TOTAL})")
    problems += _components(body.get("components") or [])
    has_something = content or embeds or body.get("components") or files or body.get("poll")
    if not edit and not has_something and not (int(body.get("flags") or 0) & (1 << 15)):
        problems.append("Cannot send an empty message")
    return problems


def autocomplete_choices(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    choices = data.get("choices")
    if not isinstance(choices, list):
        return ["autocomplete result has no choices list"]
    if len(choices) > 25:
        problems.append(f"{len(choices)} choices (limit 25)")
    for i, choice in enumerate(choices):
        name = str(choice.get("name") or "")
        value = choice.get("value")
        if not 1 <= len(name) <= 100:
            problems.append(f"choices[{i}].name is {len(name)} chars (must be 1-100)")
        if isinstance(value, str) and len(value) > 100:
            problems.append(f"choices[{i}].value is {len(value)} chars (limit 100)")
    return problems

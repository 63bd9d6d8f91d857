"""YAML loading with a budget: safe tags only, and a refusal of documents whose aliases would
expand into more nodes than a story's front matter or a roster could ever need ("billion laughs":
ten levels of nine-fold anchors is 9**10 nodes from 1.2 KB of text).

Owns `load_bounded`, which composes the document into its node graph first (aliases are shared
nodes there, so this costs the size of the text), counts the nodes the constructed value would
hold, and only then builds the Python value. It must not touch the database or Discord.
"""

from __future__ import annotations

from typing import Any

import yaml

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_NODES = 20_000
"""Nodes the expanded document may hold (a large roster is ~3,000; a front matter ~100)."""
MAX_ALIASES = 200
"""Alias references (`*name`) a document may use at all."""


class YAMLBudgetError(yaml.YAMLError):
    """The document's aliases expand beyond the budget; it was not constructed."""


def load_bounded(
    text: str, loader: type[Any] = _SAFE_LOADER, *, max_nodes: int = MAX_NODES, max_aliases: int = MAX_ALIASES
) -> Any:
    """Load one YAML document with `loader` (a SafeLoader kind) after checking its expanded size.

    Raises `YAMLBudgetError` (a `yaml.YAMLError`) when aliases are too many or would expand the
    document beyond `max_nodes`, and `yaml.YAMLError` for invalid YAML, as `yaml.load` does."""
    node = yaml.compose(text, Loader=loader)
    if node is None:
        return None
    _check_budget(node, max_nodes, max_aliases)
    constructor = loader("")  # build the value from the nodes already composed (no second parse)
    try:
        return constructor.construct_document(node)
    finally:
        constructor.dispose()


def _check_budget(root: yaml.Node, max_nodes: int, max_aliases: int) -> None:
    """Count the nodes of the expanded tree without expanding it: a node reached again (an alias)
    adds its whole subtree again, but each subtree is measured once (post-order, memoised)."""
    sizes: dict[int, int] = {}
    visits = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            if total > max_nodes:
                raise YAMLBudgetError(f"aliases would expand the document beyond {max_nodes} nodes")
            sizes[key] = total
            continue
        if key in sizes:
            visits += 1
            if visits > max_aliases:
                raise YAMLBudgetError(f"more than {max_aliases} aliases (anchors used as *name)")
            continue
        if key in on_path:
            raise YAMLBudgetError("a recursive alias (a node that contains itself)")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []

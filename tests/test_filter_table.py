"""The search filters are declared once (`service.filter_table`): `/search`, `/rec` and the CLI's
`search` / `rec` offer exactly the table's options, under their established names, and each lands in
the same `SearchQuery` field whichever door it came through."""

from __future__ import annotations

import argparse

import pytest

from cli.query import _filters, query_from_args
from cogs.filters import AUTOCOMPLETE, DESCRIPTIONS, build_query
from cogs.recs import Recs
from cogs.search import Search
from service.filter_table import FILTERS, SLASH


def test_search_and_rec_offer_exactly_the_tables_options() -> None:
    search = {p.name for p in Search.search.parameters} - {"sort"}
    rec = {p.name for p in Recs.rec.parameters} - {"like"}
    assert search == rec == set(SLASH)
    assert {"exclude_character", "exclude_pairing", "exclude_tag"} <= set(SLASH)  # names kept
    assert all(DESCRIPTIONS[name] for name in SLASH)
    assert {"character", "exclude_character", "pairing", "author", "rating"} <= set(AUTOCOMPLETE)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    _filters(parser)
    return parser.parse_args(list(argv))


def test_the_cli_offers_every_flag_of_the_table() -> None:
    flags = {f.flag for f in FILTERS if f.flag}
    assert {"--not-character", "--not-pairing", "--not-tag", "--not-fandom", "--max-rating"} <= flags
    parser = argparse.ArgumentParser()
    _filters(parser)
    offered = {o for action in parser._actions for o in action.option_strings}
    assert flags | {"--wip", "--json"} <= offered


@pytest.mark.parametrize(
    ("slash", "typed", "argv", "field", "value"),
    [
        ("exclude_character", "Spike, Willow", ["--not-character", "Spike", "--not-character", "Willow"], "exclude_characters", ["Spike", "Willow"]),
        ("character", "Buffy", ["--character", "Buffy"], "characters", ["Buffy"]),
        ("pairing", "Spike/Willow", ["--pairing", "Spike/Willow"], "pairings", ["Spike/Willow"]),
        ("author", "Smith, Jones", ["--author", "Smith, Jones"], "authors", ["Smith, Jones"]),
        ("tag", "angst, fluff", ["--tag", "angst", "--tag", "fluff"], "tags", ["angst", "fluff"]),
        ("exclude_tag", "angst", ["--not-tag", "angst"], "exclude_tags", ["angst"]),
        ("text", " perfect sky ", ["--text", "perfect sky"], "text", "perfect sky"),
        ("words_min", 1000, ["--words-min", "1000"], "words_min", 1000),
        ("complete", False, ["--wip"], "complete", False),
        ("rating", "PG-13", ["--rating", "PG-13"], "ratings", ["PG-13"]),
    ],
)  # fmt: skip
def test_each_filter_lands_in_the_same_field_from_discord_and_the_cli(
    slash: str, typed: object, argv: list[str], field: str, value: object
) -> None:
    from_discord = build_query({slash: typed})
    from_cli = query_from_args(parse(*argv))
    assert getattr(from_discord, field) == getattr(from_cli, field) == value


def test_a_typed_ceiling_is_a_max_rating() -> None:
    assert build_query({"rating": "at most teen"}).max_rating == "at most teen"
    assert query_from_args(parse("--max-rating", "teen")).max_rating == "teen"


def test_the_sort_and_the_filters_survive_picking_from_a_commands_arguments() -> None:
    from cogs.filters import pick_filters

    arguments = {"self": object(), "interaction": object(), "sort": "longest", "exclude_tag": "fluff"}
    q = build_query(pick_filters(arguments))
    assert (q.sort, q.exclude_tags) == ("longest", ["fluff"])

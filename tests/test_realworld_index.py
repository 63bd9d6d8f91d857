"""The labelled real-world set and the seeds indexed into a real SQLite archive (issue 13): fandoms
read from disclaimers and folders find the right stories, and full text search matches words of
other languages (accents folded by the FTS5 `unicode61 remove_diacritics` tokenizer).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.query import SearchQuery
from service.search import search
from tests.conftest import SEEDS_DIR, make_settings

HERE = Path(__file__).parent / "realworld"


async def _titles(lib: object, **query: object) -> set[str]:
    found = await search(lib, SearchQuery(per_page=50, **query))  # type: ignore[arg-type]
    return {hit.title for hit in found.hits}


@pytest.fixture
async def lib(tmp_path: Path):  # type: ignore[no-untyped-def]
    from service.indexer import index_directory
    from service.library import Library

    settings = make_settings(tmp_path)
    shutil.copytree(HERE / "languages", settings.stories_dir / "languages")
    shutil.copytree(HERE / "fandom", settings.stories_dir / "fandom")
    if SEEDS_DIR.exists():
        shutil.copytree(SEEDS_DIR, settings.stories_dir / "seeds")
    library = await Library.open(settings)
    try:
        await index_directory(library)
        yield library
    finally:
        await library.close()


@pytest.mark.seeds
async def test_seeds_found_by_fandom_and_ship(lib: object) -> None:
    assert await _titles(lib, fandoms=["buffy"], pairings=["Spillow"]) == {"One Step Forward"}


async def test_fandom_from_a_disclaimer_is_searchable(lib: object) -> None:
    assert "Quiet Hours" in await _titles(lib, fandoms=["Harry Potter"])
    assert "A Cup of Tea at the End of the Universe" in await _titles(lib, fandoms=["Doctor Who"])


@pytest.mark.parametrize(
    ("word", "title"),
    [
        ("Prüfung", "Nachtwache"),
        ("prufung", "Nachtwache"),  # accents folded
        ("biblioteca", "La promesa"),
        ("Duecentododici", "Il faro"),
        ("brouillons", "La lettre"),
        ("стеклом", "Белая ночь"),
        ("Стеклом", "Долгая зима"),  # case folded in Cyrillic too
    ],
)
async def test_full_text_matches_words_in_other_languages(lib: object, word: str, title: str) -> None:
    assert title in await _titles(lib, text=word)

"""Storing stories: rows written from a StoryMeta, updated in place by path, mod overrides applied
on top of every re-index, deletes cascading, and the one key normalisation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import func, select

from archive.model import JSON_KEYS, CharacterCount, Rating, Relationship, Series, StoryMeta
from db.fts import check_index, fts_search
from db.keys import fold
from db.models import (
    Override,
    RelationshipMember,
    Story,
    StoryCharacter,
    StoryRelationship,
    StoryTag,
    StoryText,
    utcnow,
)
from db.store import apply_overrides, delete_story, save_story, stored_files

SHA_A, SHA_B = "a" * 64, "b" * 64


def make_meta(**changes: Any) -> StoryMeta:
    meta = StoryMeta(
        path="fic/first.txt",
        format="mailing-list",
        title="The Slayer’s Café",
        author="Ánya Jenkins",
        rating=Rating("PG-13", "teen"),
        relationships=[
            Relationship(("Spike", "Willow Rosenberg"), raw="Spike/Willow"),
            Relationship(("Buffy Summers", "Dawn Summers"), "platonic", "B & D"),
        ],
        characters=[CharacterCount("Spike", "header", 4), CharacterCount("Giles", "text", 2)],
        tags=["Angst", "angst", "Hurt/Comfort"],
        summary="Spike helps.",
        warnings=["Violence"],
        fandoms=["Buffy the Vampire Slayer"],
        series=Series("Second Best", 12),
        season="S4",
        spoilers="Hush",
        words=5,
        status="complete",
        published="2001-02-03",
        language="English",
        notes=["a note"],
        body="Spike sat in the crypt with Willow.",
        part=3,
        problems=["odd header"],
    )
    return replace(meta, **changes) if changes else meta


async def _save(
    lib: Any, meta: StoryMeta, *, sha: str = SHA_A, mtime: float = 1.0, path: str = "fic/first.txt"
) -> Story:
    async with lib.transaction() as session:
        return await save_story(
            session, meta, path=path, size=100, mtime=mtime, sha256=sha, roster=lib.roster
        )


async def _children(lib: Any, story_id: int) -> dict[str, Any]:
    async with lib.sessions() as s:
        chars = (
            await s.execute(
                select(StoryCharacter.name, StoryCharacter.source, StoryCharacter.mentions).where(
                    StoryCharacter.story_id == story_id
                )
            )
        ).all()
        rels = (
            await s.execute(
                select(StoryRelationship.key, StoryRelationship.kind, StoryRelationship.size).where(
                    StoryRelationship.story_id == story_id
                )
            )
        ).all()
        members = (
            await s.scalars(
                select(RelationshipMember.name)
                .join(StoryRelationship)
                .where(StoryRelationship.story_id == story_id)
            )
        ).all()
        tags = (
            await s.execute(
                select(StoryTag.kind, StoryTag.name, StoryTag.label).where(StoryTag.story_id == story_id)
            )
        ).all()
        texts = await s.get(StoryText, story_id)
    return {
        "chars": sorted(chars),
        "rels": sorted(rels),
        "members": sorted(members),
        "tags": sorted(tags),
        "text": texts,
    }


async def test_save_writes_every_table(library: Any) -> None:
    story = await _save(library, make_meta())
    assert story.title == "The Slayer’s Café"
    assert story.title_key == fold(story.title) == "slayers cafe"
    assert story.author_key == "anya jenkins"
    assert (story.rating_level, story.rating_rank, story.rating_raw) == ("teen", 1, "PG-13")
    assert (story.series_name, story.series_part, story.part) == ("Second Best", 12, 3)
    assert (story.file_size, story.file_mtime, story.file_hash) == (100, 1.0, SHA_A)
    assert list(story.meta)[: len(JSON_KEYS)] == list(JSON_KEYS)
    assert story.meta["part"] == 3 and story.meta["problems"] == ["odd header"]
    assert "body" not in story.meta
    kids = await _children(library, story.id)
    assert kids["chars"] == [("Giles", "text", 2), ("Spike", "header", 4)]
    assert kids["rels"] == [
        ("Buffy Summers & Dawn Summers", "platonic", 2),
        ("Spike/Willow Rosenberg", "romantic", 2),
    ]
    assert kids["members"] == sorted(["Buffy Summers", "Dawn Summers", "Spike", "Willow Rosenberg"])
    assert kids["tags"] == [
        ("fandom", "buffy the vampire slayer", "Buffy the Vampire Slayer"),
        ("tag", "angst", "Angst"),
        ("tag", "hurt comfort", "Hurt/Comfort"),
        ("warning", "violence", "Violence"),
    ]
    for word in ("Angst", "Giles", "Spike/Willow Rosenberg", "Buffy the Vampire Slayer", "Second Best"):
        assert word in kids["text"].tags
    assert kids["text"].body == "Spike sat in the crypt with Willow."


async def test_rating_rank_follows_the_level(library: Any) -> None:
    for n, level in enumerate(("general", "teen", "mature", "explicit", "not_rated")):
        story = await _save(library, make_meta(rating=Rating(None, level)), path=f"r{n}.txt")
        assert story.rating_rank == n


async def test_update_in_place_keeps_id_and_replaces_children(library: Any) -> None:
    first = await _save(library, make_meta())
    changed = make_meta(
        title="Renamed",
        relationships=[],
        characters=[CharacterCount("Tara Maclay", "header", 1)],
        tags=["Fluff"],
        warnings=[],
        fandoms=[],
        body="Tara hummed.",
    )
    second = await _save(library, changed, sha=SHA_B, mtime=2.0)
    assert second.id == first.id
    assert (second.title, second.file_hash, second.file_mtime) == ("Renamed", SHA_B, 2.0)
    assert second.added_at == first.added_at
    kids = await _children(library, first.id)
    assert kids["chars"] == [("Tara Maclay", "header", 1)]
    assert kids["rels"] == [] and kids["members"] == []
    assert kids["tags"] == [("tag", "fluff", "Fluff")]
    async with library.sessions() as s:
        assert await fts_search(s, "crypt") == []
        assert [sid for sid, _ in await fts_search(s, "hummed")] == [first.id]
        assert await s.scalar(select(func.count()).select_from(Story)) == 1


async def test_overrides_survive_a_reindex(library: Any) -> None:
    story = await _save(library, make_meta())
    async with library.transaction() as s:
        s.add_all(
            [
                Override(story_id=story.id, field="title", value="Mod Title", at=utcnow()),
                Override(story_id=story.id, field="rating", value="NC-17", at=utcnow()),
                Override(story_id=story.id, field="relationships", value="Spuffy", at=utcnow()),
            ]
        )
    again = await _save(library, make_meta(body="A new draft of the story."), sha=SHA_B)
    assert again.id == story.id
    assert again.title == "Mod Title" and again.title_key == "mod title"
    assert again.rating_level == "explicit"
    assert again.meta["title"] == "The Slayer’s Café"  # the parser's own view is kept
    spuffy = library.roster.parse_relationships("Spuffy")
    kids = await _children(library, story.id)
    assert [key for key, _, _ in kids["rels"]] == [r.key for r in spuffy]
    async with library.sessions() as s:
        assert [sid for sid, _ in await fts_search(s, '"Mod Title"')] == [story.id]


def test_apply_overrides_each_field() -> None:
    meta = make_meta()
    out = apply_overrides(
        meta,
        {
            "author": "Someone Else",
            "summary": None,
            "rating": {"raw": "R", "level": "mature"},
            "relationships": ["Xander/Anya", "Buffy & Faith"],
            "characters": ["Spike", "Anya"],
            "tags": "Fluff, Humor",
            "series": {"name": "Other", "part": "2"},
            "nonsense": 1,
        },
    )
    assert out.author == "Someone Else" and out.summary is None
    assert out.rating == Rating("R", "mature")
    assert [(r.characters, r.kind) for r in out.relationships] == [
        (("Anya", "Xander"), "romantic"),
        (("Buffy", "Faith"), "platonic"),
    ]
    assert out.characters == [CharacterCount("Spike", "header", 4), CharacterCount("Anya", "header", 0)]
    assert out.tags == ["Fluff", "Humor"]
    assert out.series == Series("Other", 2)
    assert meta.author == "Ánya Jenkins"  # the original is untouched
    assert apply_overrides(meta, {"rating": "Mature"}).rating.level == "mature"


async def test_delete_cascades_and_stored_files_skip_removed(library: Any) -> None:
    keep = await _save(library, make_meta(), path="keep.txt")
    gone = await _save(library, make_meta(), path="gone.txt")
    hidden = await _save(library, make_meta(), path="hidden.txt", mtime=5.0)
    async with library.transaction() as s:
        await delete_story(s, gone.id)
        (await s.get(Story, hidden.id)).removed_at = utcnow()
    async with library.sessions() as s:
        files = await stored_files(s)
        orphans = await s.scalar(
            select(func.count()).select_from(StoryCharacter).where(StoryCharacter.story_id == gone.id)
        )
        await check_index(s)
    assert files == {"keep.txt": (100, 1.0, SHA_A, keep.id)}
    assert orphans == 0


def test_fold_is_the_one_key() -> None:
    assert fold("The Slayer’s Café!") == "slayers cafe"
    assert fold("  SPIKE   &  Dru ") == "spike dru"
    assert fold("A") == "a"  # an article alone stays
    assert fold("An Apple a Day") == "apple a day"
    assert fold(None) == fold("") == fold("💀") == ""


async def test_a_deleted_storys_id_is_never_reused(library: Any) -> None:
    await _save(library, make_meta(), path="one.txt")
    last = await _save(library, make_meta(), path="two.txt")
    async with library.transaction() as s:
        await delete_story(s, last.id)
    newcomer = await _save(library, make_meta(), path="three.txt")
    assert newcomer.id > last.id

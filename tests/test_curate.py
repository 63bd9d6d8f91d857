"""Curating the archive through the service (`service.curate`, `service.uploads`) on real SQLite files:
adding every supported format, refusals with reasons, safe names, overrides surviving re-indexing and
edits of the file, remove/restore, the audit trail and the daily add quota."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.parse import parse_story
from db.files import story_file
from db.keys import fold
from db.models import AuditEntry, Override, Story, utcnow
from service import curate
from service.curate import Actor, CurateError, RateLimited
from service.indexer import STORY_SUFFIXES, index_directory
from service.library import Library
from service.query import SearchQuery
from service.search import search
from service.stories import find_title, story_card
from service.uploads import safe_filename
from tests.conftest import SAMPLES_DIR, make_settings

MOD = Actor(7001, "Mod Mia", 42)
OTHER = Actor(7002, "Mod Max", 42)

HANDMADE = (
    "Title: The Stacks After Midnight\nAuthor: Index Card\nRating: PG-13\nPairing: Willow/Tara\n"
    "Summary: Two witches reshelve the occult section.\n\n~*~\n\n"
    + "Willow lifted the ledger and Tara read the spine aloud. "
    * 40
)


def _samples() -> list[Path]:
    return sorted(p for p in SAMPLES_DIR.rglob("*") if p.is_file() and p.suffix.lower() in STORY_SUFFIXES)


async def _count(lib: Library, model: type = Story) -> int:
    async with lib.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _add(lib: Library, name: str, data: bytes, actor: Actor = MOD, **options: str) -> int:
    upload = await curate.prepare_add(lib, name, data, options)
    return (await curate.commit_add(lib, upload, actor)).id


async def _titles_found(lib: Library, title: str) -> list[int]:
    return [h.id for h in await find_title(lib, title)]


# ---- adding ----------------------------------------------------------------------------------------


async def test_a_mod_adds_every_bundled_format_renamed(library: Library) -> None:
    seen: dict[tuple[str, str], int] = {}
    formats: set[str] = set()
    for n, sample in enumerate(_samples()):
        data = sample.read_bytes()
        name = f"upload {n}{sample.suffix}"
        expected = parse_story(data, f"uploads/{name}", library.roster)
        key = (fold(expected.title), fold(expected.author))
        if key in seen:  # two parts of one story share title and author: the second is a duplicate
            with pytest.raises(CurateError, match="same story"):
                await curate.prepare_add(library, name, data)
            continue
        card = await curate.commit_add(library, await curate.prepare_add(library, name, data), MOD)
        seen[key] = card.id
        formats.add(sample.suffix.lower())
        assert card.title == expected.title and card.author == expected.author
        assert card.rating.level == expected.rating.level
        stored = story_file(library.settings, card.path)
        assert card.path == f"uploads/{name}" and stored.read_bytes() == data
        assert card.id in await _titles_found(library, expected.title)
    assert formats >= {".txt", ".md", ".html", ".epub"}
    assert await _count(library) == len(seen)
    report = await index_directory(library)  # what was added is already indexed exactly
    assert not report.added and not report.updated and not report.failed and not report.removed
    trail = await curate.history(library)
    assert [r.action for r in trail] == ["add"] * len(seen)
    assert {r.actor_name for r in trail} == {MOD.name}


async def test_hand_made_variants_htm_markdown_and_epub(library: Library) -> None:
    html = f"<html><head><title>x</title></head><body><p>{HANDMADE}</p></body></html>".encode()
    front = (
        "---\ntitle: Front Matter Fic\nauthor: Yaml Writer\nrating: G\n---\n\n" + "Dawn counted keys. " * 50
    )
    book = io.BytesIO()
    with zipfile.ZipFile(book, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip")
        zf.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:'
            'xmlns:container"><rootfiles><rootfile full-path="c.opf" media-type="application/'
            'oebps-package+xml"/></rootfiles></container>',
        )
        zf.writestr(
            "c.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="2.0">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Zipped Up Fic</dc:title>'
            "<dc:creator>Epub Maker</dc:creator></metadata><manifest>"
            '<item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest>'
            '<spine><itemref idref="c1"/></spine></package>',
        )
        zf.writestr(
            "c1.xhtml", "<html><body>" + "<p>Anya rang up the sale twice.</p>" * 30 + "</body></html>"
        )
    # (named `notes.md`, the dialogue-free markdown reads as notes: refused, as an index run skips it)
    for name, data in (("page.HTM", html), ("yaml-fic.md", front.encode()), ("book.epub", book.getvalue())):
        card = await curate.commit_add(library, await curate.prepare_add(library, name, data), MOD)
        expected = parse_story(data, f"uploads/{safe_filename(name)}", library.roster)
        assert card.title == expected.title and card.words == expected.words > 0
    assert await _count(library) == 3


async def test_the_preview_writes_nothing(library: Library) -> None:
    upload = await curate.prepare_add(library, "stacks.txt", HANDMADE.encode(), {"rating": "Mature"})
    assert upload.card.title == "The Stacks After Midnight" and upload.card.rating.level == "mature"
    assert "Willow lifted the ledger" in upload.opening
    assert any("Tara" in r for r in upload.card.relationships)
    assert not (library.settings.uploads_dir).exists()
    assert await _count(library) == 0 and await _count(library, AuditEntry) == 0


async def test_options_become_overrides_that_survive_reindexing_and_file_edits(library: Library) -> None:
    options = {"title": "Midnight Shelving", "author": "Card Catalogue", "rating": "NC-17"}
    story_id = await _add(library, "stacks.txt", HANDMADE.encode(), relationships="Spike/Willow", **options)
    file = library.settings.uploads_dir / "stacks.txt"
    file.write_text(HANDMADE.replace("Rating: PG-13", "Rating: G") + "\n\nOne more line.", encoding="utf-8")
    report = await index_directory(library)
    assert report.updated == ["uploads/stacks.txt"]
    await library.refresh()
    card = await story_card(library, story_id)
    assert (card.title, card.author, card.rating.level) == ("Midnight Shelving", "Card Catalogue", "explicit")
    assert card.relationships == ["Spike/Willow Rosenberg"]
    assert story_id in await _titles_found(library, "Midnight Shelving")
    result = await search(library, SearchQuery(pairings=["Spike/Willow"]))
    assert [h.id for h in result.hits] == [story_id]


# ---- refusals ---------------------------------------------------------------------------------------


async def test_duplicates_are_refused_with_a_pointer(library: Library) -> None:
    story_id = await _add(library, "stacks.txt", HANDMADE.encode())
    with pytest.raises(CurateError, match=rf"same file .*#{story_id}"):
        await curate.prepare_add(library, "renamed.md", HANDMADE.encode())
    changed = HANDMADE.replace("Author: Index Card", "Author: index  card!") + " A new ending."
    with pytest.raises(CurateError, match=rf"same story .*The Stacks After Midnight.*#{story_id}"):
        await curate.prepare_add(library, "other.txt", changed.encode())
    # a title option that makes it another story is welcome
    assert await _add(library, "other.txt", changed.encode(), title="The Stacks, Reprised")
    await curate.remove_story(library, story_id, MOD)
    with pytest.raises(CurateError, match="restore"):
        await curate.prepare_add(library, "again.txt", HANDMADE.encode())


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("story.pdf", b"%PDF-1.4 " + HANDMADE.encode(), "not a story file"),
        ("story", HANDMADE.encode(), "not a story file"),
        ("fake.epub", HANDMADE.encode(), "not an EPUB"),
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\n\t ", "empty"),
        ("noise.txt", bytes(range(32)) * 200, "binary"),
        ("digits.txt", b"12345 67890 ...\n" * 10, "no story text"),
    ],
)
async def test_unreadable_uploads_are_refused_with_the_reason(
    library: Library, name: str, data: bytes, reason: str
) -> None:
    with pytest.raises(CurateError, match=reason):
        await curate.prepare_add(library, name, data)
    assert await _count(library) == 0


async def test_oversized_uploads_are_refused(tmp_path: Path) -> None:
    lib = await Library.open(make_settings(tmp_path, upload_max_bytes=1000))
    try:
        with pytest.raises(CurateError, match=r"at most 1,000 bytes"):
            await curate.prepare_add(lib, "big.txt", HANDMADE.encode())
        assert await _count(lib) == 0
    finally:
        await lib.close()


async def test_bad_option_values_are_refused(library: Library) -> None:
    with pytest.raises(CurateError, match="rating"):
        await curate.prepare_add(library, "s.txt", HANDMADE.encode(), {"rating": "spicy"})
    with pytest.raises(CurateError, match="pairing"):
        await curate.prepare_add(library, "s.txt", HANDMADE.encode(), {"relationships": "???"})


# ---- names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\win.ini.txt", "win.ini.txt"),
        ("/abs/path/story.md", "story.md"),
        ("CON.txt", "_CON.txt"),
        ("lpt1.epub", "_lpt1.epub"),
        ("bad\x00na\x1bme\n.txt", "badname.txt"),
        (".hidden.txt", "hidden.txt"),
        ("..", "story"),
        ('what?<is>"this"|.html', "what_is_this_.html"),
        ("x" * 300 + ".txt", "x" * 120 + ".txt"),
    ],
)
def test_safe_filename(given: str, safe: str) -> None:
    assert safe_filename(given) == safe


async def test_uploads_land_inside_the_folder_and_never_overwrite(library: Library) -> None:
    first = await _add(library, "../../../evil.txt", HANDMADE.encode())
    second = await _add(library, "..\\evil.txt", HANDMADE.replace("Stacks", "Racks").encode())
    taken = library.settings.uploads_dir / "evil-3.txt"
    taken.write_text("not indexed yet", encoding="utf-8")  # a file on disk the index does not know
    third = await _add(library, "evil.txt", HANDMADE.replace("Stacks", "Tracks").encode())
    paths = [(await story_card(library, i)).path for i in (first, second, third)]
    assert paths == ["uploads/evil.txt", "uploads/evil-2.txt", "uploads/evil-4.txt"]
    assert taken.read_text(encoding="utf-8") == "not indexed yet"
    assert not (library.settings.stories_dir.parent / "evil.txt").exists()


# ---- edit / reset ----------------------------------------------------------------------------------


async def test_edits_survive_reindexing_and_reset_drops_them(library: Library) -> None:
    story_id = await _add(library, "stacks.txt", HANDMADE.encode())
    card = await curate.edit_story(library, story_id, "rating", "Mature", MOD)
    assert card.rating.level == "mature"
    card = await curate.edit_story(library, story_id, "characters", "wilow, Dawn, Clem", MOD)
    assert sorted(card.characters) == ["Clem", "Dawn Summers", "Willow Rosenberg"]
    card = await curate.edit_story(library, story_id, "series", "Night Shift, part 3", MOD)
    assert (card.series.name, card.series.part) == ("Night Shift", 3)
    card = await curate.edit_story(library, story_id, "title", "Closing Time", OTHER)
    assert story_id in await _titles_found(library, "Closing Time")
    assert story_id not in await _titles_found(library, "The Stacks After Midnight")

    file = story_file(library.settings, card.path)
    file.write_text(HANDMADE.replace("Rating: PG-13", "Rating: G") + " Later.", encoding="utf-8")
    assert (await index_directory(library)).updated == [card.path]
    again = await story_card(library, story_id)
    assert (again.title, again.rating.level, again.series.name) == ("Closing Time", "mature", "Night Shift")

    reset = await curate.reset_story(library, story_id, MOD)
    parsed = parse_story(file.read_bytes(), card.path, library.roster)
    assert (
        (reset.title, reset.rating.level)
        == (parsed.title, parsed.rating.level)
        == (
            "The Stacks After Midnight",
            "general",
        )
    )
    assert await _count(library, Override) == 0
    with pytest.raises(CurateError, match="no corrections"):
        await curate.reset_story(library, story_id, MOD)


async def test_a_refused_edit_changes_nothing(library: Library) -> None:
    story_id = await _add(library, "stacks.txt", HANDMADE.encode())
    before = await _count(library, AuditEntry)
    for field, value in (("rating", "spicy"), ("title", "  "), ("words", "3"), ("relationships", "!!")):
        with pytest.raises(CurateError):
            await curate.edit_story(library, story_id, field, value, MOD)
    assert await _count(library, AuditEntry) == before and await _count(library, Override) == 0


# ---- remove / restore ------------------------------------------------------------------------------


async def test_remove_and_restore(library: Library) -> None:
    story_id = await _add(library, "stacks.txt", HANDMADE.encode(), summary="Kept through removal.")
    await curate.edit_story(library, story_id, "tags", "fluff, library", MOD)
    file = library.settings.uploads_dir / "stacks.txt"
    assert [h.id for h in (await search(library, SearchQuery(text="ledger"))).hits] == [story_id]

    removed = await curate.remove_story(library, story_id, MOD)
    assert removed.removed and not file.exists()
    attic = library.settings.removed_dir / "uploads" / "stacks.txt"
    assert attic.read_bytes() == HANDMADE.encode()
    assert (await search(library, SearchQuery(text="ledger"))).total == 0
    assert story_id not in library.titles and not await _titles_found(library, "Stacks After Midnight")
    report = await index_directory(library)  # the indexer leaves a removed story alone
    assert not report.removed and not report.added
    with pytest.raises(CurateError, match="already removed"):
        await curate.remove_story(library, story_id, MOD)
    assert await curate.removed_choices(library, "stacks") == [("The Stacks After Midnight", str(story_id))]
    assert await curate.resolve_removed(library, "stacks after") == story_id

    restored = await curate.restore_story(library, story_id, MOD)
    assert not restored.removed and file.exists() and not attic.exists()
    assert restored.summary == "Kept through removal." and restored.tags == ["fluff", "library"]
    assert story_id in await _titles_found(library, "Stacks After Midnight")
    assert [h.id for h in (await search(library, SearchQuery(text="ledger"))).hits] == [story_id]
    assert await curate.removed_choices(library, "") == []
    report = await index_directory(library)
    assert not report.updated and not report.added and not report.removed


async def test_restore_does_not_overwrite_a_newer_file(library: Library) -> None:
    story_id = await _add(library, "stacks.txt", HANDMADE.encode())
    await curate.remove_story(library, story_id, MOD)
    newcomer = library.settings.uploads_dir / "stacks.txt"
    newcomer.write_text("Someone else's story. " * 20, encoding="utf-8")
    card = await curate.restore_story(library, story_id, MOD)
    assert card.path == "uploads/stacks-2.txt"
    assert newcomer.read_text(encoding="utf-8").startswith("Someone else")


# ---- audit trail and quota -------------------------------------------------------------------------


async def test_every_change_is_in_the_audit_trail(library: Library) -> None:
    story_id = await _add(library, "stacks.txt", HANDMADE.encode())
    other = await _add(library, "b.txt", HANDMADE.replace("Stacks", "Books").encode(), OTHER)
    await curate.edit_story(library, story_id, "author", "New Name", OTHER)
    await curate.reset_story(library, story_id, MOD)
    await curate.remove_story(library, story_id, MOD)
    await curate.restore_story(library, story_id, OTHER)
    trail = await curate.history(library, story_id)
    assert [(r.action, r.actor_name) for r in trail] == [
        ("restore", OTHER.name),
        ("remove", MOD.name),
        ("reset", MOD.name),
        ("edit", OTHER.name),
        ("add", MOD.name),
    ]
    assert trail[3].detail["field"] == "author" and "New Name" in trail[3].describe()
    assert trail[2].detail["dropped"] == {"author": "New Name"}
    assert all(r.at.tzinfo is not None and r.story_id == story_id for r in trail)
    everything = await curate.history(library)
    assert len(everything) == 6 and other in {r.story_id for r in everything}


async def test_adds_are_limited_per_member_per_day(tmp_path: Path) -> None:
    lib = await Library.open(make_settings(tmp_path, adds_per_day=2))
    try:
        async with lib.transaction() as session:  # an add from yesterday does not count
            session.add(
                AuditEntry(at=utcnow() - timedelta(hours=25), actor_id=MOD.id, actor_name="x", action="add")
            )
        await _add(lib, "a.txt", HANDMADE.encode())
        await _add(lib, "b.txt", HANDMADE.replace("Stacks", "Books").encode())
        left, until = await curate.adds_left(lib, MOD)
        first = (await curate.history(lib))[-2].at
        assert (
            left == 0
            and until is not None
            and abs(until - (first + timedelta(hours=24))) < timedelta(seconds=1)
        )
        upload = await curate.prepare_add(lib, "c.txt", HANDMADE.replace("Stacks", "Hooks").encode())
        with pytest.raises(RateLimited) as refused:
            await curate.commit_add(lib, upload, MOD)
        assert refused.value.until == until
        assert not (lib.settings.uploads_dir / "c.txt").exists()
        assert (await curate.adds_left(lib, OTHER))[0] == 2
        await curate.commit_add(lib, upload, Actor.cli())  # the host is not limited
        assert (await curate.history(lib))[0].actor_name.startswith("cli:")
    finally:
        await lib.close()


# ---- which story a typed title means, for changes ----------------------------------------------------

_WORDS = ["lanterns", "harbour", "gravel", "orchard", "kettle", "ribbon", "lighthouse", "meadow"]


def _tale(title: str, n: int) -> bytes:
    line = f"Faith counted the {_WORDS[n]} twice and then once more for luck before the sun came up. "
    return (f"Title: {title}\nAuthor: Quill {n}\nRating: G\n\n~*~\n\n" + line * 30).encode()


async def test_a_change_never_acts_on_a_guessed_title(library: Library) -> None:
    """A removal (and an edit, a reset, a history) takes a typed title only when it is typed exactly
    or one story clearly wins: `Owned` among `Owned 1`/`Owned 2` asks which, a removed story's exact
    title finds it rather than the closest live one, and a title far from every story is refused."""
    from service.query import QueryError
    from service.stories import resolve_story

    first = await _add(library, "o1.txt", _tale("Owned 1: Owned", 0))
    second = await _add(library, "o2.txt", _tale("Owned 2: Complicated", 1))
    lipstick = await _add(library, "lip.txt", _tale("Lipstick", 2))
    things = await _add(library, "things.txt", _tale("Things to remember, a partial list", 3))

    with pytest.raises(QueryError) as asked:
        await resolve_story(library, "Owned", strict=True)
    assert "Give its number" in str(asked.value)
    assert {f"Owned 1: Owned (#{first})", f"Owned 2: Complicated (#{second})"} <= set(asked.value.suggestions)
    assert (await resolve_story(library, "Owned", strict=False)).id in {first, second}  # a member reads
    assert (await resolve_story(library, "owned 2: complicated", strict=True)).id == second  # exact
    assert (await resolve_story(library, "Lipstik", strict=True)).id == lipstick  # one clear winner
    with pytest.raises(QueryError, match="No story title matches"):
        await resolve_story(library, "xyzzy plover", strict=False)

    await curate.remove_story(library, lipstick, MOD)
    assert await curate.resolve_any(library, "Lipstick") == lipstick  # its trail, not another story's
    with pytest.raises(QueryError):
        await resolve_story(library, "Lipstick", strict=True)  # removed: nothing live is surely meant
    assert await curate.resolve_removed(library, "lipstick") == lipstick
    assert await curate.resolve_any(library, "Things to remember, a partial list") == things


@pytest.mark.parametrize(("name", "kind"), [("LICENSE.txt", "licence"), ("README.md", "README")])
async def test_a_licence_or_readme_is_refused_as_an_index_run_would_skip_it(
    library: Library, name: str, kind: str
) -> None:
    """An upload the classifier reads as no story is refused with the reason an index run gives when
    it skips the file (it used to be added, and the next full index run took it out again)."""
    from tests.test_nonstory import MIT, README

    before = await _count(library)
    with pytest.raises(
        CurateError, match=f"I won't add {name}: it reads as .*{kind}.*, not a story"
    ) as refused:
        await curate.prepare_add(library, name, (MIT if kind == "licence" else README).encode())
    assert "Traceback" not in str(refused.value)
    assert await _count(library) == before

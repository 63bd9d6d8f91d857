"""Writes a `StorySpec` as a file in one of the formats the parser reads: mailing-list text,
AO3 HTML and EPUB downloads, YAML-front-matter Markdown, FanFiction.net info-line text,
FanFicFare TXT and headerless chapters.

Owns each format's byte layout and which raw rating / relationship wording a format can carry
(so the manifest records what a correct parser must find). It must not draw metadata (see
`bench.spec`) or import the parser: the files are the parser's exam, not its echo.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from html import escape

import numpy as np
import yaml

from bench.material import Roster
from bench.spec import StorySpec

ML_RATINGS = {
    "general": ("G", "PG"),
    "teen": ("PG-13", "PG 13", "PG13"),
    "mature": ("R",),
    "explicit": ("NC-17", "NC17"),
}
FFN_RATINGS = {
    "general": ("K", "K+"),
    "teen": ("T",),
    "mature": ("M",),
    "explicit": ("M",),
    "not_rated": ("T",),
}
FFN_LEVEL = {"K": "general", "K+": "general", "T": "teen", "M": "mature"}
YAML_RATINGS = {"general": "general", "teen": "teen", "mature": "mature", "explicit": "adult"}
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV")
SEPARATORS = ("~*~*~*~*~*~*~*~*~*~*~*~", "* * *", "-----", "~~~~~~~~~~", "=====")


@dataclass(slots=True)
class Written:
    """A rendered file and what a correct parser must read back from it."""

    suffix: str
    data: bytes
    level: str
    relationships: list[tuple[tuple[str, ...], str]]


def render(spec: StorySpec, roster: Roster, rng: np.random.Generator) -> Written:
    """The file for `spec` in its format."""
    return _WRITERS[spec.format](spec, roster, rng)


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _chapters(spec: StorySpec) -> list[list[str]]:
    n = max(1, min(spec.chapters, len(spec.paragraphs)))
    size = -(-len(spec.paragraphs) // n)
    return [spec.paragraphs[i : i + size] for i in range(0, len(spec.paragraphs), size)]


def _rel_text(members: tuple[str, ...], kind: str, names: dict[str, str]) -> str:
    return (" & " if kind == "platonic" else "/").join(names[m] for m in members)


# -- plain text -------------------------------------------------------------------------------------
def _mailing_list(spec: StorySpec, roster: Roster, rng: np.random.Generator) -> Written:
    level = spec.level
    lines = [spec.title or ""]
    if spec.series and rng.random() < 0.5:
        lines += ["", f"Part {spec.series[1]} of the {spec.series[0]} series."]
    by_line = rng.random() < 0.25
    lines += (
        [f"by {spec.author}", f"Copyright {spec.published[:4]}"]
        if by_line
        else ["", f"Author: {spec.author}"]
    )
    label = _pick(rng, ("pairing", "Pairing", "Pairings", "PAIRING"))
    rels = spec.relationships
    if rels:
        texts = []
        for members, kind in rels:
            ship = roster.ships.get(members)
            use_ship = ship and kind == "romantic" and rng.random() < 0.25
            texts.append(ship[0] if use_ship else _rel_text(members, kind, roster.short))
        lines += ["", f"{label}: {', '.join(texts)}"]
    if level != "not_rated":
        rating = _pick(rng, ML_RATINGS[level])
        genre = [t.lower() for t in spec.tags[:2]]
        lines += ["", f"{_pick(rng, ('rating', 'Rating', 'RATING'))}: {', '.join([rating, *genre])}"]
    if spec.summary and rng.random() < 0.6:
        lines += ["", f"Summary: {spec.summary[:300]}"]
    lines += ["", "Disclaimer: The characters belong to Joss Whedon and Mutant Enemy. No money is made."]
    if rng.random() < 0.5:
        lines += ["", "Distribution: ask first, please."]
    lines += ["", _pick(rng, SEPARATORS), "", ""]
    body = "\n\n".join(spec.paragraphs)
    text = "\n".join(lines) + body + "\n"
    return Written(".txt", text.encode("utf-8"), level, list(rels))


def _headerless(spec: StorySpec, roster: Roster, rng: np.random.Generator) -> Written:
    part = spec.part or 1
    head = f"Part {ROMAN[part - 1]}" if part <= len(ROMAN) else f"Chapter {part}"
    text = head + "\n\n" + "\n\n".join(spec.paragraphs) + "\n"
    return Written(".txt", text.encode("utf-8"), "not_rated", [])


def _ffn_name(name: str, roster: Roster) -> str:
    parts = name.split()
    if len(parts) != 2 or parts[0] in {"The", "Mr.", "Principal"}:
        return name
    return f"{parts[0]} {parts[1][0]}."  # FanFiction.net's character list: "Buffy S."


def _ffnet(spec: StorySpec, roster: Roster, rng: np.random.Generator) -> Written:
    raw = _pick(rng, FFN_RATINGS[spec.level])
    rels = [r for r in spec.relationships if r[1] == "romantic"]
    in_rel = {m for members, _ in rels for m in members}
    groups = [f"[{', '.join(_ffn_name(m, roster) for m in members)}]" for members, _ in rels]
    loose = [_ffn_name(c, roster) for c in spec.characters if c not in in_rel][:4]
    cast = " ".join([*groups, ", ".join(loose)]).strip()
    y, m, d = (int(x) for x in spec.published.split("-"))
    fields = [f"Rated: Fiction {raw}", spec.language, "Romance/Angst"]
    fields += [cast] if cast else []
    fields += [f"Chapters: {spec.chapters}", f"Words: {spec.words:,}", f"Reviews: {spec.index % 97}"]
    fields += [f"Published: {m}/{d}/{y}"] + (["Complete"] if spec.complete else [])
    fields += [f"id: {1000000 + spec.index}"]
    head = [spec.title or "", f"By: {spec.author}", "", spec.summary[:300], " - ".join(fields), "", ""]
    body = []
    for n, chapter in enumerate(_chapters(spec), 1):
        if spec.chapters > 1:
            body.append(f"Chapter {n}")
        body += chapter
    text = "\n".join(head) + "\n\n".join(body) + "\n"
    return Written(".txt", text.encode("utf-8"), FFN_LEVEL[raw], rels)


def _fanficfare(spec: StorySpec, roster: Roster, rng: np.random.Generator) -> Written:
    level = spec.level
    rating = spec.rating
    ffn = rng.random() < 0.4
    if ffn:
        rating = _pick(rng, FFN_RATINGS[level])
        level = FFN_LEVEL[rating]
    rels = list(spec.relationships)
    entries = [
        ("Category", "Buffy: The Vampire Slayer"),
        ("Genre", ", ".join(spec.tags[:3]) or "General"),
        ("Language", spec.language),
        ("Characters", ", ".join(spec.characters)),
        ("Relationships", ", ".join(_rel_text(m, k, {n: n for n in m}) for m, k in rels)),
        ("Status", "Completed" if spec.complete else "In-Progress"),
        ("Published", spec.published),
        ("Updated", spec.published),
        ("Packaged", "2024-03-01 10:00:00"),
        ("Rating", rating),
        ("Warnings", ", ".join(spec.warnings)),
        ("Chapters", str(spec.chapters)),
        ("Words", f"{spec.words:,}"),
        ("Publisher", "www.fanfiction.net" if ffn else "archiveofourown.org"),
        ("Summary", spec.summary[:300]),
    ]
    # FanFicFare's TXT writer: title page, label lines, a table of contents, tab-indented chapter titles
    chapters = _chapters(spec)
    text = f"\n\n\n{spec.title or ''}\n\nby {spec.author}\n\n\n\n"
    text += "".join(f"{k}: {v}\n" for k, v in entries if v) + "\n\n\n"
    if len(chapters) > 1:
        text += "\n\nTABLE OF CONTENTS\n\n" + "".join(f"\nChapter {n}\n" for n in range(1, len(chapters) + 1))
    for n, chapter in enumerate(chapters, 1):
        text += f"\n\n\tChapter {n}\n\n" + "\n\n".join(chapter) + "\n"
    text += "\n\nEnd file.\n"
    return Written(".txt", text.encode("utf-8"), level, rels)


def _yaml_markdown(spec: StorySpec, roster: Roster, rng: np.random.Generator) -> Written:
    level = spec.level if spec.level in YAML_RATINGS else "teen"
    rels = [r for r in spec.relationships if r[1] == "romantic"]
    low = {c: roster.prose[c].lower() for c in spec.characters}
    tags = [f"c:{low[c]}" for c in spec.characters]
    tags += [t.lower() for t in spec.tags] + ["f:btvs"]
    tags += ["p:" + "/".join(low[m] for m in members) for members, _ in rels]
    front = {
        "idtag": f"story_{spec.index}",
        "author": spec.author,
        "published": spec.published + "T12:00:00-07:00",
        "title": spec.title,
        "notes": None,
        "summary": spec.summary[:300],
        "tags": tags,
        "rating": YAML_RATINGS[level],
    }
    if rels:
        front["pairing"] = "/".join(low[m] for m in rels[0][0])
    head = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000)
    text = f"---\n{head}---\n" + "\n\n".join(spec.paragraphs) + "\n"
    return Written(".md", text.encode("utf-8"), level, rels)


# -- AO3 downloads ----------------------------------------------------------------------------------
def _dd(values: list[str]) -> str:
    return ", ".join(
        f'<a href="https://archiveofourown.org/tags/{escape(v)}">{escape(v)}</a>' for v in values
    )


def _ao3_preface(spec: StorySpec) -> str:
    rels = [_rel_text(m, k, {n: n for n in m}) for m, k in spec.relationships]
    rows = [
        ("Rating:", _dd([spec.rating])),
        ("Archive Warning:", _dd(spec.warnings or ["No Archive Warnings Apply"])),
        ("Fandom:", _dd(["Buffy the Vampire Slayer"])),
        ("Relationships:" if len(rels) > 1 else "Relationship:", _dd(rels)),
        ("Characters:" if len(spec.characters) > 1 else "Character:", _dd(spec.characters)),
        ("Additional Tags:", _dd(spec.tags)),
        ("Language:", escape(spec.language)),
    ]
    if spec.series:
        rows.append(
            ("Series:", f'Part {spec.series[1]} of <a href="https://x/series/1">{escape(spec.series[0])}</a>')
        )
    total = str(spec.chapters) if spec.complete else "?"
    stats = f"Published: {spec.published}\n        Words: {spec.words:,}\n        Chapters: {spec.chapters}/{total}"
    dl = "".join(f"\n          <dt>{k}</dt>\n          <dd>{v}</dd>" for k, v in rows if v)
    return (
        f'<div id="preface">\n  <p class="message">\n    <b>{escape(spec.title or "")}</b><br />\n    Posted originally'
        f' on the Archive of Our Own.\n  </p>\n  <div class="meta">\n    <dl class="tags">{dl}\n'
        f"          <dt>Stats:</dt>\n          <dd>\n        {stats}\n      </dd>\n    </dl>\n"
        f"    <h1>{escape(spec.title or '')}</h1>\n"
        f'    <div class="byline">by <a rel="author" href="https://x/users/a">{escape(spec.author)}</a></div>\n'
        f'      <p>Summary</p>\n      <blockquote class="userstuff"><p>{escape(spec.summary[:300])}</p></blockquote>\n'
        "  </div>\n</div>\n"
    )


def _ao3_chapter(n: int, paragraphs: list[str], many: bool) -> str:
    head = (
        f'<div class="meta group">\n  <h2 class="heading">\n      Chapter {n}\n  </h2>\n</div>\n'
        if many
        else ""
    )
    body = "".join(f"<p>{escape(p, quote=False)}</p>\n" for p in paragraphs)
    return f'{head}<!--chapter content-->\n<div class="userstuff">\n{body}</div>\n<!--/chapter content-->\n'


def _ao3_html(spec: StorySpec, roster: Roster, rng: np.random.Generator) -> Written:
    chapters = _chapters(spec)
    inner = "".join(_ao3_chapter(n, ch, len(chapters) > 1) for n, ch in enumerate(chapters, 1))
    title = escape(f"{spec.title} - {spec.author} - Buffy the Vampire Slayer")
    page = (
        '<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n<head>\n'
        f'  <meta charset="utf-8" />\n  <title>{title}</title>\n</head>\n<body>\n'
        f'{_ao3_preface(spec)}\n<div id="chapters" class="userstuff">\n{inner}</div>\n'
        '<div id="afterword">\n  <p class="message">Please drop by the Archive and comment!</p>\n</div>\n'
        "</body>\n</html>\n"
    )
    return Written(".html", page.encode("utf-8"), spec.level, list(spec.relationships))


_CONTAINER = (
    '<?xml version="1.0"?>\n<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">\n'
    '  <rootfiles>\n    <rootfile full-path="content.opf" media-type="application/oebps-package+xml"/>\n'
    "  </rootfiles>\n</container>\n"
)


def _xhtml(title: str, body: str) -> str:
    return (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<html xmlns="http://www.w3.org/1999/xhtml" lang="en" xml:lang="en">\n'
        f"  <head>\n    <title>{escape(title)}</title>\n  </head>\n  <body>\n{body}\n</body></html>\n"
    )


def _entry(name: str, compress: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    """A zip entry with a fixed timestamp, so the same seed gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = compress
    return info


def _ao3_epub(spec: StorySpec, roster: Roster, rng: np.random.Generator) -> Written:
    title = spec.title or ""
    parts = [_xhtml(title, _ao3_preface(spec))]
    for n, chapter in enumerate(_chapters(spec), 1):
        parts.append(
            _xhtml(title, f'<div id="chapters">\n{_ao3_chapter(n, chapter, spec.chapters > 1)}</div>')
        )
    names = [f"split_{i:03d}.xhtml" for i in range(len(parts))]
    subjects = "".join(f"    <dc:subject>{escape(s)}</dc:subject>\n" for s in [spec.rating, *spec.warnings])
    manifest = "".join(
        f'    <item id="h{i}" href="{n}" media-type="application/xhtml+xml"/>\n' for i, n in enumerate(names)
    )
    spine = "".join(f'    <itemref idref="h{i}"/>\n' for i in range(len(names)))
    opf = (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="uuid_id">\n'
        '  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">\n'
        f"    <dc:title>{escape(title)}</dc:title>\n    <dc:language>en</dc:language>\n"
        f'    <dc:creator opf:role="aut">{escape(spec.author)}</dc:creator>\n'
        f'    <dc:identifier id="uuid_id">bench-{spec.index}</dc:identifier>\n'
        f"    <dc:description>{escape('<p>' + escape(spec.summary[:300]) + '</p>')}</dc:description>\n"
        f"    <dc:publisher>Archive of Our Own</dc:publisher>\n{subjects}"
        f"    <dc:date>{spec.published}T00:00:00+00:00</dc:date>\n  </metadata>\n"
        f'  <manifest>\n{manifest}  </manifest>\n  <spine toc="ncx">\n{spine}  </spine>\n</package>\n'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(_entry("mimetype", zipfile.ZIP_STORED), "application/epub+zip")
        zf.writestr(_entry("META-INF/container.xml"), _CONTAINER)
        zf.writestr(_entry("content.opf"), opf)
        for name, part in zip(names, parts, strict=True):
            zf.writestr(_entry(name), part)
    return Written(".epub", buf.getvalue(), spec.level, list(spec.relationships))


_WRITERS = {
    "mailing-list": _mailing_list,
    "headerless": _headerless,
    "ffnet": _ffnet,
    "fanficfare-txt": _fanficfare,
    "yaml-markdown": _yaml_markdown,
    "ao3-html": _ao3_html,
    "ao3-epub": _ao3_epub,
}

"""The bundled test archive: short original stories in every format the parser reads, SFW and
explicit, in several fandoms (Buffy, Doctor Who, Sherlock, Harry Potter), so that every cog and
service test runs in a clone of the repository alone.

`tests/archive/` holds the text formats as files (mailing-list, AO3 HTML, FanFicFare, FanFiction.net,
old archive HTML, Markdown + YAML, headerless chapters in a folder named for the story); the EPUBs
are packed at test time from AO3-shaped HTML in `tests/archive_epub/`, so no binary is committed.
`build(dest)` lays the whole archive out in `dest`. This module owns that layout and what the
tests may count on (`FACTS`); it must not read `../shared` (that is the corpus tests' business).
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

from tests.make_sample_epub import CONTAINER

HERE = Path(__file__).resolve().parent
ARCHIVE_DIR = HERE / "archive"
EPUB_SOURCES = HERE / "archive_epub"
TRIO = ARCHIVE_DIR / "ffnet"
"""A folder of exactly three plain-text stories, for tests that need a small folder to index."""
_STAMP = (2024, 1, 1, 0, 0, 0)

FACTS = {
    "stories": 30,
    "fandoms": ("Buffy the Vampire Slayer", "Doctor Who", "Sherlock", "Harry Potter"),
    "longest_general": "The Long Way Round",
    "explicit": ("Stake-Out at Dawn", "Bigger on the Inside", "Bloody Valentine"),
}
"""What the archive holds, for tests that need a named story rather than a search result."""


def _block(page: str, div_id: str) -> str:
    """The `<div id=...>` element of an AO3 page, whole (AO3's preface and chapters blocks)."""
    start = page.index(f'<div id="{div_id}"')
    depth, at = 0, start
    for match in re.finditer(r"<(/?)div\b", page[start:]):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            at = start + match.start()
            break
    return page[start : page.index(">", at) + 1]


def epub_from_ao3_html(page: str) -> bytes:
    """An AO3-shaped EPUB (preface, chapters, afterword documents; OPF spine; NCX) from an AO3 HTML page."""
    title = re.search(r"<h1>(.*?)</h1>", page, re.S)
    author = re.search(r'rel="author"[^>]*>(.*?)</a>', page, re.S)
    title_text = title.group(1).strip() if title else "Untitled"
    uid = re.sub(r"\W+", "-", title_text.lower())
    documents = {
        "preface.xhtml": _block(page, "preface"),
        "chapters.xhtml": _block(page, "chapters"),
        "afterword.xhtml": _block(page, "afterword"),
    }
    items = "\n".join(
        f'    <item id="d{i}" href="{name}" media-type="application/xhtml+xml"/>'
        for i, name in enumerate(documents)
    )
    spine = "\n".join(f'    <itemref idref="d{i}"/>' for i in range(len(documents)))
    opf = f"""<?xml version='1.0' encoding='utf-8'?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="uid">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
    <dc:title>{title_text}</dc:title>
    <dc:creator opf:role="aut">{author.group(1).strip() if author else ""}</dc:creator>
    <dc:language>en</dc:language>
    <dc:identifier id="uid">urn:librarian-tests:{uid}</dc:identifier>
  </metadata>
  <manifest>
{items}
    <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
  </manifest>
  <spine toc="ncx">
{spine}
  </spine>
</package>
"""
    ncx = f"""<?xml version='1.0' encoding='utf-8'?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">
  <head><meta name="dtb:uid" content="urn:librarian-tests"/></head>
  <docTitle><text>{title_text}</text></docTitle>
  <navMap><navPoint id="n1" playOrder="1"><navLabel><text>{title_text}</text></navLabel>
    <content src="chapters.xhtml"/></navPoint></navMap>
</ncx>
"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:

        def put(name: str, text: str, method: int = zipfile.ZIP_DEFLATED) -> None:
            book.writestr(zipfile.ZipInfo(name, _STAMP), text.encode("utf-8"), compress_type=method)

        put("mimetype", "application/epub+zip", zipfile.ZIP_STORED)
        put("META-INF/container.xml", CONTAINER)
        put("OEBPS/content.opf", opf)
        put("OEBPS/toc.ncx", ncx)
        for name, body in documents.items():
            put(
                f"OEBPS/{name}",
                "<?xml version='1.0' encoding='utf-8'?>\n"
                '<html xmlns="http://www.w3.org/1999/xhtml" lang="en" xml:lang="en">\n'
                f"<head><title>{title_text}</title></head>\n<body>\n{body}\n</body></html>\n",
            )
    return buffer.getvalue()


def build(dest: Path) -> Path:
    """Lay the whole test archive out in `dest` (created if needed): the files, then the EPUBs."""
    shutil.copytree(ARCHIVE_DIR, dest, dirs_exist_ok=True)
    (dest / "ao3").mkdir(parents=True, exist_ok=True)
    for source in sorted(EPUB_SOURCES.glob("*.html")):
        page = source.read_text(encoding="utf-8")
        (dest / "ao3" / f"{source.stem}.epub").write_bytes(epub_from_ao3_html(page))
    return dest

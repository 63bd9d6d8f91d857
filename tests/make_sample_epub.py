"""Builds `stories/ao3/late_shift.epub`, the bundled AO3-style EPUB sample (an original story), the
way AO3's download service shapes one: a preface document with `<dl class="tags">`, a title page,
chapter documents, an afterword; `mimetype` stored first, an OPF spine, an NCX table of contents.

Run it by hand (`.venv/bin/python -m tests.make_sample_epub`) after editing the story; the output
is byte-for-byte reproducible (fixed zip timestamps), so the committed file only changes when the
story does. Tests import `build_epub` to make EPUB variants (broken zip, no container, ...).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "stories" / "ao3" / "late_shift.epub"
_STAMP = (2024, 1, 1, 0, 0, 0)

CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""

PREFACE = """<div id="preface">
  <h2 class="toc-heading">Preface</h2>
  <p class="message"><b>Late Shift</b><br/>A sample story for the Librarian bot's own archive.</p>
  <div class="meta">
    <dl class="tags">
      <dt>Rating:</dt><dd><a href="https://example.org/t/1">Teen And Up Audiences</a></dd>
      <dt>Archive Warnings:</dt><dd><a href="https://example.org/t/2">No Archive Warnings Apply</a></dd>
      <dt>Category:</dt><dd><a href="https://example.org/t/3">Gen</a></dd>
      <dt>Fandoms:</dt><dd><a href="https://example.org/t/4">Angel: the Series</a></dd>
      <dt>Relationship:</dt><dd><a href="https://example.org/t/5">Angel &amp; Cordelia Chase</a></dd>
      <dt>Characters:</dt><dd><a href="https://example.org/t/6">Angel (BtVS)</a>, <a href="https://example.org/t/7">Cordelia Chase</a>, <a href="https://example.org/t/8">Wesley Wyndam-Pryce</a></dd>
      <dt>Additional Tags:</dt><dd><a href="https://example.org/t/9">Case Fic</a>, <a href="https://example.org/t/10">Banter</a></dd>
      <dt>Language:</dt><dd>English</dd>
      <dt>Stats:</dt><dd>Published: 2024-10-31 Updated: 2024-11-02 Words: 446 Chapters: 1/2</dd>
    </dl>
  </div>
</div>"""

TITLE_PAGE = """<div id="preface">
  <h1>Late Shift</h1>
  <div class="byline">by <a rel="author" href="https://example.org/u/1">librarian_samples</a></div>
  <p>Summary</p>
  <blockquote class="userstuff"><p>Angel Investigations takes a case nobody can pay for. Cordelia keeps the books anyway.</p></blockquote>
</div>"""

CHAPTER = """<div id="chapters" class="userstuff1">
<div class="meta group"><h2 class="heading">Chapter 1: Receipts</h2></div>
<div class="userstuff2">
<p>The office smelled of burnt coffee and the particular dust that collects on files nobody opens. Cordelia had her feet on the desk and a calculator in her lap, and she was glaring at it as if it had personally insulted her mother.</p>
<p>&#8220;Thirty-one dollars,&#8221; she announced. &#8220;That is what we made this week. I have made more money selling lemonade, and I did that exactly once, at age seven, and it was a disaster.&#8221;</p>
<p>Angel stood in the doorway of his office, half in shadow the way he preferred, holding a mug he had no intention of drinking from. &#8220;The Hendricks case paid.&#8221;</p>
<p>&#8220;The Hendricks case paid in <i>casserole</i>. I cannot deposit a casserole.&#8221;</p>
<p>Wesley emerged from behind a tower of books with a pencil in his teeth and a sheet of notes in each hand. He removed the pencil with some dignity. &#8220;I believe I have identified the creature in Mrs. Alvarez&#8217;s basement. It is a minor hearth spirit, largely harmless, easily placated with salt and a sincere apology.&#8221;</p>
<p>&#8220;And how much is Mrs. Alvarez paying us to apologize to her basement?&#8221;</p>
<p>There was a pause in which Wesley looked at Angel and Angel looked at the ceiling.</p>
<p>&#8220;She has four grandchildren,&#8221; Angel said finally, &#8220;and the spirit keeps turning the pilot light off. It&#8217;s October.&#8221;</p>
<p>Cordelia closed her eyes. She counted to five. She had been told by a magazine that counting to ten was better, but she had never in her life had the patience for ten.</p>
<p>&#8220;Fine,&#8221; she said. &#8220;Fine. We go, we salt, we say sorry to the furnace. But I am writing it down. Every favor, every casserole, every apology to a major household appliance. When we are rich and famous I am going to frame the list.&#8221;</p>
<p>&#8220;When we are rich and famous,&#8221; Wesley said, &#8220;I shall buy you a better calculator.&#8221;</p>
<p>&#8220;When we are rich and famous, I will have people for calculating.&#8221;</p>
<p>The Alvarez house was small and warm and full of photographs. The spirit, when they found it, was about the size of a house cat and very embarrassed about the whole thing. Wesley apologized to it with great formality. Angel held the flashlight. Cordelia sprinkled salt in a neat line along the furnace and told it firmly that the grandchildren were off-limits, and the pilot light flickered once and stayed lit.</p>
<p>On the way out Mrs. Alvarez pressed a foil-wrapped dish into Cordelia&#8217;s hands.</p>
<p>&#8220;Enchiladas,&#8221; Angel observed, in the car.</p>
<p>Cordelia looked at the dish for a long moment. Then she took out her notebook, turned to the back page, and wrote it down under the casserole, neatly, with the date.</p>
</div>
</div>"""

AFTERWORD = """<div id="afterword">
  <h2 class="toc-heading">Afterword</h2>
  <div id="endnotes"><p>End Notes</p><blockquote class="userstuff"><p>Chapter two is still being written.</p></blockquote></div>
</div>"""


def xhtml(body: str, title: str = "Late Shift") -> str:
    return (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<html xmlns="http://www.w3.org/1999/xhtml" lang="en" xml:lang="en">\n'
        f"<head><title>{title} - librarian_samples - Angel: the Series</title></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )


DOCUMENTS = {
    "preface.xhtml": PREFACE,
    "title.xhtml": TITLE_PAGE,
    "ch1.xhtml": CHAPTER,
    "after.xhtml": AFTERWORD,
}


def opf(documents: list[str]) -> str:
    items = "\n".join(
        f'    <item id="d{i}" href="{name}" media-type="application/xhtml+xml"/>'
        for i, name in enumerate(documents)
    )
    spine = "\n".join(f'    <itemref idref="d{i}"/>' for i in range(len(documents)))
    return f"""<?xml version='1.0' encoding='utf-8'?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="uid">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
    <dc:title>Late Shift</dc:title>
    <dc:creator opf:role="aut">librarian_samples</dc:creator>
    <dc:language>en</dc:language>
    <dc:identifier id="uid">urn:uuid:6f1c1d7e-7d0e-4b8e-9a55-1f7b3c1e0a01</dc:identifier>
    <dc:subject>Teen And Up Audiences</dc:subject>
    <dc:subject>Angel: the Series</dc:subject>
    <dc:date>2024-11-02</dc:date>
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


NCX = """<?xml version='1.0' encoding='utf-8'?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">
  <head><meta name="dtb:uid" content="urn:uuid:6f1c1d7e-7d0e-4b8e-9a55-1f7b3c1e0a01"/></head>
  <docTitle><text>Late Shift</text></docTitle>
  <navMap><navPoint id="n1" playOrder="1"><navLabel><text>Chapter 1: Receipts</text></navLabel>
    <content src="ch1.xhtml"/></navPoint></navMap>
</ncx>
"""


def build_epub(documents: dict[str, str] | None = None, *, container: bool = True) -> bytes:
    """The sample EPUB's bytes (or a variant with other documents, or without container.xml)."""
    documents = DOCUMENTS if documents is None else documents
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:

        def put(name: str, text: str, method: int = zipfile.ZIP_DEFLATED) -> None:
            book.writestr(zipfile.ZipInfo(name, _STAMP), text.encode("utf-8"), compress_type=method)

        put("mimetype", "application/epub+zip", zipfile.ZIP_STORED)
        if container:
            put("META-INF/container.xml", CONTAINER)
        put("OEBPS/content.opf", opf(list(documents)))
        put("OEBPS/toc.ncx", NCX)
        for name, body in documents.items():
            put(f"OEBPS/{name}", xhtml(body))
    return buffer.getvalue()


if __name__ == "__main__":
    OUT.write_bytes(build_epub())
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")

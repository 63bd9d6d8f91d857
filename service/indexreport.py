"""What an index run did, in the words the host reads: `IndexReport` and its summary and JSON.

Owns the report's fields and how they are printed (the `index` command prints `summary()` or,
with `--json`, `to_json()`; the bot logs the summary). It decides nothing and must not touch the
database, files or Discord.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REMOVE_SHARE = 0.05
REMOVE_FLOOR = 20
"""A run may retire at most max(5 % of the live stories, 20) without `--prune`."""


def removal_limit(live: int) -> int:
    """How many stories a run may retire without `--prune`."""
    return max(REMOVE_FLOOR, int(live * REMOVE_SHARE))


@dataclass(slots=True)
class IndexReport:
    """What an index run did, path by path."""

    added: list[str] = field(default_factory=list)  # files that made a new story
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)  # stories retired (their files are gone)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason in plain words)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # not stories / refused files, and why
    same_work: list[tuple[str, str]] = field(default_factory=list)  # (path, the story's own file)
    returned: list[str] = field(default_factory=list)  # retired stories back with their old id
    held_back: list[str] = field(default_factory=list)  # stories a stopped removal kept
    stopped: str | None = None  # why removal was stopped (too many, or an empty/unreadable folder)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    bytes_parsed: int = 0
    ranked_words: int = 0  # common words whose impacts this run stored (`db.textrank`)
    ranking_seconds: float = 0.0
    ranking_patched: int = 0  # …or changed stories it brought into the impacts
    ranked_pairs: int = 0  # common word pairs (`of the`) with impacts of their own (`db.pairs`)
    pairs_seconds: float = 0.0  # of `ranking_seconds`, writing the pairs index

    @property
    def changed(self) -> bool:
        """Whether the run changed what members can see."""
        return bool(self.added or self.updated or self.removed or self.returned or self.same_work)

    def summary(self) -> str:
        """Human lines: the counts, one line per failure, skip and merge with its reason, the speed."""
        lines = [
            f"added: {len(self.added)}",
            f"updated: {len(self.updated)}",
            f"unchanged: {self.unchanged}",
            f"removed: {len(self.removed)}",
            f"failed: {len(self.failed)}",
        ]
        lines += [f"  {path}: {reason}" for path, reason in sorted(self.failed)]
        lines.append(f"skipped: {len(self.skipped)}")
        lines += [f"  {path}: {reason}" for path, reason in sorted(self.skipped)]
        if self.same_work:
            lines.append(f"same work as another file: {len(self.same_work)}")
            lines += [f"  {path}: another file of {story}" for path, story in sorted(self.same_work)]
        if self.returned:
            lines.append(f"returned (old id, corrections and history kept): {len(self.returned)}")
            lines += [f"  {path}" for path in sorted(self.returned)]
        if self.stopped:
            lines.append(f"NOT REMOVED: {self.stopped}")
        lines += [f"note: {note}" for note in self.notes]
        if self.ranking_patched:
            lines.append(
                f"ranking: {self.ranking_patched:,} changed stories brought into the common words' impacts "
                f"({self.ranking_seconds:.1f} s)"
            )
        elif self.ranked_words:
            lines.append(
                f"ranking: impacts stored for {self.ranked_words:,} common words and "
                f"{self.ranked_pairs:,} common pairs of words; pairs index written "
                f"({self.ranking_seconds:.0f} s in all, {self.pairs_seconds:.0f} s the pairs index; "
                "part of the time below)"
            )
        mb = self.bytes_parsed / 1_000_000
        speed = f" ({mb / self.seconds:.1f} MB/s)" if self.seconds > 0 and self.bytes_parsed else ""
        lines.append(f"parsed {mb:.1f} MB in {self.seconds:.1f} s{speed}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON (what `index --json` prints)."""
        return {
            "added": sorted(self.added),
            "updated": sorted(self.updated),
            "unchanged": self.unchanged,
            "removed": sorted(self.removed),
            "failed": [{"path": p, "reason": r} for p, r in sorted(self.failed)],
            "skipped": [{"path": p, "reason": r} for p, r in sorted(self.skipped)],
            "same_work": [{"path": p, "story": s} for p, s in sorted(self.same_work)],
            "returned": sorted(self.returned),
            "held_back": sorted(self.held_back),
            "stopped": self.stopped,
            "notes": list(self.notes),
            "seconds": round(self.seconds, 3),
            "bytes_parsed": self.bytes_parsed,
            "ranked_words": self.ranked_words,
            "ranked_pairs": self.ranked_pairs,
        }

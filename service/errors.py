"""The one error a question can end in: `QueryError`, a query Librarian cannot answer as asked, in
plain words with suggestions. Every service module raises it; the cogs' one error handler and the
CLI print it. It imports nothing of the project, so any service module may raise it without an
import cycle (`service.query` re-exports it, where most code finds it).
"""

from __future__ import annotations


class QueryError(ValueError):
    """A query Librarian cannot answer as asked: `message` in plain words, plus suggestions."""

    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions: list[str] = list(suggestions or [])

    def __str__(self) -> str:
        if not self.suggestions:
            return self.message
        return f"{self.message} Did you mean: {', '.join(self.suggestions)}?"

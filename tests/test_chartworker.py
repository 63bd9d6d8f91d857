"""Charts are drawn in a process of their own (`service.chartworker`): matplotlib never holds the
bot's interpreter lock while its event loop has commands to acknowledge (issue 12, item 3)."""

from __future__ import annotations

import os

from service import chartworker
from service.charts import StatsFigures, render_stats


def _drawn_by() -> bytes:
    return str(os.getpid()).encode()


async def test_a_chart_is_drawn_in_another_process() -> None:
    try:
        assert int(await chartworker.draw(_drawn_by)) != os.getpid()
        figures = StatsFigures({"general": 3, "teen": 2}, [(2001, 5000), (2002, 7000)], [("Spike/Willow", 4)])
        png = await chartworker.draw(render_stats, figures, title="The archive")
        assert png.startswith(b"\x89PNG")
        first = int(await chartworker.draw(_drawn_by))
        assert int(await chartworker.draw(_drawn_by)) == first  # one process, reused
    finally:
        chartworker.close()

"""Many founders at once against the real ``ptce-bot run`` process, with and without crashes
(small crowds here; ``benchmarks/load.py`` runs 200 founders and prints the figures)."""

from __future__ import annotations

from pathlib import Path

from tests.support.crowd import Crowd


async def test_founders_at_once_all_finish_and_every_lead_arrives_once(tmp_path: Path):
    crowd = Crowd(tmp_path, users=8)
    await crowd.run()
    assert crowd.check() == []
    assert crowd.duplicates == 0
    assert crowd.exit_status == 0  # SIGTERM: a clean stop
    assert crowd.figures.recoveries == {}  # nobody had to ask again


async def test_killed_and_restarted_the_bot_loses_and_duplicates_nothing(tmp_path: Path):
    """SIGKILL at random moments: founders who get no reply use /reprendre (or ask again),
    and in the end every answer and lead is there exactly once, every lead delivered. (A
    kill between a coordination's chat accepting a lead and our record of it would post it
    twice: ``benchmarks/load.py`` counts such repeats.)"""
    crowd = Crowd(tmp_path, users=6, crashes=2, seed=7)
    await crowd.run()
    assert len(crowd.kills) == 2
    assert crowd.check() == []

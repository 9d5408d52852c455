"""Fusion is pure arithmetic: checked against values worked out by hand."""

from __future__ import annotations

import pytest

from assistant.index.fusion import convex, min_max, ranked, rrf


def test_rrf_sums_reciprocal_ranks_from_one() -> None:
    fused = rrf([[7, 8], [8, 9]], k=60)
    assert fused[8] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[7] == pytest.approx(1 / 61)
    assert fused[9] == pytest.approx(1 / 62)
    assert [doc for doc, _ in ranked(fused)] == [8, 7, 9]


def test_rrf_weights_scale_each_ranking() -> None:
    fused = rrf([[1], [2]], k=0, weights=[2.0, 1.0])
    assert fused == {1: 2.0, 2: 1.0}


def test_min_max_and_convex() -> None:
    assert min_max({1: 2.0, 2: 4.0, 3: 3.0}) == {1: 0.0, 2: 1.0, 3: 0.5}
    assert min_max({1: 5.0}) == {1: 1.0}
    assert min_max({}) == {}
    mixed = convex({1: 0.9, 2: 0.1}, {2: 30.0, 3: 10.0}, weight=0.5)
    assert mixed == pytest.approx({1: 0.5, 2: 0.5, 3: 0.0})


def test_ranked_breaks_ties_by_id() -> None:
    assert ranked({5: 1.0, 2: 1.0, 9: 2.0}) == [(9, 2.0), (2, 1.0), (5, 1.0)]

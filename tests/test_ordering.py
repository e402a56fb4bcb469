import numpy as np
import pytest

from digest.cluster._ordering import sorted_pairs, stable_argsort


@pytest.mark.parametrize("high", [1, 3, 1000, 2**40])
def test_stable_argsort_is_numpys_stable_argsort(high):
    rng = np.random.default_rng(high)
    for size in (0, 1, 2, 17, 5000):
        keys = rng.integers(0, high, size)  # many ties when high is small
        assert np.array_equal(stable_argsort(keys), np.argsort(keys, kind="stable"))


def test_keys_too_wide_for_positions_fall_back_to_the_stable_argsort():
    keys = np.array([2**62, 5, 2**62, 5, 0], dtype=np.int64)
    assert stable_argsort(keys).tolist() == [4, 1, 3, 0, 2]


def test_sorted_pairs_are_lexsorted_by_left_then_right():
    rng = np.random.default_rng(5)
    for count in (2, 50, 100_000):
        left, right = rng.integers(0, count, 3000), rng.integers(0, count, 3000)
        order = np.lexsort((right, left))
        got_left, got_right = sorted_pairs(left, right)
        assert np.array_equal(got_left, left[order])
        assert np.array_equal(got_right, right[order])


def test_floats_and_negative_pairs_take_numpys_own_sorts():
    floats = np.array([0.5, 0.2, 0.5, 0.1])
    assert stable_argsort(floats).tolist() == [3, 1, 0, 2]
    left, right = np.array([0, 1, 0]), np.array([2, -1, 1])  # a negative value: no packing
    got_left, got_right = sorted_pairs(left, right)
    assert got_left.tolist() == [0, 0, 1] and got_right.tolist() == [1, 2, -1]

"""The shared checks of lithioscreen.validation: numbers, thicknesses, thresholds, ids, files."""

from __future__ import annotations

import math
import os
import threading

import pytest

from lithioscreen.validation import (
    MAX_THICKNESS_NM,
    MIN_THICKNESS_NM,
    as_number,
    identifier_problem,
    parse_ascii_number,
    regular_file_problem,
    thickness_problem,
    threshold_problem,
)


@pytest.mark.parametrize("text", ["30", "-8.1", "+2", ".5", "5.", "2.5e-3", "1E3", " 30 "])
def test_ascii_numbers_are_read(text):
    assert parse_ascii_number(text) == float(text)


@pytest.mark.parametrize("text", ["３０", "٣٠", "3_0", "nan", "NaN", "inf", "-Infinity", "30 nm", "", "1,5", "0x1e"])
def test_what_float_accepts_but_no_data_file_means_is_refused(text):
    with pytest.raises(ValueError):
        parse_ascii_number(text)


def test_a_boolean_is_not_a_thickness():
    import numpy as np

    for value in (True, False, np.bool_(True)):
        with pytest.raises(ValueError):
            as_number(value)
    assert as_number(30) == 30.0 and as_number("30") == 30.0


@pytest.mark.parametrize(
    "value, fragment",
    [
        (1e-300, "below 0.1 nm"),
        (0.05, "below 0.1 nm"),
        (-5, "negative"),
        (math.nan, "NaN"),
        (2e5, "100 µm"),
        (math.inf, "100 µm"),
        (0.0, "above 0"),
    ],
)
def test_thickness_outside_the_physical_limits(value, fragment):
    assert fragment in thickness_problem(value)


def test_thickness_limits_are_inclusive_and_zero_means_no_layer_only_when_allowed():
    assert thickness_problem(MIN_THICKNESS_NM) is None and thickness_problem(MAX_THICKNESS_NM) is None
    assert thickness_problem(0.0, allow_zero=True) is None and thickness_problem(0.0) is not None


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1e9, 1e9])
def test_threshold_must_be_finite_and_physical(value):
    assert threshold_problem(value)


def test_ordinary_thresholds_pass():
    assert threshold_problem(100.0) is None and threshold_problem(-70.0) is None


@pytest.mark.parametrize("text", ["cell\u200b1", "cell\x001", "cell\n1", "cell\u202e1", "cell\ufeff1", "cell\x1b[31m"])
def test_ids_with_control_or_zero_width_characters(text):
    assert "U+" in identifier_problem(text)


def test_ordinary_ids_pass():
    assert identifier_problem("lab-2026-w48-nb30-mg200-01") is None
    assert (
        identifier_problem("Zürich cell [/] 1") is None
    )  # brackets and accents are fine (the CLI prints them literally)


def test_a_fifo_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    answer = []
    worker = threading.Thread(target=lambda: answer.append(regular_file_problem(fifo)), daemon=True)
    worker.start()
    worker.join(5)
    assert answer and "not a regular file" in answer[0]


def test_folders_and_missing_files(tmp_path):
    assert "folder" in regular_file_problem(tmp_path)
    assert regular_file_problem(tmp_path / "absent.csv") == "file not found"
    (tmp_path / "ok.csv").write_text("candidate\nW\n")
    assert regular_file_problem(tmp_path / "ok.csv") is None

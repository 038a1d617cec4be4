"""Checks shared by every entry point (CLI options, candidate files, ``cells.csv``, the served model).

Each check returns an error message, or None when the value is fine, so that callers raise their
own error type (:class:`lithioscreen.candidates.CandidateError`, a schema ``Problem``, an HTTP 400).

Physical limits of a layer thickness, the same everywhere:

* at least :data:`MIN_THICKNESS_NM` = 0.1 nm. One atomic layer of the metals screened here is
  0.18-0.3 nm thick (the spacing of close-packed planes: Be 0.18, W(110) 0.22, Mg(0001) 0.26 nm);
  a nominal (quartz-balance) thickness of half a layer, 0.1 nm, is still a deposit one can report,
  anything thinner is not a film and only drives the model's log-thickness feature to nonsense
  (a CCD far above anything measured; ``tests/test_cli.py`` keeps the 1e-300 nm case out);
* at most :data:`MAX_THICKNESS_NM` = 100 µm: thicker is no thin film any more.
"""

from __future__ import annotations

import math
import os
import re
import stat
import unicodedata
from pathlib import Path

MIN_THICKNESS_NM = 0.1
MAX_THICKNESS_NM = 100_000.0
#: Interfacial energies (and so the threshold flag) are accepted within ±1000 meV/Å², as in
#: data/interfacial_energies.csv; every computed or published Li/X value lies within ±200.
THRESHOLD_RANGE_MEV_PER_A2 = (-1000.0, 1000.0)

#: A number as people write it in a CSV file: ASCII digits only. ``float()`` also takes
#: ``'３０'``, ``'٣٠'``, ``'3_0'``, ``'nan'`` and ``'inf'``; none of them belongs in a data file.
ASCII_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_ascii_number(text: str) -> float:
    """``float(text)`` for plain ASCII decimal numbers only.

    Parameters
    ----------
    text : str
        ASCII digits with an optional sign, decimal point and exponent (whitespace around them is stripped).

    Returns
    -------
    float
        The value.

    Raises
    ------
    ValueError
        For anything else, also ``nan``, ``inf``, full-width digits and ``3_0``.
    """
    value = str(text).strip()
    if not ASCII_NUMBER.fullmatch(value):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


def as_number(value: object) -> float:
    """A thickness-like value as float: numbers (not booleans) and ASCII number strings.

    Parameters
    ----------
    value : object
        A number (not a bool), or a string (:func:`parse_ascii_number`).

    Returns
    -------
    float
        The value; a float NaN or inf passes through (the range checks refuse them).

    Raises
    ------
    ValueError
        For booleans, non-ASCII or non-numeric strings, and objects ``float()`` refuses.
    """
    import numpy as np

    if isinstance(value, (bool, np.bool_)):  # True is 1.0 to float(), not a thickness
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, str):
        return parse_ascii_number(value)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number") from None


def thickness_problem(value: float, allow_zero: bool = False) -> str | None:
    """Why ``value`` is not a layer thickness, or None.

    Parameters
    ----------
    value : float
        Thickness, nm.
    allow_zero : bool
        Accept 0, meaning "no layer".

    Returns
    -------
    str or None
        The problem (for a message after the value's name): NaN, negative, 0, below
        :data:`MIN_THICKNESS_NM` or above :data:`MAX_THICKNESS_NM`; None when the value is fine.
    """
    if math.isnan(value):
        return "is missing (NaN)"
    if value < 0:
        return f"{value:g} nm is negative"
    if value == 0:
        return None if allow_zero else f"0 nm: must be above 0 nm (at least {MIN_THICKNESS_NM:g} nm)"
    if value < MIN_THICKNESS_NM:
        return f"{value:g} nm is below {MIN_THICKNESS_NM:g} nm (about half an atomic layer: not a film)"
    if value > MAX_THICKNESS_NM:
        return f"{value:g} nm is above {MAX_THICKNESS_NM:g} nm (100 µm)"
    return None


def threshold_problem(value: float) -> str | None:
    """Why ``value`` is not an interfacial-energy threshold, or None.

    Parameters
    ----------
    value : float
        Threshold, meV/Å².

    Returns
    -------
    str or None
        The problem (not finite, or outside :data:`THRESHOLD_RANGE_MEV_PER_A2`); None when fine.
    """
    low, high = THRESHOLD_RANGE_MEV_PER_A2
    if not math.isfinite(value):
        return f"threshold {value!r} is not a finite number"
    if not low <= value <= high:
        return f"threshold {value:g} meV/Å² is outside {low:g} to {high:g} meV/Å²"
    return None


def invisible_characters(text: str) -> list[str]:
    """Control, format (zero-width, bidi overrides), separator and unassigned characters, as U+XXXX.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    list of str
        Each distinct such character as ``U+XXXX``, in order of first appearance; empty if none.
    """
    bad = [ch for ch in text if unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}]
    return [f"U+{ord(ch):04X}" for ch in dict.fromkeys(bad)]


def identifier_problem(text: str) -> str | None:
    """Why ``text`` is not an id people can type and read back, or None.

    Parameters
    ----------
    text : str
        A cell id or similar identifier.

    Returns
    -------
    str or None
        The problem (control, zero-width or other invisible characters, listed); None when fine.
    """
    bad = invisible_characters(text)
    if bad:
        return f"{text!r} contains invisible or control characters ({', '.join(bad)})"
    return None


def regular_file_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as a data file, or None.

    ``os.stat`` only: opening a FIFO (or a terminal, a socket) to find out would block until
    someone writes to it.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.

    Returns
    -------
    str or None
        ``file not found``, unreadable, a folder, or not a regular file; None for a regular file.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "file not found"
    except OSError as error:
        return f"cannot read: {error.strerror or error}"
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a pipe, socket or device?)"
    return None

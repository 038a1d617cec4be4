"""Loaders for the three data files; each validates its file against a schema before use.

cells.csv                    measured cells (one row per cell, CCD possibly censored)
interfacial_energies.csv     Li/X interfacial energies (DFT from the literature; bounds allowed)
li_binary_phase_data.csv     Li-X binary phase-diagram facts per element
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lithioscreen import config
from lithioscreen.candidates import NO_UNDERLAYER, CandidateError, parse_overlayer, parse_underlayer
from lithioscreen.data.schema import Column, DataValidationError, Problem, Schema, read_raw, validate
from lithioscreen.validation import MAX_THICKNESS_NM, MIN_THICKNESS_NM, identifier_problem

__all__ = [
    "CELLS_SCHEMA",
    "DataValidationError",
    "COMPUTED_HERE",
    "INTERFACIAL_SCHEMA",
    "MLIP_COLUMNS",
    "PHASE_SCHEMA",
    "Problem",
    "file_sha256",
    "load_cells",
    "load_ccd_orderings",
    "load_interfacial_energies",
    "load_phase_data",
    "read_interfacial_raw",
    "ccd_cells",
    "training_cells",
]

CCD_CENSORING = frozenset({"exact", "lower_bound", "interval", "not_measured", "failed"})
#: Censoring labels of a cell that has no CCD value (its bounds stay empty): ``not_measured`` (built,
#: no CCD test) and ``failed`` (built and failed; ``failure_mode`` says how).
NO_CCD_CENSORING = frozenset({"not_measured", "failed"})
#: How a stack that was built failed (``ccd_censoring`` ``failed``), as the paper describes it:
#: ``li_plated_on_overlayer``: Li was reduced on top of the overlayer instead of beneath it, with
#: recurrent nucleation dips (Oh et al. 2024, Fig. S23-S26: 200 nm W on Mg, and W without Mg).
FAILURE_MODES = frozenset({"li_plated_on_overlayer", "short_circuit_at_start", "other"})
VALUE_ORIGINS = frozenset({"text", "figure_estimate", "inferred_from_text", "measured_here", "computed_mlip"})
#: Columns that describe a value computed here with an interatomic potential (empty for literature
#: rows); files written before they existed are read with these columns empty.
MLIP_COLUMNS = ("li_strain_pct", "fit_r2", "intercept_stderr_mev_per_a2", "software_versions", "protocol")
#: Above this, a "CCD" is a typo or the wrong unit.
MAX_CCD_MA_CM2 = 100.0


def _composition_check(text: str) -> str | None:
    try:
        parse_overlayer(text)
    except CandidateError as error:
        return str(error)
    return None


def _element_check(text: str) -> str | None:
    from lithioscreen.elements import symbol_index

    if text in symbol_index():  # pymatgen's own table, read without importing pymatgen
        return None
    from pymatgen.core import Element

    try:
        Element(text)
    except ValueError:
        return f"{text!r} is not an element symbol"
    return None


def _underlayer_check(text: str) -> str | None:
    if text == NO_UNDERLAYER:
        return None
    message = _element_check(text)
    if message is None:
        try:  # the same rule as for candidate stacks: a metal or metalloid film
            parse_underlayer(text)
        except CandidateError as error:
            return str(error)
    return message


def _material_check(text: str) -> str | None:
    from pymatgen.core import Composition, Element

    try:
        composition = Composition(text)
    except Exception:
        return f"{text!r} is not a chemical formula"
    unknown = [
        getattr(element, "symbol", str(element)) for element in composition.elements if not isinstance(element, Element)
    ]
    if unknown:  # pymatgen reads unknown symbols as dummy species
        return f"{text!r}: unknown element(s) {', '.join(unknown)}"
    return None


#: Cells measured in the lab (``lithioscreen cells add``) have no DOI yet: ``lab:<notebook/cell reference>``.
LAB_REFERENCE_PREFIX = "lab:"


def _doi_check(text: str) -> str | None:
    if text.startswith(LAB_REFERENCE_PREFIX) and len(text) > len(LAB_REFERENCE_PREFIX):
        return None
    if text.startswith("10.") and "/" in text:
        return None
    return f"{text!r} is not a DOI (10.xxxx/...) or a lab reference (lab:<notebook/cell id>)"


COMPUTED_HERE = "computed here"


def _doi_or_computed_check(text: str) -> str | None:
    return None if text == COMPUTED_HERE else _doi_check(text)


@dataclass(frozen=True)
class ReportedCCD:
    """What a ``ccd_reported`` text says.

    Built by :func:`parse_ccd_reported`; the text itself stays in the cells table.

    Attributes
    ----------
    kind : str
        ``exact``, ``lower_bound``, ``upper_bound``, ``interval``, or ``none`` (no CCD value: free
        text such as ``not reported`` or ``failed: Li plated on top of W``).
    lower, upper : float
        The bounds, mA/cm²; NaN where the text gives none (both equal for ``exact``).
    """

    kind: str
    lower: float = math.nan
    upper: float = math.nan


_NUMBER = r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)"  # ASCII digits only, as in every numeric column
_UNIT = r"(?:\s*mA\s*(?:/\s*cm(?:2|²)|[·\s]\s*cm(?:-2|⁻²)))?"
_REPORTED_FORMS = [
    ("exact", re.compile(rf"(?:~|≈|approx\.?|about)?\s*{_NUMBER}{_UNIT}", re.IGNORECASE)),
    (
        "lower_bound",
        re.compile(rf"(?:>=?|≥|above|over|more than|greater than|exceeds?|exceeded)\s*{_NUMBER}{_UNIT}", re.IGNORECASE),
    ),
    ("upper_bound", re.compile(rf"(?:<=?|≤|below|under|less than)\s*{_NUMBER}{_UNIT}", re.IGNORECASE)),
    ("interval", re.compile(rf"{_NUMBER}{_UNIT}\s*(?:-|–|—|to)\s*{_NUMBER}{_UNIT}", re.IGNORECASE)),
    ("interval", re.compile(rf"between\s+{_NUMBER}{_UNIT}\s+and\s+{_NUMBER}{_UNIT}", re.IGNORECASE)),
]


def parse_ccd_reported(text: str) -> ReportedCCD:
    """Read ``ccd_reported`` as written in a paper or a lab notebook (mA/cm², unit optional).

    ``1.3`` (also ``~1.3``) exact; ``> 5.0`` (``>=``, ``≥``, ``above``, ``exceeded``) a lower bound;
    ``< 2`` an upper bound; ``3.2-4.8``, ``3.2 to 4.8``, ``between 3.2 and 4.8`` an interval. Any
    other text is ``none``: it states no CCD, which is what a ``not_measured`` or ``failed`` cell
    says (``not reported``, ``failed: Li plated on top of W``); a cell with a CCD needs one of the forms.

    Parameters
    ----------
    text : str
        The ``ccd_reported`` cell; runs of whitespace count as one space.

    Returns
    -------
    ReportedCCD
        The kind and bounds, mA/cm².
    """
    value = " ".join(str(text).split())
    for kind, pattern in _REPORTED_FORMS:
        match = pattern.fullmatch(value)
        if match:
            numbers = [float(group) for group in match.groups()]
            if kind == "exact":
                return ReportedCCD(kind, numbers[0], numbers[0])
            if kind == "lower_bound":
                return ReportedCCD(kind, lower=numbers[0])
            if kind == "upper_bound":
                return ReportedCCD(kind, upper=numbers[0])
            return ReportedCCD(kind, numbers[0], numbers[1])
    return ReportedCCD("none")


def _same(a: float, b: float) -> bool:
    return not (math.isnan(a) or math.isnan(b)) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _reported_agrees(row: pd.Series) -> list[tuple[str, str]]:
    """``ccd_reported`` must say what ``ccd_censoring`` and the bounds say (a '> 5.0' is never 'exact 6.0')."""
    text, kind = row["ccd_reported"], row["ccd_censoring"]
    lower, upper = row["ccd_lower_ma_cm2"], row["ccd_upper_ma_cm2"]
    reported = parse_ccd_reported(text)
    bounds = f"{kind} [{'' if np.isnan(lower) else f'{lower:g}'}, {'' if np.isnan(upper) else f'{upper:g}'}]"
    if kind in NO_CCD_CENSORING:  # free text, as long as it states no CCD
        if reported.kind != "none":
            return [("ccd_reported", f"{text!r} states a CCD, but ccd_censoring is {kind!r} (no CCD value)")]
        return []
    if reported.kind == "none":
        return [
            (
                "ccd_reported",
                f"{text!r} is no CCD this schema can read: write e.g. '1.3', '> 5.0', '3.2-4.8' or 'between 3.2 and 4.8' (mA/cm²)",
            )
        ]
    agrees = {
        "exact": kind == "exact" and _same(reported.lower, lower),
        # a '> x' may come with an upper bound from other evidence (the paper's Mo, Ti, Zr: '> 3.2', below Cr's 4.8)
        "lower_bound": kind in {"lower_bound", "interval"} and _same(reported.lower, lower),
        "upper_bound": kind == "interval" and _same(reported.upper, upper),
        "interval": kind == "interval" and _same(reported.lower, lower) and _same(reported.upper, upper),
    }[reported.kind]
    if not agrees:
        return [("ccd_reported", f"{text!r} does not agree with ccd_censoring and the bounds ({bounds})")]
    return []


def _cell_censoring(row: pd.Series) -> list[tuple[str, str]]:
    """The CCD bounds must agree with the censoring label: never a bare number for '> 3.2'."""
    kind, lower, upper = row["ccd_censoring"], row["ccd_lower_ma_cm2"], row["ccd_upper_ma_cm2"]
    has_lower, has_upper = not np.isnan(lower), not np.isnan(upper)
    problems = []
    if kind == "exact" and not (has_lower and has_upper and lower == upper):
        problems.append(("ccd_upper_ma_cm2", "an exact CCD needs ccd_lower_ma_cm2 == ccd_upper_ma_cm2"))
    if kind == "lower_bound" and not (has_lower and not has_upper):
        problems.append(("ccd_upper_ma_cm2", "a lower-bound CCD ('> x') has ccd_lower_ma_cm2 and no upper value"))
    if kind == "interval" and not (has_lower and has_upper and lower < upper):
        problems.append(("ccd_upper_ma_cm2", "an interval CCD needs ccd_lower_ma_cm2 < ccd_upper_ma_cm2"))
    if kind in NO_CCD_CENSORING and (has_lower or has_upper):
        problems.append(("ccd_lower_ma_cm2", f"a {kind} cell cannot carry a CCD value"))
    if kind == "failed" and not row["failure_mode"]:
        problems.append(("failure_mode", f"a failed cell needs its failure mode (one of {sorted(FAILURE_MODES)})"))
    if kind != "failed" and row["failure_mode"]:
        problems.append(("failure_mode", "only a cell with ccd_censoring 'failed' has a failure mode"))
    if kind != "not_measured" and not row["ccd_source_figure"]:
        problems.append(("ccd_source_figure", "a CCD value needs its source figure or table"))
    if not problems:  # the text is compared only with bounds that agree with their label
        problems += _reported_agrees(row)
    if row["underlayer"] == NO_UNDERLAYER and row["underlayer_nm"] != 0:
        problems.append(("underlayer_nm", "must be 0 when underlayer is 'none'"))
    if row["underlayer"] != NO_UNDERLAYER and not row["underlayer_nm"] >= MIN_THICKNESS_NM:
        problems.append(
            ("underlayer_nm", f"underlayer {row['underlayer']} needs a thickness of at least {MIN_THICKNESS_NM:g} nm")
        )
    if not np.isnan(row["first_cycle_ce_pct"]) and not row["ce_source_figure"]:
        problems.append(("ce_source_figure", "a CE value needs its source figure or table"))
    return problems


def _interfacial_bounds(row: pd.Series) -> list[tuple[str, str]]:
    kind = row["value_kind"]
    value, lower, upper = row["interfacial_energy_mev_per_a2"], row["lower_mev_per_a2"], row["upper_mev_per_a2"]
    if kind == "exact" and (np.isnan(value) or value != lower or value != upper):
        return [("interfacial_energy_mev_per_a2", "an exact value must equal lower_mev_per_a2 and upper_mev_per_a2")]
    if kind == "lower_bound" and (not np.isnan(value) or np.isnan(lower) or not np.isnan(upper)):
        return [("lower_mev_per_a2", "a lower bound has only lower_mev_per_a2")]
    if kind == "upper_bound" and (not np.isnan(value) or np.isnan(upper) or not np.isnan(lower)):
        return [("upper_mev_per_a2", "an upper bound has only upper_mev_per_a2")]
    return []


def _interfacial_provenance(row: pd.Series) -> list[tuple[str, str]]:
    """Literature rows carry a DOI; rows computed here say so and carry the fit's quality."""
    if row["method"] == "dft":
        if not row["doi"] or row["doi"] == COMPUTED_HERE:
            return [("doi", "a DFT value needs the DOI of its source")]
        if row["value_origin"] == "computed_mlip":
            return [("value_origin", "'computed_mlip' is for method mlip:<model>")]
        return []
    problems = []
    if row["value_origin"] != "computed_mlip":
        problems.append(("value_origin", "an mlip:<model> value must have value_origin 'computed_mlip'"))
    if row["doi"] not in ("", COMPUTED_HERE):
        problems.append(("doi", f"an mlip:<model> value is computed here: doi must be empty or {COMPUTED_HERE!r}"))
    if row["value_kind"] != "exact":
        problems.append(("value_kind", "an mlip:<model> value is 'exact' (a fitted intercept)"))
    for column in ("fit_r2", "intercept_stderr_mev_per_a2", "li_strain_pct"):
        if np.isnan(row[column]):
            problems.append((column, "required for an mlip:<model> value"))
    if not row["software_versions"]:
        problems.append(("software_versions", "required for an mlip:<model> value"))
    return problems


def _phase_consistency(row: pd.Series) -> list[tuple[str, str]]:
    problems = []
    exist, count = row["li_x_compounds_exist"], row["li_x_compound_count"]
    listed = [name for name in str(row["li_x_compounds"]).split(";") if name.strip()]
    if exist == "no" and not (count == 0):
        problems.append(("li_x_compound_count", "must be 0 when li_x_compounds_exist is 'no'"))
    if exist == "yes" and not np.isnan(count) and count < 1:
        problems.append(("li_x_compound_count", "must be at least 1 when li_x_compounds_exist is 'yes'"))
    if exist == "unknown" and not np.isnan(count):
        problems.append(("li_x_compound_count", "must be empty (unknown) when li_x_compounds_exist is 'unknown'"))
    if listed and not np.isnan(count) and len(listed) != count:
        problems.append(("li_x_compounds", f"lists {len(listed)} compounds but li_x_compound_count is {count:g}"))
    qualifier, solubility = row["li_solubility_qualifier"], row["max_li_solubility_in_x_at_pct"]
    if qualifier == "unknown" and not np.isnan(solubility):
        problems.append(("max_li_solubility_in_x_at_pct", "must be empty when the qualifier is 'unknown'"))
    if qualifier != "unknown" and np.isnan(solubility):
        problems.append(("max_li_solubility_in_x_at_pct", f"needs a value for qualifier {qualifier!r}"))
    return problems


CELLS_SCHEMA = Schema(
    name=config.CELLS_FILE,
    key="cell_id",
    columns=[
        Column("cell_id", required=True, check=identifier_problem),
        Column("overlayer", required=True, check=_composition_check),
        Column("overlayer_nm", "float", required=True, minimum=MIN_THICKNESS_NM, maximum=MAX_THICKNESS_NM, unit="nm"),
        Column("underlayer", required=True, check=_underlayer_check),
        Column("underlayer_nm", "float", required=True, minimum=0, maximum=MAX_THICKNESS_NM, unit="nm"),
        Column("current_collector"),
        Column("solid_electrolyte", required=True, check=_material_check),
        Column("counter_electrode"),
        Column("temperature_c", "float", minimum=-60, maximum=200, unit="°C"),
        Column("stack_pressure_mpa", "float", minimum=0, maximum=1000, unit="MPa"),
        Column("ccd_start_ma_cm2", "float", minimum=0, maximum=MAX_CCD_MA_CM2, unit="mA/cm²"),
        Column("ccd_step_ma_cm2", "float", minimum=0, maximum=MAX_CCD_MA_CM2, unit="mA/cm²"),
        Column("ccd_stripping_ma_cm2", "float", minimum=0, maximum=MAX_CCD_MA_CM2, unit="mA/cm²"),
        Column("ccd_capacity_mah_cm2", "float", minimum=0, maximum=100, unit="mAh/cm²"),
        Column("ccd_reported", required=True),
        Column("ccd_censoring", required=True, allowed=CCD_CENSORING),
        Column("ccd_lower_ma_cm2", "float", minimum=0, maximum=MAX_CCD_MA_CM2, unit="mA/cm²"),
        Column("ccd_upper_ma_cm2", "float", minimum=0, maximum=MAX_CCD_MA_CM2, unit="mA/cm²"),
        Column("ccd_source_figure"),
        Column("ccd_value_origin", required=True, allowed=VALUE_ORIGINS),
        Column("failure_mode", allowed=FAILURE_MODES | {""}),
        Column("first_cycle_ce_pct", "float", minimum=0, maximum=100, unit="%"),
        Column("ce_source_figure"),
        Column("ce_value_origin", allowed=VALUE_ORIGINS | {""}),
        Column("doi", required=True, check=lambda text: identifier_problem(text) or _doi_check(text)),
        Column("notes"),
    ],
    row_checks=(_cell_censoring,),
)

INTERFACIAL_SCHEMA = Schema(
    name=config.INTERFACIAL_ENERGIES_FILE,
    columns=[
        Column("material", required=True, check=_material_check),
        Column("material_class", required=True, allowed=frozenset({"metal", "solid_electrolyte", "sei_component"})),
        Column(
            "method",
            required=True,
            check=lambda text: (
                None
                if text == "dft" or text.startswith("mlip:")
                else f"{text!r}: method must be 'dft' or 'mlip:<model>'"
            ),
        ),
        Column("li_plane", required=True),
        Column("x_plane", required=True),
        Column("value_kind", required=True, allowed=frozenset({"exact", "lower_bound", "upper_bound"})),
        Column("interfacial_energy_mev_per_a2", "float", minimum=-1000, maximum=1000, unit="meV/Å²"),
        Column("lower_mev_per_a2", "float", minimum=-1000, maximum=1000, unit="meV/Å²"),
        Column("upper_mev_per_a2", "float", minimum=-1000, maximum=1000, unit="meV/Å²"),
        Column("doi", check=_doi_or_computed_check),
        Column("source_figure", required=True),
        Column("value_origin", required=True, allowed=VALUE_ORIGINS),
        Column("notes"),
        Column("li_strain_pct", "float", minimum=-50, maximum=50, unit="%"),
        Column("fit_r2", "float", minimum=-1e6, maximum=1),
        Column("intercept_stderr_mev_per_a2", "float", minimum=0, maximum=1000, unit="meV/Å²"),
        Column("software_versions"),
        Column("protocol"),
    ],
    row_checks=(_interfacial_bounds, _interfacial_provenance),
)

PHASE_SCHEMA = Schema(
    name=config.PHASE_DATA_FILE,
    key="element",
    columns=[
        Column("element", required=True, check=_element_check),
        Column("li_x_compounds_exist", required=True, allowed=frozenset({"yes", "no", "unknown"})),
        Column("li_x_compound_count", "int", minimum=0, maximum=50),
        Column("li_x_compounds"),
        Column("max_li_solubility_in_x_at_pct", "float", minimum=0, maximum=100, unit="at.%"),
        Column("li_solubility_qualifier", required=True, allowed=frozenset({"=", "~", "<", "unknown"})),
        Column("li_solubility_temperature_c", "float", minimum=-273, maximum=4000, unit="°C"),
        Column(
            "li_x_miscibility",
            required=True,
            allowed=frozenset({"immiscible", "solid_solution", "compound_forming", "unknown"}),
        ),
        Column("reference", required=True),
        Column("reference_doi"),
        Column("value_origin", required=True, allowed=frozenset({"assessed_diagram", "unknown"})),
        Column("confidence", required=True, allowed=frozenset({"high", "medium", "low"})),
        Column("notes"),
    ],
    row_checks=(_phase_consistency,),
)


def _orderings_check(row: pd.Series) -> list[tuple[str, str]]:
    if row["relation"] == "approx_equal" and not row["tolerance_ma_cm2"] > 0:
        return [("tolerance_ma_cm2", "an approx_equal statement needs a positive tolerance")]
    if row["relation"] == "greater" and not np.isnan(row["tolerance_ma_cm2"]):
        return [("tolerance_ma_cm2", "a 'greater' statement has no tolerance")]
    if row["higher"] == row["lower"]:
        return [("lower", "compares an overlayer with itself")]
    return []


#: Statements of the paper's text about how the measured CCDs of overlayers are ordered; they are
#: checks of a model's predictions (``lithioscreen.models.evaluation.order_checks``), never targets.
ORDERINGS_SCHEMA = Schema(
    name=config.ORDERINGS_FILE,
    columns=[
        Column("higher", required=True, check=_composition_check),
        Column("lower", required=True, check=_composition_check),
        Column("relation", required=True, allowed=frozenset({"greater", "approx_equal"})),
        Column("tolerance_ma_cm2", "float", minimum=0, maximum=MAX_CCD_MA_CM2, unit="mA/cm²"),
        Column("stack", required=True),
        Column("doi", required=True, check=_doi_check),
        Column("source_figure", required=True),
        Column("value_origin", required=True, allowed=VALUE_ORIGINS),
        Column("quote", required=True),
        Column("notes"),
    ],
    row_checks=(_orderings_check,),
)


#: Columns of cells.csv added after its first release; a file written before is read with them empty.
LATER_CELL_COLUMNS = ("failure_mode",)


def _read(path, default_name: str, later_columns=()) -> pd.DataFrame:
    """The file as text cells (``attrs["source_path"]`` set), with ``later_columns`` added empty where missing."""
    path = Path(path) if path is not None else config.data_dir() / default_name
    raw = read_raw(path)
    for column in later_columns:
        if column not in raw.columns:
            raw[column] = ""
    raw.attrs["source_path"] = str(path)
    return raw


def _load(path, default_name: str, schema: Schema, later_columns=()) -> pd.DataFrame:
    raw = _read(path, default_name, later_columns)
    frame = validate(raw, schema, source=raw.attrs["source_path"])
    frame.attrs["source_path"] = raw.attrs["source_path"]
    return frame


def load_cells(path: Path | str | None = None) -> pd.DataFrame:
    """Every tested cell, validated; ``ccd_lower_ma_cm2`` / ``ccd_upper_ma_cm2`` encode the censoring.

    Every ``load_*`` function takes the file's ``path`` (None: the file of that name in
    :func:`lithioscreen.config.data_dir`), returns the validated table with its columns typed and
    ``attrs["source_path"]`` set, and raises :class:`DataValidationError` naming the file, line and
    column of every bad cell. A ``cells.csv`` written before the ``failure_mode`` column is read
    with that column empty.
    """
    return _load(path, config.CELLS_FILE, CELLS_SCHEMA, LATER_CELL_COLUMNS)


def read_interfacial_raw(path: Path | str | None = None) -> pd.DataFrame:
    """The interfacial-energy file as text cells (not validated), with any missing :data:`MLIP_COLUMNS` empty."""
    return _read(path, config.INTERFACIAL_ENERGIES_FILE, MLIP_COLUMNS)


def load_interfacial_energies(path: Path | str | None = None) -> pd.DataFrame:
    """Literature values (method ``dft``) and values computed here (``mlip:<model>``), validated (see :func:`load_cells`)."""
    return _load(path, config.INTERFACIAL_ENERGIES_FILE, INTERFACIAL_SCHEMA, MLIP_COLUMNS)


def load_ccd_orderings(path: Path | str | None = None) -> pd.DataFrame:
    """The paper's statements on the order of measured CCDs (Cr > Mo ≈ Ti > Zr), validated (see :func:`load_cells`)."""
    return _load(path, config.ORDERINGS_FILE, ORDERINGS_SCHEMA)


def load_phase_data(path: Path | str | None = None) -> pd.DataFrame:
    """The Li-X phase-diagram facts per element, validated (see :func:`load_cells`)."""
    return _load(path, config.PHASE_DATA_FILE, PHASE_SCHEMA)


#: Outcomes a cell can have in the training table: a CCD (exact or censored), or a failed stack.
OUTCOME_CCD = "ccd"
OUTCOME_FAILED = "failed"
#: Step of the CCD protocol when a cell does not state it, mA/cm² (the paper's: 0.1).
DEFAULT_CCD_STEP_MA_CM2 = 0.1


def training_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """Every cell with an outcome, as candidate rows plus the outcome.

    ``outcome`` is ``ccd`` for cells with a CCD (``exact``, ``lower_bound``, ``interval``; the CCD
    interval in ``ccd_lower_ma_cm2`` / ``ccd_upper_ma_cm2``, a lower bound open above) or
    ``failed`` for stacks that were built and failed (``failure_mode`` says how; no CCD). Cells
    ``not_measured`` carry no outcome and are left out.

    Parameters
    ----------
    cells : pandas.DataFrame
        The validated ``cells.csv`` table (:func:`load_cells`).

    Returns
    -------
    pandas.DataFrame
        One row per kept cell: ``cell_id``, the candidate columns (``candidate`` is the overlayer),
        ``outcome``, ``ccd_lower_ma_cm2``, ``ccd_upper_ma_cm2`` (inf for a lower bound, NaN when
        failed), ``ccd_step_ma_cm2`` (:data:`DEFAULT_CCD_STEP_MA_CM2` where not stated),
        ``ccd_censoring``, ``ccd_reported``, ``failure_mode``; CCDs in mA/cm².
    """
    kept = cells[cells["ccd_censoring"] != "not_measured"].reset_index(drop=True)
    failed = (kept["ccd_censoring"] == "failed").to_numpy()
    upper = kept["ccd_upper_ma_cm2"].to_numpy(dtype=float)
    step = kept["ccd_step_ma_cm2"].to_numpy(dtype=float)
    frame = pd.DataFrame(
        {
            "cell_id": kept["cell_id"],
            "candidate": kept["overlayer"],
            "overlayer_nm": kept["overlayer_nm"],
            "underlayer": kept["underlayer"],
            "underlayer_nm": kept["underlayer_nm"],
            "outcome": np.where(failed, OUTCOME_FAILED, OUTCOME_CCD),
            "ccd_lower_ma_cm2": kept["ccd_lower_ma_cm2"],
            # a lower bound is open above; a failed stack has no CCD at all
            "ccd_upper_ma_cm2": np.where(failed, np.nan, np.where(np.isnan(upper), np.inf, upper)),
            "ccd_step_ma_cm2": np.where(np.isnan(step), DEFAULT_CCD_STEP_MA_CM2, step),
            "ccd_censoring": kept["ccd_censoring"],
            "ccd_reported": kept["ccd_reported"],
            "failure_mode": kept["failure_mode"],
        }
    )
    return frame


def ccd_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`training_cells` that have a CCD.

    Parameters
    ----------
    cells : pandas.DataFrame
        A :func:`training_cells` table, or the ``cells.csv`` table (converted first).

    Returns
    -------
    pandas.DataFrame
        The rows with ``outcome == "ccd"``, index reset.
    """
    table = cells if "outcome" in cells.columns else training_cells(cells)
    return table[table["outcome"] == OUTCOME_CCD].reset_index(drop=True)


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file's bytes.

    Parameters
    ----------
    path : pathlib.Path or str
        The file.

    Returns
    -------
    str
        Hex digest.
    """
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()

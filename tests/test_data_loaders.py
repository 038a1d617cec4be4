"""The shipped data validate, carry provenance, and malformed files are rejected precisely."""

import math

import numpy as np
import pytest

from lithioscreen.data import (
    DataValidationError,
    load_cells,
    load_interfacial_energies,
    load_phase_data,
    training_cells,
)


def test_shipped_cells_are_the_papers():
    cells = load_cells().set_index("cell_id")
    assert cells.loc["oh2024-mg200", "ccd_lower_ma_cm2"] == 1.3
    assert cells.loc["oh2024-cr30-mg200", "ccd_lower_ma_cm2"] == 4.8
    w = cells.loc["oh2024-w30-mg200"]
    assert w["ccd_censoring"] == "lower_bound" and w["ccd_lower_ma_cm2"] == 5.0 and math.isnan(w["ccd_upper_ma_cm2"])
    for metal in ("mo", "ti", "zr"):
        row = cells.loc[f"oh2024-{metal}30-mg200"]
        assert row["ccd_censoring"] == "interval" and row["ccd_lower_ma_cm2"] == 3.2
    assert cells.loc["oh2024-w30-mg200", "first_cycle_ce_pct"] == 93.7
    assert cells.loc["oh2024-mg200", "first_cycle_ce_pct"] == 89.6
    failed = cells.loc[cells["ccd_censoring"] == "failed"]
    assert set(failed.index) == {"oh2024-w200-mg200", "oh2024-w30-nomg"}
    assert (failed["failure_mode"] == "li_plated_on_overlayer").all()
    assert failed["ccd_lower_ma_cm2"].isna().all() and failed["ccd_upper_ma_cm2"].isna().all()
    assert (cells.loc[cells["ccd_censoring"] != "failed", "failure_mode"] == "").all()


def test_every_ccd_has_provenance():
    cells = load_cells()
    measured = cells[~cells["ccd_censoring"].isin({"not_measured", "failed"})]
    assert (measured["doi"] == "10.1039/d4ee03130j").all()
    assert measured["ccd_source_figure"].str.startswith("Fig.").all()
    assert measured["ccd_value_origin"].isin({"text", "inferred_from_text", "figure_estimate"}).all()


def test_training_cells_keep_censoring_and_the_failed_stacks():
    table = training_cells(load_cells())
    assert len(table) == 8
    failed = table[table["outcome"] == "failed"]
    assert set(failed["cell_id"]) == {"oh2024-w200-mg200", "oh2024-w30-nomg"}
    assert failed["ccd_lower_ma_cm2"].isna().all() and failed["ccd_upper_ma_cm2"].isna().all()
    train = table[table["outcome"] == "ccd"].set_index("candidate")
    assert len(train) == 6
    assert np.isinf(train.loc["W", "ccd_upper_ma_cm2"])  # '> 5.0' stays open above
    assert train.loc["Mg", "ccd_lower_ma_cm2"] == train.loc["Mg", "ccd_upper_ma_cm2"] == 1.3


def test_interfacial_energies_from_the_paper():
    table = load_interfacial_energies()
    computed = table["method"].str.startswith("mlip:")  # values computed here (lithioscreen interface)
    assert (table.loc[computed, "value_origin"] == "computed_mlip").all()
    table = table[~computed]
    exact = table[table["value_kind"] == "exact"].set_index("material")["interfacial_energy_mev_per_a2"]
    assert exact.to_dict() == {"Mo": 81.742, "Ti": 66.799, "Li6PS5Cl": -33.767, "Li2S": 31.678, "LiF": 44.054}
    assert (table["method"] == "dft").all()
    assert set(table.loc[table["value_kind"] != "exact", "material"]) == {"W", "Cr", "Zr"}


def test_phase_data_marks_unknowns_as_unknown():
    phase = load_phase_data().set_index("element")
    assert {"W", "Mo", "Cr", "Ti", "Zr", "Mg", "Al", "Ag", "Au", "Sn", "Si", "Pt", "Ca", "Ba"} <= set(phase.index)
    assert phase.loc["W", "li_x_compounds_exist"] == "no"
    assert phase.loc["Al", "li_x_compound_count"] >= 1
    unknown = phase["li_solubility_qualifier"] == "unknown"
    assert phase.loc[unknown, "max_li_solubility_in_x_at_pct"].isna().all()
    assert phase["reference"].str.len().gt(10).all()


# --- malformed files: every problem is named by file, line and column -------------------------


def _rewrite(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    "old, new, line, column",
    [
        ("oh2024-cr30-mg200,Cr,30,", "oh2024-cr30-mg200,Qq,30,", 4, "overlayer"),
        ("oh2024-cr30-mg200,Cr,30,", "oh2024-cr30-mg200,Cr,-30,", 4, "overlayer_nm"),
        ("4.8,exact,4.8,4.8", "4.8,exact,4.8,abc", 4, "ccd_upper_ma_cm2"),
        ("> 5.0,lower_bound,5.0,", "> 5.0,exact,5.0,", 3, "ccd_upper_ma_cm2"),  # a bound passed off as a value
        ("4.8,exact,4.8,4.8", "480,exact,480,480", 4, "ccd_lower_ma_cm2"),
        ("oh2024-zr30-mg200,", "oh2024-ti30-mg200,", 7, "cell_id"),
        ("Li6PS5Cl,Li,,,1.0,0.1,1.0,1.0,1.3,exact", "Li6PS5Cl,Li,,,1.0,0.1,1.0,1.0,1.3,roughly", 2, "ccd_censoring"),
    ],
)
def test_malformed_cells_are_rejected_with_line_and_column(data_copy, old, new, line, column):
    path = data_copy / "cells.csv"
    _rewrite(path, old, new)
    with pytest.raises(DataValidationError) as info:
        load_cells(path)
    problems = [(p.line, p.column) for p in info.value.problems]
    assert (line, column) in problems
    assert f"line {line}" in str(info.value) and column in str(info.value)


def test_all_problems_are_reported_at_once(data_copy):
    path = data_copy / "cells.csv"
    _rewrite(path, "oh2024-cr30-mg200,Cr,30,", "oh2024-cr30-mg200,Qq,-30,")
    _rewrite(path, "oh2024-mo30-mg200,Mo,30,", "oh2024-mo30-mg200,Mo,x,")
    with pytest.raises(DataValidationError) as info:
        load_cells(path)
    assert {(4, "overlayer"), (4, "overlayer_nm"), (5, "overlayer_nm")} <= {
        (p.line, p.column) for p in info.value.problems
    }


def test_missing_column_empty_and_binary_files(data_copy):
    path = data_copy / "cells.csv"
    original = path.read_text()
    path.write_text(original.replace("ccd_censoring,", "censoring,", 1))
    with pytest.raises(DataValidationError, match="missing column"):
        load_cells(path)
    path.write_text("")
    with pytest.raises(DataValidationError, match="empty"):
        load_cells(path)
    path.write_bytes(original.encode("utf-16"))
    with pytest.raises(DataValidationError, match="UTF-8"):
        load_cells(path)


def test_malformed_phase_data_unknown_written_as_zero(data_copy):
    path = data_copy / "li_binary_phase_data.csv"
    lines = path.read_text().splitlines()
    sc = next(i for i, line in enumerate(lines) if line.startswith("Sc,"))
    lines[sc] = lines[sc].replace("Sc,unknown,,", "Sc,unknown,0,", 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataValidationError) as info:
        load_phase_data(path)
    assert (sc + 1, "li_x_compound_count") in {(p.line, p.column) for p in info.value.problems}


def test_a_failed_cell_needs_its_failure_mode_and_no_ccd(data_copy):
    path = data_copy / "cells.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("text,li_plated_on_overlayer", "text,", 1), encoding="utf-8")
    with pytest.raises(DataValidationError, match="failure_mode"):
        load_cells(path)
    path.write_text(text.replace("failed,,,Fig. S23", "failed,2.0,,Fig. S23", 1), encoding="utf-8")
    with pytest.raises(DataValidationError, match="cannot carry a CCD value"):
        load_cells(path)
    path.write_text(text.replace("Fig. 4d,text,,", "Fig. 4d,text,other,", 1), encoding="utf-8")
    with pytest.raises(DataValidationError, match="only a cell with ccd_censoring 'failed'"):
        load_cells(path)


def test_cells_written_before_the_failure_mode_column_still_load(data_copy):
    import pandas as pd

    path = data_copy / "cells.csv"
    old = pd.read_csv(path, dtype=str, keep_default_na=False)
    old = old[old["ccd_censoring"] != "failed"].drop(columns=["failure_mode"])
    old.to_csv(path, index=False)
    cells = load_cells(path)
    assert (cells["failure_mode"] == "").all() and len(cells) == 6


def test_ccd_orderings_are_the_papers_statements():
    from lithioscreen.data import load_ccd_orderings

    table = load_ccd_orderings()
    pairs = {(row.higher, row.lower, row.relation) for row in table.itertuples()}
    assert (
        ("Cr", "Mo", "greater") in pairs and ("Mo", "Ti", "approx_equal") in pairs and ("Ti", "Zr", "greater") in pairs
    )
    assert (table["doi"] == "10.1039/d4ee03130j").all() and table["quote"].str.len().gt(20).all()


# --------------------------------------------------------------------------- issue 12: ccd_reported must say what the bounds say


@pytest.mark.parametrize(
    "text, kind, lower, upper",
    [
        ("1.3", "exact", 1.3, 1.3),
        ("~4.8 mA/cm2", "exact", 4.8, 4.8),
        ("> 5.0", "lower_bound", 5.0, None),
        (">5", "lower_bound", 5.0, None),
        ("≥ 5.0 mA cm-2", "lower_bound", 5.0, None),
        ("< 2", "upper_bound", None, 2.0),
        ("3.2-4.8", "interval", 3.2, 4.8),
        ("3.2 – 4.8 mA/cm²", "interval", 3.2, 4.8),
        ("between 3.2 and 4.8", "interval", 3.2, 4.8),
        ("not reported", "none", None, None),
        ("failed: Li plated on top of W", "none", None, None),
        ("３０", "none", None, None),  # no ASCII digits: no number
    ],
)
def test_ccd_reported_forms(text, kind, lower, upper):
    from lithioscreen.data.loaders import parse_ccd_reported

    reported = parse_ccd_reported(text)
    assert reported.kind == kind
    assert math.isnan(reported.lower) if lower is None else reported.lower == lower
    assert math.isnan(reported.upper) if upper is None else reported.upper == upper


def _cell(**values):
    import pandas as pd

    row = {
        "ccd_reported": "5.0",
        "ccd_censoring": "exact",
        "ccd_lower_ma_cm2": 5.0,
        "ccd_upper_ma_cm2": 5.0,
        "ccd_source_figure": "lab notebook",
        "underlayer": "Mg",
        "underlayer_nm": 200.0,
        "first_cycle_ce_pct": math.nan,
        "ce_source_figure": "",
        "failure_mode": "",
    }
    return pd.Series(row | values)


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"ccd_reported": "> 5.0", "ccd_censoring": "lower_bound", "ccd_upper_ma_cm2": math.nan},
        # the paper's Mo, Ti, Zr: '> 3.2' in the text, below Cr's 4.8 by the text's ordering
        {"ccd_reported": "> 3.2", "ccd_censoring": "interval", "ccd_lower_ma_cm2": 3.2, "ccd_upper_ma_cm2": 4.8},
        {"ccd_reported": "3.2-4.8", "ccd_censoring": "interval", "ccd_lower_ma_cm2": 3.2, "ccd_upper_ma_cm2": 4.8},
        {
            "ccd_reported": "not reported",
            "ccd_censoring": "not_measured",
            "ccd_lower_ma_cm2": math.nan,
            "ccd_upper_ma_cm2": math.nan,
            "ccd_source_figure": "",
        },
        # the lead's new censoring: a stack that was built and failed, no CCD, free text
        {
            "ccd_reported": "failed: Li plated on top of W",
            "ccd_censoring": "failed",
            "ccd_lower_ma_cm2": math.nan,
            "ccd_upper_ma_cm2": math.nan,
            "failure_mode": "li_plated_on_overlayer",
            "ccd_source_figure": "Fig. S24",
        },
    ],
)
def test_consistent_rows_pass_the_cells_row_check(values):
    from lithioscreen.data.loaders import _cell_censoring

    assert _cell_censoring(_cell(**values)) == []


@pytest.mark.parametrize(
    "values, fragment",
    [
        ({"ccd_reported": "> 5.0", "ccd_lower_ma_cm2": 6.0, "ccd_upper_ma_cm2": 6.0}, "does not agree"),
        ({"ccd_reported": "> 4.0", "ccd_censoring": "lower_bound", "ccd_upper_ma_cm2": math.nan}, "does not agree"),
        ({"ccd_reported": "failed: shorted at 5.0", "ccd_censoring": "failed"}, "cannot carry a CCD value"),
        (
            {
                "ccd_reported": "5.0",
                "ccd_censoring": "failed",
                "ccd_lower_ma_cm2": math.nan,
                "ccd_upper_ma_cm2": math.nan,
                "failure_mode": "other",
            },
            "states a CCD",
        ),
    ],
)
def test_contradicting_rows_fail_the_cells_row_check(values, fragment):
    from lithioscreen.data.loaders import _cell_censoring

    assert any(fragment in message for _, message in _cell_censoring(_cell(**values)))


def test_problems_name_the_line_in_the_file_after_blank_lines_and_quoted_line_breaks(data_copy):
    path = data_copy / "cells.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("oh2024-cr30-mg200,Cr,30,", "oh2024-cr30-mg200,Cr,-30,", 1)  # file line 4
    lines.insert(2, "")  # a blank line before it: now file line 5
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as error:
        load_cells(path)
    assert [(p.line, p.column) for p in error.value.problems] == [(5, "overlayer_nm")]

import pandas as pd
import pytest

from lithioscreen.candidates import (
    CandidateError,
    element_fractions,
    make_candidates,
    parse_overlayer,
    read_candidates_file,
    validate_candidates,
)


def test_elements_and_alloys_parse_to_fractions():
    assert element_fractions("W") == {"W": 1.0}
    assert element_fractions("W0.5Cr0.5") == pytest.approx({"W": 0.5, "Cr": 0.5})
    assert element_fractions("Cr3W") == pytest.approx({"Cr": 0.75, "W": 0.25})


@pytest.mark.parametrize(
    "text, fragment",
    [("Xx", "Xx"), ("", "empty"), ("O", "not a metal"), ("Li", "Li"), ("h2o", "h2o"), ("W2Qq", "Qq")],
)
def test_bad_compositions_are_named(text, fragment):
    with pytest.raises(CandidateError, match=fragment):
        parse_overlayer(text)


def test_stack_defaults_are_the_papers():
    table = make_candidates(["Nb"])
    assert table.iloc[0].to_dict() == {"candidate": "Nb", "overlayer_nm": 30.0, "underlayer": "Mg", "underlayer_nm": 200.0}


def test_no_underlayer_means_zero_thickness():
    table = make_candidates(["W"], underlayer="none", underlayer_nm=200)
    assert table.loc[0, "underlayer"] == "none" and table.loc[0, "underlayer_nm"] == 0


@pytest.mark.parametrize("overlayer_nm, underlayer_nm, fragment", [(-3, 200, "negative"), (0, 200, "above 0"), (30, -1, "negative"), (2e6, 200, "100 µm")])
def test_bad_thicknesses_are_rejected(overlayer_nm, underlayer_nm, fragment):
    with pytest.raises(CandidateError, match=fragment):
        make_candidates(["W"], overlayer_nm=overlayer_nm, underlayer_nm=underlayer_nm)


def test_errors_name_the_row():
    frame = pd.DataFrame({"candidate": ["W", "Nb", "Unobtainium"]})
    with pytest.raises(CandidateError, match="row 3"):
        validate_candidates(frame)


def test_candidates_file(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("candidate,overlayer_nm\nW,30\nNb,50\n")
    table = read_candidates_file(path)
    assert table["overlayer_nm"].tolist() == [30.0, 50.0]
    assert table["underlayer"].tolist() == ["Mg", "Mg"]


def test_candidates_file_without_candidate_column(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("metal\nW\n")
    with pytest.raises(CandidateError, match="'candidate' column"):
        read_candidates_file(path)

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
    assert table.iloc[0].to_dict() == {
        "candidate": "Nb",
        "overlayer_nm": 30.0,
        "underlayer": "Mg",
        "underlayer_nm": 200.0,
    }


def test_no_underlayer_means_zero_thickness():
    table = make_candidates(["W"], underlayer="none", underlayer_nm=200)
    assert table.loc[0, "underlayer"] == "none" and table.loc[0, "underlayer_nm"] == 0


@pytest.mark.parametrize(
    "overlayer_nm, underlayer_nm, fragment",
    [(-3, 200, "negative"), (0, 200, "above 0"), (30, -1, "negative"), (2e6, 200, "100 µm")],
)
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


@pytest.mark.parametrize(
    "overlayer_nm, fragment",
    [
        (1e-300, "below 0.1 nm"),
        (0.01, "below 0.1 nm"),
        (float("nan"), "NaN"),
        (float("inf"), "100 µm"),
        (True, "not a number"),
        ("３０", "not a number"),
        ("3_0", "not a number"),
    ],
)
def test_every_thickness_has_the_physical_limits_of_cells_csv(overlayer_nm, fragment):
    with pytest.raises(CandidateError, match=fragment):
        validate_candidates(pd.DataFrame({"candidate": ["W"], "overlayer_nm": [overlayer_nm]}))
    assert make_candidates(["W"], overlayer_nm=0.1).loc[0, "overlayer_nm"] == 0.1  # a monolayer's half is the floor


def test_underlayer_thickness_below_a_monolayer_is_refused():
    with pytest.raises(CandidateError, match="underlayer_nm 1e-300 nm is below"):
        make_candidates(["W"], underlayer_nm=1e-300)


@pytest.mark.parametrize("text", ["W1e308Cr1e308", "W1e309", "W1e308Cr1e308Mo1"])
def test_amounts_that_do_not_normalise_are_refused(text):
    from lithioscreen.candidates import check_overlayer

    with pytest.raises(CandidateError, match="do not normalise"):
        check_overlayer(text)
    with pytest.raises(CandidateError, match="do not normalise"):
        parse_overlayer(text)
    assert element_fractions("W1e300") == {"W": 1.0}  # large but finite amounts still normalise


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1e9, "nan", True])
def test_threshold_must_be_a_finite_physical_value(value):
    from lithioscreen.candidates import check_threshold

    with pytest.raises(CandidateError, match="threshold"):
        check_threshold(value)


def test_a_candidates_path_that_is_no_file_is_a_one_line_error(tmp_path):
    import os
    import threading

    with pytest.raises(CandidateError, match="is a folder"):
        read_candidates_file(tmp_path)
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    raised = []

    def read():
        try:
            read_candidates_file(fifo)
        except CandidateError as error:
            raised.append(str(error))

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(10)
    assert raised and "not a regular file" in raised[0]  # answered at once, not blocked on the open


def test_candidates_file_above_the_cap_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("candidate\n" + "W\n" * 11)
    with pytest.raises(CandidateError, match="more than 10 rows.*`max_candidates`"):
        read_candidates_file(path, max_rows=10)
    assert len(read_candidates_file(path, max_rows=11)) == 11

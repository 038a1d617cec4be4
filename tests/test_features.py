import warnings

import numpy as np
import pandas as pd
import pytest
from interface_helpers import committee_table, computed_row, dft_rows
from matminer.featurizers.composition import ElementProperty
from pymatgen.core import Composition

from lithioscreen.candidates import make_candidates
from lithioscreen.features import (
    InterfacialEnergyFeaturizer,
    LayerGeometryFeaturizer,
    LiPhaseDiagramFeaturizer,
    MagpieFeaturizer,
    make_featurizer,
)

PAPER_METALS = ["W", "Cr", "Mo", "Ti", "Zr", "Mg"]


@pytest.fixture(scope="module")
def candidates():
    return make_candidates(PAPER_METALS + ["Nb", "Ta", "Pd", "Cr0.5W0.5", "Al"])


@pytest.fixture(scope="module")
def energies(candidates):
    featurizer = InterfacialEnergyFeaturizer().fit()
    return featurizer.transform(candidates).set_index(candidates["candidate"])


def test_feature_names_match_columns(candidates):
    for featurizer in (
        InterfacialEnergyFeaturizer(),
        LiPhaseDiagramFeaturizer(),
        LayerGeometryFeaturizer(),
        MagpieFeaturizer(),
    ):
        out = featurizer.fit(candidates).transform(candidates)
        assert list(out.columns) == list(featurizer.get_feature_names_out())
        assert len(out) == len(candidates)


def test_union_is_a_dataframe_with_plain_names(candidates):
    table = make_featurizer().fit(candidates).transform(candidates)
    assert "interfacial_energy_mev_per_a2" in table.columns and "magpie_mean_number" in table.columns
    assert len(table.columns) == len(set(table.columns)) > 140


def test_magpie_matches_matminer(candidates):
    ours = MagpieFeaturizer().fit().transform(candidates)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = ElementProperty.from_preset("magpie").featurize(Composition("Cr0.5W0.5"))
    row = list(candidates["candidate"]).index("Cr0.5W0.5")
    np.testing.assert_allclose(ours.iloc[row].to_numpy(float), np.asarray(reference, float), rtol=1e-12, equal_nan=True)


def _synthetic_featurizer(extra=(), maps=None, noise=None):
    """Featurizer on a synthetic table: the references computed by two potentials (raw = (dft - a)/b,
    Ti off its line by ``noise``), plus ``extra`` computed rows."""
    table = committee_table(maps or {"chgnet": (0.0, 1.1), "sevennet": (0.0, 0.9)}, extra=extra, noise=noise)
    return InterfacialEnergyFeaturizer(table).fit()


def _both(material, plane, value):
    """The same material and plane computed by both potentials, raw values giving ``value`` calibrated."""
    return [
        computed_row(material, plane, "chgnet", value / 1.1),
        computed_row(material, plane, "sevennet", value / 0.9),
    ]


METALS = [("Cr", 130.0), ("W", 95.0), ("Zr", 50.0), ("Nb", 70.0), ("Ta", 80.0), ("Hf", 45.0), ("Mg", 5.0)]


def test_every_metal_is_on_the_calibrated_committee_scale():
    extra = [row for metal, value in METALS for row in _both(metal, "110", value)]
    featurizer = _synthetic_featurizer(extra, noise={("Ti", "chgnet"): 8.0})
    names = ["Mo", "Ti", "Cr", "W", "Nb", "Mn", "Cr0.5W0.5"]
    energies = featurizer.transform(make_candidates(names)).set_index(pd.Index(names))
    committee = featurizer.calibration_.per_material
    for metal in ("Mo", "Ti", "Cr", "W", "Nb"):
        row = energies.loc[metal]
        assert row["interfacial_energy_source"] == "mlip:committee+calibrated"
        assert row["interfacial_energy_mev_per_a2"] == pytest.approx(committee.loc[metal, "calibrated_mev_per_a2"])
        assert row["interfacial_energy_std_mev_per_a2"] == pytest.approx(committee.loc[metal, "std_mev_per_a2"])
    # DFT is shown beside the computed value, never substituted for it (Ti is off its line)
    assert energies.loc["Ti", "interfacial_energy_dft_mev_per_a2"] == 66.799
    assert energies.loc["Ti", "interfacial_energy_mev_per_a2"] != pytest.approx(66.799, abs=0.5)
    assert energies[["interfacial_energy_dft_mev_per_a2"]].loc[["Cr", "Nb", "Mn", "Cr0.5W0.5"]].isna().all().all()
    # a metal the builder cannot handle gets the surrogate, fitted on the calibrated metals, σ at least the calibration's
    mn = energies.loc["Mn"]
    assert mn["interfacial_energy_source"] == "surrogate+calibrated"
    assert mn["interfacial_energy_std_mev_per_a2"] >= featurizer.calibration_std_ > 0
    assert set(featurizer.surrogate_training_.index) == {metal for metal, _ in METALS} | {"Mo", "Ti"}
    # an alloy interpolates its elements' values and σ
    alloy, cr, w = (energies.loc[name] for name in ("Cr0.5W0.5", "Cr", "W"))
    assert alloy["interfacial_energy_source"] == "interpolated:mlip:committee+calibrated"
    assert alloy["interfacial_energy_mev_per_a2"] == pytest.approx(
        (cr["interfacial_energy_mev_per_a2"] + w["interfacial_energy_mev_per_a2"]) / 2
    )


def test_no_value_is_clipped_to_a_bound():
    """W computed below the paper's ~100 meV/Å² stays below it: the bound inferred from W's CCD is not used."""
    extra = [row for metal, value in METALS for row in _both(metal, "110", value)]
    with_bound = _synthetic_featurizer(extra)  # dft_rows() holds a W lower bound inferred from text
    w = with_bound.transform(make_candidates(["W"])).iloc[0]
    assert w["interfacial_energy_mev_per_a2"] == pytest.approx(95.0, abs=1e-6)
    assert w["interfacial_energy_source"] == "mlip:committee+calibrated"


def test_without_a_calibration_nothing_gets_a_value():
    table = pd.DataFrame(dft_rows())  # the paper's DFT values, nothing computed
    featurizer = InterfacialEnergyFeaturizer(table).fit()
    assert featurizer.calibration_ is None and "no computed" in featurizer.calibration_error_
    energies = featurizer.transform(make_candidates(["Mo", "Nb"]))
    assert (energies["interfacial_energy_source"] == "unavailable").all()
    assert energies["interfacial_energy_mev_per_a2"].isna().all()
    assert energies["interfacial_energy_dft_mev_per_a2"].iloc[0] == 81.742  # still shown


def test_the_surrogate_needs_enough_computed_metals():
    featurizer = _synthetic_featurizer()  # only Mo and Ti are computed metals
    assert featurizer.surrogate_ is None
    nb = featurizer.transform(make_candidates(["Nb"])).iloc[0]
    assert nb["interfacial_energy_source"] == "unavailable" and np.isnan(nb["interfacial_energy_mev_per_a2"])


def test_shipped_data_puts_the_paper_metals_on_one_scale(energies):
    """The shipped data: the paper's six metals come from the calibrated committee, with their DFT beside."""
    for metal in ("W", "Cr", "Mo", "Ti", "Zr", "Mg"):
        assert energies.loc[metal, "interfacial_energy_source"] == "mlip:committee+calibrated", metal
        assert energies.loc[metal, "interfacial_energy_std_mev_per_a2"] > 0
    assert energies.loc["Mo", "interfacial_energy_dft_mev_per_a2"] == 81.742
    assert np.isnan(energies.loc["W", "interfacial_energy_dft_mev_per_a2"])
    # lithiophilic Mg binds Li: its interface should cost less than any lithiophobic metal's
    assert energies.loc["Mg", "interfacial_energy_mev_per_a2"] < energies.loc["Ti", "interfacial_energy_mev_per_a2"]
    alloy = energies.loc["Cr0.5W0.5"]
    assert alloy["interfacial_energy_source"].startswith("interpolated:")


def test_phase_diagram_descriptors(candidates):
    table = LiPhaseDiagramFeaturizer().fit().transform(candidates).set_index(candidates["candidate"])
    assert table.loc["W", "li_x_compound_count"] == 0 and table.loc["W", "li_solubility_in_x_at_pct"] < 1
    assert table.loc["Al", "li_x_forms_compounds"] == 1
    assert table.loc["Mg", "li_solubility_in_x_at_pct"] > 5
    assert (
        table.loc["W", "li_x_mixing_enthalpy_ev_per_atom"] > 0.3 > table.loc["Mg", "li_x_mixing_enthalpy_ev_per_atom"]
    )


def test_unknown_phase_data_stays_nan():
    phase = pd.DataFrame(
        [
            {
                "element": "W",
                "li_x_compounds_exist": "unknown",
                "li_x_compound_count": np.nan,
                "li_x_compounds": "",
                "max_li_solubility_in_x_at_pct": np.nan,
                "li_solubility_qualifier": "unknown",
                "li_x_miscibility": "unknown",
            }
        ]
    )
    table = LiPhaseDiagramFeaturizer(phase).fit().transform(make_candidates(["W", "Nb"]))
    assert table[["li_solubility_in_x_at_pct", "li_x_compound_count"]].isna().all().all()
    assert table["li_phase_data_available"].tolist() == [1.0, 0.0]


def test_geometry():
    table = LayerGeometryFeaturizer().fit().transform(make_candidates(["W"], overlayer_nm=200, underlayer="none"))
    assert table.iloc[0].to_dict() == pytest.approx(
        {"overlayer_nm": 200.0, "overlayer_log10_nm": np.log10(200), "underlayer_present": 0.0, "underlayer_nm": 0.0}
    )

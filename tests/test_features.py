import warnings

import numpy as np
import pandas as pd
import pytest
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


def test_dft_values_are_used_where_the_paper_has_them(energies):
    assert energies.loc["Mo", "interfacial_energy_mev_per_a2"] == 81.742
    assert energies.loc["Ti", "interfacial_energy_mev_per_a2"] == 66.799
    assert energies.loc["Mo", "interfacial_energy_source"] == "dft"
    assert energies.loc["Mo", "interfacial_energy_std_mev_per_a2"] == 0


def test_bounds_from_the_paper_hold(energies):
    for metal in ("W", "Cr"):
        assert energies.loc[metal, "interfacial_energy_mev_per_a2"] >= 100
        # a bounded surrogate, or a value computed with a potential (checked against the bounds)
        source = energies.loc[metal, "interfacial_energy_source"]
        assert source == "surrogate+dft_bounds" or source.startswith("mlip:")
    assert 44.054 <= energies.loc["Zr", "interfacial_energy_mev_per_a2"] <= 66.799
    order = energies.loc[["Cr", "Mo", "Ti", "Zr"], "interfacial_energy_mev_per_a2"]
    assert order.is_monotonic_decreasing  # the paper's Cr > Mo > Ti > Zr


def test_untabulated_metals_get_a_surrogate_with_uncertainty(energies):
    # metals without a DFT or MLIP value in the shipped data (the CHGNet fits of Nb, Ta and Pd were refused)
    for candidate in ("Nb", "Ta", "Pd"):
        assert energies.loc[candidate, "interfacial_energy_source"] == "surrogate"
        assert energies.loc[candidate, "interfacial_energy_std_mev_per_a2"] > 1
    # an alloy interpolates its elements' values (and their σ) on their own sources
    cr, w, alloy = (energies.loc[name] for name in ("Cr", "W", "Cr0.5W0.5"))
    assert alloy["interfacial_energy_mev_per_a2"] == pytest.approx(
        (cr["interfacial_energy_mev_per_a2"] + w["interfacial_energy_mev_per_a2"]) / 2
    )
    assert alloy["interfacial_energy_source"].startswith("interpolated:")
    # lithiophilic Mg binds Li: its interface should cost less than any lithiophobic metal's
    assert energies.loc["Mg", "interfacial_energy_mev_per_a2"] < energies.loc["Ti", "interfacial_energy_mev_per_a2"]


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


def test_mlip_error_std_is_each_potentials_rms_against_exact_dft():
    import pandas as pd

    from lithioscreen.features.interfacial_energy import MLIP_ERROR_STD_MEV_PER_A2, mlip_error_std

    def row(material, method, value, plane="(100)", kind="exact"):
        return {
            "material": material,
            "material_class": "metal",
            "method": method,
            "li_plane": plane,
            "value_kind": kind,
            "interfacial_energy_mev_per_a2": value,
        }

    table = pd.DataFrame(
        [
            row("Mo", "dft", 80.0),
            row("Ti", "dft", 60.0),
            row("W", "dft", None, kind="lower_bound"),
            row("Mo", "mlip:a", 70.0),
            row("Mo", "mlip:a", 65.0),
            row("Ti", "mlip:a", 60.0),  # highest Mo plane counts
            row("Mo", "mlip:b", 90.0, plane="(110)"),  # not against Li(100): ignored
            row("W", "mlip:c", 120.0),  # no exact DFT to compare with
        ]
    )
    errors = mlip_error_std(table)
    assert errors["mlip:a"] == pytest.approx(np.sqrt((10.0**2 + 0.0**2) / 2))
    assert errors["mlip:c"] == MLIP_ERROR_STD_MEV_PER_A2
    assert "mlip:b" not in errors

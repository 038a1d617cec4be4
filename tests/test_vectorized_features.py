"""The vectorized featurizers against matminer itself, feature by feature, on random compositions."""

import warnings

import numpy as np
import pytest

from lithioscreen import elements as element_data
from lithioscreen.compositions import from_formulas, parse_formula
from lithioscreen.features._vectorized import MIEDEMA_LABELS, magpie_features, magpie_labels, miedema_enthalpies
from lithioscreen.features.phase_diagram import li_miedema_columns

RTOL = 1e-9


@pytest.fixture(scope="module")
def matminer():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from matminer.featurizers.composition import ElementProperty
        from matminer.featurizers.composition.alloy import Miedema
    return ElementProperty.from_preset("magpie"), Miedema(struct_types="all", ss_types="min")


def _metals() -> list[str]:
    """Every metal and metalloid pymatgen gives an electronegativity (matminer's Miedema sorts by it)."""
    from pymatgen.core import Element

    x = element_data.pauling_electronegativity()
    return [
        symbol
        for index, symbol in enumerate(element_data.symbols())
        if (Element(symbol).is_metal or Element(symbol).is_metalloid) and np.isfinite(x[index])
    ]


@pytest.fixture(scope="module")
def compositions() -> list[str]:
    """300 seeded random compositions: binaries and ternaries of 84 metals (Miedema-imputed ones included),
    some equiatomic (ties for Magpie's mode), some written unnormalised."""
    rng = np.random.default_rng(20240611)
    metals = _metals()
    out = []
    for i in range(300):
        k = 2 + i % 2
        chosen = rng.choice(metals, size=k, replace=False)
        fractions = np.full(k, 1 / k) if i % 10 == 0 else rng.dirichlet(np.ones(k))
        scale = 3.0 if i % 7 == 0 else 1.0
        out.append("".join(f"{symbol}{scale * fraction:.4f}" for symbol, fraction in zip(chosen, fractions)))
    return out + ["W", "Mg", "Cu0.5Si0.5", "Si0.5Cu0.5", "Cr3W", "Ti2Al0.5Nb"]


def _compare(ours: np.ndarray, reference: np.ndarray, labels, formulas) -> None:
    bad = ~np.isclose(ours, reference, rtol=RTOL, atol=0, equal_nan=True)
    where = [
        f"{formulas[i]} {labels[j]}: {ours[i, j]!r} vs matminer {reference[i, j]!r}" for i, j in zip(*np.nonzero(bad))
    ]
    assert not where, f"{len(where)} values differ, e.g. " + "; ".join(where[:5])


def test_magpie_labels_are_matminers(matminer):
    assert magpie_labels() == matminer[0].feature_labels()


def test_magpie_equals_matminer(matminer, compositions):
    from pymatgen.core import Composition

    reference = np.array([matminer[0].featurize(Composition(formula)) for formula in compositions], dtype=float)
    ours = magpie_features(from_formulas(compositions))
    assert ours.shape == reference.shape == (len(compositions), 132)
    _compare(ours, reference, magpie_labels(), compositions)


def test_miedema_equals_matminer(matminer, compositions):
    from pymatgen.core import Composition

    assert list(MIEDEMA_LABELS) == matminer[1].feature_labels()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = np.array([matminer[1].featurize(Composition(formula)) for formula in compositions], dtype=float)
    values = miedema_enthalpies(from_formulas(compositions))
    _compare(np.column_stack([values[label] for label in MIEDEMA_LABELS]), reference, MIEDEMA_LABELS, compositions)


def test_li_x_mixing_is_the_binary_weighted_rule_on_matminers_binaries(matminer, compositions):
    """What the phase-diagram featurizer reports: each element's binary Li0.5X0.5 (matminer's Miedema),
    weighted by the atomic fractions of the overlayer."""
    from pymatgen.core import Composition

    subset = compositions[::5]
    ours = li_miedema_columns(from_formulas(subset))
    binaries = {}
    for formula, ss, inter, amor in zip(
        subset,
        ours["li_x_mixing_enthalpy_ev_per_atom"],
        ours["li_x_miedema_intermetallic_enthalpy_ev_per_atom"],
        ours["li_x_miedema_amorphous_enthalpy_ev_per_atom"],
    ):
        overlayer = Composition(formula).fractional_composition
        expected = np.zeros(3)
        for element, fraction in overlayer.items():
            if element.symbol not in binaries:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    binaries[element.symbol] = np.asarray(
                        matminer[1].featurize(Composition({"Li": 0.5, element.symbol: 0.5})), float
                    )
            expected = expected + fraction * binaries[element.symbol]
        np.testing.assert_allclose([inter, amor, ss], expected, rtol=1e-9, atol=1e-12, err_msg=formula)


def test_an_alloy_of_two_lithiophobic_metals_mixes_between_them():
    values = li_miedema_columns(from_formulas(["Mo", "W", "Mo0.5W0.5", "Cr0.99W0.01", "Cr"]))[
        "li_x_mixing_enthalpy_ev_per_atom"
    ]
    mo, w, alloy, almost_cr, cr = values
    assert min(mo, w) <= alloy <= max(mo, w)
    assert abs(alloy - (mo + w) / 2) < 1e-12
    assert abs(almost_cr - cr) < 0.01 * abs(w - cr) + 1e-12


def test_element_tables_are_pymatgens():
    from pymatgen.core import Element

    x, volume = element_data.pauling_electronegativity(), element_data.molar_volume_cm3()
    for z, symbol in enumerate(element_data.symbols(), start=1):
        element = Element(symbol)
        assert element.Z == z
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected_x, expected_volume = element.X, element.molar_volume
        np.testing.assert_equal(x[z - 1], expected_x)
        np.testing.assert_equal(volume[z - 1], float(expected_volume) if expected_volume else np.nan)


def test_parser_keeps_written_order_and_falls_back_to_pymatgen():
    assert parse_formula("W0.7Cr0.3") == [("W", 0.7), ("Cr", 0.3)]
    assert parse_formula("CrWCr") == [("Cr", 2.0), ("W", 1.0)]
    assert dict(parse_formula("(CrW)2Mo")) == {"Cr": 2.0, "W": 2.0, "Mo": 1.0}
    matrix = from_formulas(["Cr3W", "W"])
    np.testing.assert_allclose(matrix.fractions, [[0.75, 0.25], [1.0, 0.0]])
    np.testing.assert_array_equal(matrix.dense().sum(axis=1), [1.0, 1.0])
    with pytest.raises(ValueError, match="Qq"):
        parse_formula("W2Qq")


@pytest.mark.parametrize("formula", ["W1e308Cr1e308", "W1e309", "Cr1e308W1e308Mo1"])
def test_amounts_that_overflow_do_not_become_fractions(formula):
    """W1e308Cr1e308 overflowed (RuntimeWarning) into NaN fractions and a nonsense prediction."""
    from lithioscreen.compositions import plain_formula_symbols

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning on the way either
        with pytest.raises(ValueError, match="do not normalise"):
            parse_formula(formula)
        with pytest.raises(ValueError, match="do not normalise"):
            from_formulas([formula])
    assert plain_formula_symbols(formula) is None  # not a plain formula the fast path may pass unchecked
    assert from_formulas(["W1e300Cr1e300"]).fractions.tolist() == [[0.5, 0.5]]


@pytest.mark.slow
def test_threads_featurizing_different_tables_never_get_each_others_matrix():
    """The shared last-call caches hold one (key, value) tuple, so a thread never pairs one table with another's."""
    from concurrent.futures import ThreadPoolExecutor

    import pandas as pd

    from lithioscreen.features.base import distinct_compositions

    tables = [pd.DataFrame({"candidate": names}) for names in (["W", "Cr"], ["Mo", "Nb", "Ta"], ["Zr0.5Ti0.5"])]
    expected = [from_formulas(list(table["candidate"])).elements for table in tables]

    def featurize(index):
        table = tables[index % len(tables)]
        _, uniques, matrix = distinct_compositions(table)
        miedema = li_miedema_columns(matrix)
        return (
            uniques == list(table["candidate"])
            and np.array_equal(matrix.elements, expected[index % len(tables)])
            and all(len(values) == len(table) for values in miedema.values())
        )

    import sys

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to expose a torn read
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert all(pool.map(featurize, range(3000)))
    finally:
        sys.setswitchinterval(interval)

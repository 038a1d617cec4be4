"""matminer's Magpie and Miedema featurizers, vectorized over compositions.

Both take a :class:`~lithioscreen.compositions.CompositionMatrix` and compute
every composition at once with numpy, from the same element tables matminer uses
(:mod:`lithioscreen.elements`) and the same formulas, term by term:

* :func:`magpie_features` = ``ElementProperty.from_preset("magpie").featurize`` (22 properties x
  minimum, maximum, range, mean, avg_dev, mode; ``PropertyStats`` definitions: the mean and the
  mean absolute deviation are fraction-weighted, the mode is the smallest value among the
  elements whose fraction is ``np.isclose`` to the largest fraction).
* :func:`miedema_enthalpies` = ``Miedema(struct_types="all", ss_types="min").featurize``
  (eV/atom): elements sorted by Pauling electronegativity (ties kept in written order, as
  Python's stable ``sorted`` does), a multi-component composition summed over its binary
  sub-systems with the full-composition fractions, chemical + elastic + structural (solid
  solution, minimum over fcc/bcc/hcp/no lattice), chemical (intermetallic), chemical +
  topological (amorphous); kJ/mol divided by 96.4853.

``tests/test_vectorized_features.py`` checks every output against matminer's own featurize on
hundreds of random binary and ternary compositions, to 1e-9 relative.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lithioscreen import elements as element_tables
from lithioscreen.compositions import CompositionMatrix

MAGPIE_PROPERTIES = (
    "Number",
    "MendeleevNumber",
    "AtomicWeight",
    "MeltingT",
    "Column",
    "Row",
    "CovalentRadius",
    "Electronegativity",
    "NsValence",
    "NpValence",
    "NdValence",
    "NfValence",
    "NValence",
    "NsUnfilled",
    "NpUnfilled",
    "NdUnfilled",
    "NfUnfilled",
    "NUnfilled",
    "GSvolume_pa",
    "GSbandgap",
    "GSmagmom",
    "SpaceGroupNumber",
)
MAGPIE_STATS = ("minimum", "maximum", "range", "mean", "avg_dev", "mode")
MIEDEMA_LABELS = ("Miedema_deltaH_inter", "Miedema_deltaH_amor", "Miedema_deltaH_ss_min")
KJ_PER_MOL_PER_EV = 96.4853


def magpie_labels() -> list[str]:
    """matminer's labels, ``"MagpieData <stat> <property>"``, in its order.

    Returns
    -------
    list of str
        132 labels: for each of the 22 properties, its six statistics.
    """
    return [f"MagpieData {stat} {prop}" for prop in MAGPIE_PROPERTIES for stat in MAGPIE_STATS]


@lru_cache(maxsize=1)
def _magpie_table() -> np.ndarray:
    return element_tables.magpie_table(MAGPIE_PROPERTIES)


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``np.average`` over the slots (axis 1) of ``(n, k, properties)`` values, summed in slot order
    as numpy sums a short list, so that the result is bit-identical to matminer's."""
    numerator = np.zeros((values.shape[0], values.shape[2]))
    denominator = np.zeros((values.shape[0], 1))
    for slot in range(values.shape[1]):
        numerator = numerator + values[:, slot, :] * weights[:, slot, None]
        denominator = denominator + weights[:, slot, None]
    return numerator / denominator


def magpie_features(matrix: CompositionMatrix) -> np.ndarray:
    """Magpie features of every composition, as matminer computes them.

    Parameters
    ----------
    matrix : lithioscreen.compositions.CompositionMatrix
        ``n`` compositions; statistics are weighted by the amounts as written where known.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, 132)``, columns in :func:`magpie_labels` order, in matminer's units.
    """
    table = _magpie_table()
    present = matrix.present
    weights = np.where(present, matrix.weights, 0.0)
    n, k = present.shape
    n_stats = len(MAGPIE_STATS)
    values = table[np.maximum(matrix.elements, 0)]  # (n, k, properties)
    mask = present[:, :, None]
    top = weights.max(axis=1, keepdims=True)
    most = (present & (np.abs(weights - top) <= 1e-8 + 1e-5 * np.abs(top)))[:, :, None]  # np.isclose(weights, max)
    out = np.empty((n, len(MAGPIE_PROPERTIES) * n_stats))
    low = np.where(mask, values, np.inf).min(axis=1)
    high = np.where(mask, values, -np.inf).max(axis=1)
    mean = _weighted_mean(np.where(mask, values, 0.0), weights)
    deviation = _weighted_mean(np.where(mask, np.abs(values - mean[:, None, :]), 0.0), weights)
    out[:, 0::n_stats] = low
    out[:, 1::n_stats] = high
    out[:, 2::n_stats] = high - low
    out[:, 3::n_stats] = mean
    out[:, 4::n_stats] = deviation
    out[:, 5::n_stats] = np.where(most, values, np.inf).min(axis=1)
    return out


# --- Miedema -----------------------------------------------------------------------------------

_LATTICE_KEYS = np.array(
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 5.5, 6.0, 7.0, 8.0, 8.5, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0]
)
_LATTICE_STABILITY = {  # kJ/mol, matminer's Miedema.deltaH_struct tables at the keys above
    "fcc": np.array([0.0, 0, 0, -2, -1.5, 9.0, 14.0, 11.0, -3.0, -9.5, -11.0, -9.0, -2.0, 1.5, 0.0, 0.0, 0.0, 0.0]),
    "bcc": np.array([0.0, 0.0, 0.0, 2.2, 2.0, -9.5, -14.5, -12.0, 4.0, 10.0, 11.0, 8.5, 1.5, 1.5, 0.0, 0.0, 0.0, 0.0]),
    "hcp": np.array(
        [0.0, 0.0, 0.0, -2.5, -2.5, 10.0, 15.0, 13.0, -5.0, -10.5, -11.0, -8.0, -1.0, 2.5, 0.0, 0.0, 0.0, 0.0]
    ),
}
_GAMMA = {"inter": 8.0, "amor": 5.0, "ss": 0.0}


def _sorted_by_electronegativity(matrix: CompositionMatrix) -> tuple[np.ndarray, np.ndarray]:
    """Slots reordered by Pauling electronegativity (stable: ties keep the written order); empty slots last."""
    x = matrix.element_column(element_tables.pauling_electronegativity(), fill=np.inf)
    order = np.argsort(x, axis=1, kind="stable")
    return np.take_along_axis(matrix.elements, order, axis=1), np.take_along_axis(matrix.fractions, order, axis=1)


def _chemical(p: dict, a: int, b: int, frac: np.ndarray) -> dict[str, np.ndarray]:
    """``Miedema.deltaH_chem`` of the pair (slot a, slot b) for each structure type, kJ/mol."""
    fa, fb = frac[:, a], frac[:, b]
    va, vb = p["v23"][:, a], p["v23"][:, b]
    ea, eb = p["elec"][:, a], p["elec"][:, b]
    dot = fa * va + fb * vb
    ca, cb = fa * va / dot, fb * vb / dot
    in_a, in_b = p["transition"][:, a], p["transition"][:, b]
    both, neither = in_a & in_b, ~in_a & ~in_b
    p_const = np.where(both, 14.1, np.where(neither, 10.7, 12.35))
    r_const = np.where(both | neither, 0.0, p["R"][:, a] * p["R"][:, b] * p_const)
    q_const = p_const * 9.4
    na, nb = p["n13"][:, a], p["n13"][:, b]
    eta = 2 * (-p_const * np.power(ea - eb, 2) - r_const + q_const * np.power(na - nb, 2)) / (1 / na + 1 / nb)
    transformation = fa * p["h_trans"][:, a] + fb * p["h_trans"][:, b]
    a_a, a_b, difference = p["a"][:, a], p["a"][:, b], ea - eb
    out = {}
    for struct, gamma in _GAMMA.items():
        scale = 1 + gamma * np.power(ca * cb, 2)
        f0, f1 = cb * scale, ca * scale  # reversed, as in matminer
        va_a = va * (1 + a_a * f0 * difference)
        vb_a = vb * (1 + a_b * f1 * (eb - ea))
        dot_a = fa * va_a + fb * vb_a
        ca_a, cb_a = fa * va_a / dot_a, fb * vb_a / dot_a
        fa_a = cb_a * (1 + gamma * np.power(ca_a * cb_a, 2))
        out[struct] = fa_a * fa * va_a * eta + transformation
    return out


def _elastic(p: dict, a: int, b: int, frac: np.ndarray) -> np.ndarray:
    """``Miedema.deltaH_elast`` of the pair (slot a, slot b), kJ/mol."""
    fa, fb = frac[:, a], frac[:, b]
    v0, v1 = p["v"][:, a], p["v"][:, b]
    n0, n1 = p["n"][:, a], p["n"][:, b]
    e0, e1 = p["elec"][:, a], p["elec"][:, b]
    k0, k1 = p["compr"][:, a], p["compr"][:, b]
    g0, g1 = p["shear"][:, a], p["shear"][:, b]
    inverse = 1 / p["n13"][:, a] + 1 / p["n13"][:, b]
    alp0, alp1 = 1.5 * p["v23"][:, a] / inverse, 1.5 * p["v23"][:, b] / inverse
    va0 = v0 + alp0 * (e0 - e1) / n0
    va1 = v1 + alp1 * (e1 - e0) / n1
    alp_a0 = 1.5 * np.power(np.abs(va0), 2 / 3) / inverse
    alp_a1 = 1.5 * np.power(np.abs(va1), 2 / 3) / inverse
    vab0 = v0 + alp_a0 * (e0 - e1) / n0
    vab1 = v0 + alp_a1 * (e1 - e0) / n0
    vba0 = v1 + alp_a0 * (e0 - e1) / n1
    vba1 = v1 + alp_a1 * (e1 - e0) / n1
    with np.errstate(invalid="ignore", divide="ignore"):
        hab = (2 * k0 * g1 * np.power(vab0 - vba0, 2)) / (4 * g1 * vab0 + 3 * k0 * vba0)
        hba = (2 * k1 * g0 * np.power(vba1 - vab1, 2)) / (4 * g0 * vba1 + 3 * k1 * vab1)
    rigid = (k0 == 0) & (k1 == 0) & (g0 == 0) & (g1 == 0)
    hab = np.where(rigid, 0.0, hab)
    hba = np.where(rigid, 0.0, hba)
    return fa * fb * (fb * hab + fa * hba)


def _structural(valence_mean: np.ndarray, stability_mean: np.ndarray, lattice: str) -> np.ndarray:
    """``Miedema.deltaH_struct`` for one lattice, kJ/mol (piecewise-linear lattice stability)."""
    stability = _LATTICE_STABILITY[lattice]
    upper_index = np.searchsorted(_LATTICE_KEYS, valence_mean, side="left")  # first key >= mean
    beyond = upper_index >= len(_LATTICE_KEYS)  # matminer's loop never breaks: upper stays 0
    upper_index = np.minimum(upper_index, len(_LATTICE_KEYS) - 1)
    upper = np.where(beyond, 0.0, _LATTICE_KEYS[upper_index])
    upper_value = np.where(beyond, stability[0], stability[upper_index])
    lower_index = np.where(beyond, len(_LATTICE_KEYS) - 1, upper_index - 1)
    lower = np.where(lower_index >= 0, _LATTICE_KEYS[np.maximum(lower_index, 0)], 0.0)
    lower_value = np.where(lower_index >= 0, stability[np.maximum(lower_index, 0)], stability[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        lattice_stability = (valence_mean - lower) * upper_value / (upper - lower) + (
            upper - valence_mean
        ) * lower_value / (upper - lower)
    return lattice_stability - stability_mean


def miedema_enthalpies(matrix: CompositionMatrix) -> dict[str, np.ndarray]:
    """Miedema formation enthalpies keyed by matminer's labels (:data:`MIEDEMA_LABELS`).

    Parameters
    ----------
    matrix : lithioscreen.compositions.CompositionMatrix
        ``n`` compositions (atomic fractions are used, not the amounts as written).

    Returns
    -------
    dict of str to numpy.ndarray
        Intermetallic, amorphous and minimum solid-solution enthalpies, eV/atom, shape ``(n,)`` each.
    """
    elements, frac = _sorted_by_electronegativity(CompositionMatrix(matrix.elements, matrix.fractions))
    present = elements >= 0
    frac = np.where(present, frac, 0.0)
    table = element_tables.miedema_table()
    safe = np.maximum(elements, 0)

    def column(name: str) -> np.ndarray:
        return np.where(present, table[name][safe], np.nan)

    valence = column("valence_electrons")
    p = {
        "v": column("molar_volume"),
        "v23": np.power(column("molar_volume"), 2 / 3),
        "n": column("electron_density"),
        "n13": np.power(column("electron_density"), 1 / 3),
        "elec": column("electronegativity"),
        "a": column("a_const"),
        "R": column("R_const"),
        "h_trans": column("H_trans"),
        "compr": column("compressibility"),
        "shear": column("shear_modulus"),
        # matminer: `valence in range(3, 12)`, true only for the integers 3..11
        "transition": (valence == np.round(valence)) & (valence >= 3) & (valence <= 11),
    }
    n, k = elements.shape
    chem = {struct: np.zeros(n) for struct in _GAMMA}
    elastic = np.zeros(n)
    for a in range(k - 1):
        for b in range(a + 1, k):
            pair = present[:, a] & present[:, b]
            if not pair.any():
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                for struct, value in _chemical(p, a, b, frac).items():
                    chem[struct] = chem[struct] + np.where(pair, value, 0.0)
                elastic = elastic + np.where(pair, _elastic(p, a, b, frac), 0.0)
    valence_mean = _slot_dot(frac, np.where(present, valence, 0.0))
    stability_mean = _slot_dot(frac, np.where(present, column("structural_stability"), 0.0))
    solid = chem["ss"] + elastic
    ss_min = solid + _structural(valence_mean, stability_mean, "fcc")
    for lattice in ("bcc", "hcp"):
        ss_min = np.minimum(ss_min, solid + _structural(valence_mean, stability_mean, lattice))
    ss_min = np.minimum(ss_min, solid)  # "no_latt": no structural term
    topological = 3.5 * _slot_dot(frac, np.where(present, column("melting_point"), 0.0)) / 1000
    return {
        "Miedema_deltaH_inter": chem["inter"] / KJ_PER_MOL_PER_EV,
        "Miedema_deltaH_amor": (chem["amor"] + topological) / KJ_PER_MOL_PER_EV,
        "Miedema_deltaH_ss_min": ss_min / KJ_PER_MOL_PER_EV,
    }


def _slot_dot(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    total = np.zeros(weights.shape[0])
    for slot in range(weights.shape[1]):
        total = total + weights[:, slot] * values[:, slot]
    return total

r"""One interfacial-energy scale: the committee of potentials calibrated to the paper's DFT.

Pure numpy/pandas (no ASE, pymatgen or torch): the ranking imports it.

Input: the validated interfacial-energy table (:func:`lithioscreen.data.load_interfacial_energies`).
Only rows computed under the current protocol (:func:`lithioscreen.interface.protocol.current_protocol`)
against Li(100) are used; older rows stay in the file as provenance and are ignored here.

What is computed (``calibrate(table)``)
---------------------------------------
1. **References.** The paper's exact DFT values against Li(100): rows with ``method`` ``dft``,
   ``value_kind`` ``exact`` and ``value_origin`` ``text`` (Mo 81.742, Ti 66.799, LiF 44.054,
   Li2S 31.678; Li6PS5Cl -33.767 has no computed value and drops out). Bounds are never used,
   least of all those inferred from CCDs (``inferred_from_text``): they would leak a cell's
   target into its own descriptor.
2. **A map per potential.** The paper's value of a material is its highest over X planes; for each
   potential p the reference's raw value is therefore the highest over the planes p computed,
   :math:`r_p = \max_{plane} \gamma_p`. The map is fitted by least squares over the references:

   * ``proportional`` (the default): :math:`\gamma_{DFT} = b_p r_p`. One parameter for four
     references. It keeps a zero interfacial energy at zero, and it models the potentials' known
     error, a softened energy surface that scales interface energies down;
   * ``linear``: :math:`\gamma_{DFT} = a_p + b_p r_p`. Two parameters: with four references each
     leave-one-out refit is a line through three points that extrapolates to the fourth.

   ``benchmarks/interface_validation.py`` prints both families' leave-one-out errors, per
   potential and for the committee (the numbers are in ``benchmarks/results/``, not here).

   The slope must be positive, so the map keeps every potential's own order; a potential whose
   fitted slope is not positive, or with too few references (``min_references``, and at least
   two more than the map's parameters, so that the leave-one-out refits stay overdetermined), is
   left out of the committee (``excluded``). Because the map is increasing, the highest plane
   before and after it is the same.
3. **Leave-one-reference-out.** For every reference, each map is refitted without it and the
   reference is predicted: the honest error of the calibration (``calibrated_loo``). The refit
   keeps the map monotone: where the other references alone give a negative slope, the best
   non-decreasing map has slope zero (a line: flat at their mean), and that is what predicts the
   left-out reference.
4. **The committee.** For every (material, plane), each included potential's value is mapped,
   and the committee value is their mean. A material's descriptor is its highest plane (the
   paper's rule, for metals and compounds alike).
5. **σ**, in quadrature:

   * ``committee_spread``: standard deviation of the calibrated potentials at that plane
     (ddof 1); a plane with one potential gets the median spread of the planes with several;
   * ``calibration_std``: RMS of the references' leave-one-out errors (one number for the table);
   * ``fit_stderr``: the interface fits' intercept standard errors carried through the maps,
     :math:`\sqrt{\mathrm{mean}_p (b_p\,s_p)^2}`.

6. **Checks, never clips.** The paper's statements (Cr > Mo > Ti > Zr; Cr, Mo, Ti, Zr above LiF
   and Li2S; W above LiF on every plane) are evaluated on the calibrated scale and reported as
   true/false (``order_checks``); no value is changed by them.

API
---
``calibrate(table, protocol=None, min_references=3, map_kind='proportional', reference_planes=None)
-> Calibration`` with

* ``per_material``: DataFrame indexed by material: ``calibrated_mev_per_a2``,
  ``std_mev_per_a2``, ``plane``, ``n_potentials``, ``potentials`` (';'-joined),
  ``committee_spread``, ``calibration_std``, ``fit_stderr``, ``material_class``, ``dft_mev_per_a2``
  (the exact DFT value where there is one, else NaN: shown beside, never substituted);
* ``per_plane``: DataFrame (material, plane, committee value, spread, n, and each potential's raw
  and calibrated value);
* ``references``: list of dicts: name, plane, dft, raw {potential: value}, committee_raw,
  calibrated, calibrated_loo, loo_error;
* ``maps``: {potential: {slope, intercept, rms, n, references, loo_errors, included, reason}};
* ``order_checks``: list of {statement, holds, detail} (holds is None when a value is missing);
* ``apply(potential, raw)``: a raw value of that potential on the DFT scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lithioscreen.interface.protocol import current_protocol

LI_PLANE = "(100)"
SOURCE_LABEL = "mlip:committee+calibrated"
DEFAULT_MIN_REFERENCES = 3
MAP_KINDS = ("proportional", "linear")
#: the default map: one parameter for four references (see the module docstring)
DEFAULT_MAP_KIND = "proportional"


class CalibrationError(ValueError):
    """Not enough data for a calibration (no reference with a computed value, no usable potential)."""


@dataclass
class Calibration:
    per_material: pd.DataFrame
    per_plane: pd.DataFrame
    references: list[dict]
    maps: dict[str, dict]
    order_checks: list[dict]
    calibration_std: float
    protocol: str
    excluded: dict[str, str] = field(default_factory=dict)
    map_kind: str = DEFAULT_MAP_KIND

    def apply(self, potential: str, raw) -> np.ndarray:
        """Raw values of ``potential`` (method ``mlip:<name>`` or ``<name>``) on the DFT scale."""
        name = potential.removeprefix("mlip:")
        fitted = self.maps.get(name)
        if fitted is None or not fitted["included"]:
            raise CalibrationError(f"no calibration map for {potential!r} (included: {', '.join(self.potentials)})")
        return fitted["intercept"] + fitted["slope"] * np.asarray(raw, dtype=float)

    @property
    def potentials(self) -> list[str]:
        return [name for name, fitted in self.maps.items() if fitted["included"]]


def exact_references(table: pd.DataFrame) -> dict[str, float]:
    """The paper's exact DFT values against Li(100), as stated in its text (no bounds, nothing inferred)."""
    rows = table[
        (table["method"] == "dft")
        & (table["value_kind"] == "exact")
        & (table["value_origin"] == "text")
        & (table["li_plane"] == LI_PLANE)
    ]
    return {str(row.material): float(row.interfacial_energy_mev_per_a2) for row in rows.itertuples()}


def computed_rows(table: pd.DataFrame, protocol: str | None = None) -> pd.DataFrame:
    """Rows computed here under ``protocol`` (default: the current one) against Li(100)."""
    protocol = current_protocol() if protocol is None else protocol
    rows = table[
        table["method"].astype(str).str.startswith("mlip:")
        & (table["protocol"].astype(str) == protocol)
        & (table["li_plane"] == LI_PLANE)
        & (table["value_kind"] == "exact")
    ].copy()
    rows["potential"] = rows["method"].str.removeprefix("mlip:")
    rows["plane"] = rows["x_plane"].astype(str)
    # a repeated (material, plane, potential) keeps its last row, as the cache does
    return rows.drop_duplicates(["material", "plane", "potential"], keep="last")


def _least_squares(x: np.ndarray, y: np.ndarray, kind: str) -> tuple[float, float, float]:
    """Least-squares intercept, slope and residual RMS of y = a + b x (``linear``) or y = b x (``proportional``)."""
    if kind == "proportional":
        a, b = 0.0, float(np.dot(x, y) / np.dot(x, x))
    else:
        design = np.column_stack([np.ones_like(x), x])
        (a, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    rms = float(np.sqrt(np.mean((y - a - b * x) ** 2)))
    return float(a), float(b), rms


def _non_decreasing(x: np.ndarray, y: np.ndarray, kind: str) -> tuple[float, float]:
    """The least-squares map of ``kind`` constrained to a slope >= 0 (for the leave-one-out refits).

    Where the unconstrained slope is negative the constrained optimum has slope 0: the mean of y
    for a line, zero for a proportional map.
    """
    a, b, _ = _least_squares(x, y, kind)
    if b > 0:
        return a, b
    return (float(y.mean()) if kind == "linear" else 0.0), 0.0


def fit_map(
    raw: dict[str, float],
    dft: dict[str, float],
    min_references: int = DEFAULT_MIN_REFERENCES,
    kind: str = DEFAULT_MAP_KIND,
) -> dict:
    """The map DFT = a + b raw (``linear``) or DFT = b raw (``proportional``) over the references both give.

    Parameters
    ----------
    raw, dft : dict
        Material -> a potential's raw value (its highest plane) and -> the exact DFT value, meV/Å².
    min_references : int
        References needed. A map also needs two more references than it has parameters, so that
        every leave-one-out refit is still overdetermined (3 for ``proportional``, 4 for ``linear``).
    kind : {"proportional", "linear"}

    Returns
    -------
    dict
        ``slope``, ``intercept``, ``rms``, ``n``, ``references``, ``loo_errors`` {reference: error}
        and their RMS ``loo_rms``,
        ``loo_maps`` {reference: (intercept, slope)}, ``included`` and, where not, ``reason``.
    """
    if kind not in MAP_KINDS:
        raise ValueError(f"unknown calibration map {kind!r}; choose one of {', '.join(MAP_KINDS)}")
    names = sorted(set(raw) & set(dft))
    result = {
        "kind": kind,
        "references": names,
        "n": len(names),
        "slope": np.nan,
        "intercept": np.nan,
        "rms": np.nan,
        "loo_errors": {},
        "loo_rms": np.nan,
        "loo_maps": {},
        "included": False,
        "reason": "",
    }
    needed = max(min_references, (1 if kind == "proportional" else 2) + 2)
    if len(names) < needed:
        result["reason"] = f"{len(names)} reference(s) with a value; {needed} needed for a {kind} map"
        return result
    x = np.array([raw[name] for name in names])
    y = np.array([dft[name] for name in names])
    if np.ptp(x) == 0:
        result["reason"] = "all references have the same raw value"
        return result
    a, b, rms = _least_squares(x, y, kind)
    result.update(slope=b, intercept=a, rms=rms)
    for index, name in enumerate(names):
        keep = np.arange(len(names)) != index
        a_loo, b_loo = _non_decreasing(x[keep], y[keep], kind)
        result["loo_maps"][name] = (a_loo, b_loo)
        result["loo_errors"][name] = a_loo + b_loo * x[index] - y[index]
    result["loo_rms"] = float(np.sqrt(np.mean(np.square(list(result["loo_errors"].values())))))
    if not b > 0:
        result["reason"] = f"fitted slope {b:.3f} is not positive: the map would not be monotone increasing"
        return result
    result["included"] = True
    return result


def calibrate(
    table: pd.DataFrame,
    protocol: str | None = None,
    min_references: int = DEFAULT_MIN_REFERENCES,
    map_kind: str = DEFAULT_MAP_KIND,
    reference_planes: dict[str, str] | None = None,
) -> Calibration:
    """The calibrated committee of ``table`` (see the module docstring).

    Parameters
    ----------
    table : DataFrame
        The validated interfacial-energy table.
    protocol : str, optional
        Only rows computed under it are used (default: the current protocol).
    min_references : int
        References a potential needs to enter the committee.
    map_kind : {"proportional", "linear"}
        The family of the per-potential maps to the DFT scale.
    reference_planes : dict, optional
        Material -> X plane (e.g. ``{"LiF": "(100)"}``): use only that plane of the material instead
        of its highest. The paper's text does not say on which plane LiF and Li2S were computed;
        ``benchmarks/interface_validation.py`` uses this to show how much that choice matters.
        The default, the highest plane, is the paper's rule for W and is kept for every material.

    Returns
    -------
    Calibration
    """
    protocol = current_protocol() if protocol is None else protocol
    rows = computed_rows(table, protocol)
    if rows.empty:
        raise CalibrationError(f"no computed interfacial energies under protocol {protocol!r}")
    for material, plane in (reference_planes or {}).items():
        mine = rows["material"] == material
        if not (mine & (rows["plane"] == plane)).any():
            computed = ", ".join(sorted(rows.loc[mine, "plane"].unique())) or "none"
            raise CalibrationError(f"{material} {plane} has no computed value (planes computed: {computed})")
        rows = rows[~mine | (rows["plane"] == plane)]
    dft = exact_references(table)
    classes = rows.groupby("material")["material_class"].first().to_dict()

    # per potential: the highest plane of each reference, and the map
    maps: dict[str, dict] = {}
    for potential, group in rows.groupby("potential"):
        highest = group.groupby("material")["interfacial_energy_mev_per_a2"].max()
        raw = {name: float(highest[name]) for name in highest.index if name in dft}
        maps[str(potential)] = {**fit_map(raw, dft, min_references, map_kind), "raw": raw}
    included = [name for name, fitted in maps.items() if fitted["included"]]
    excluded = {name: fitted["reason"] for name, fitted in maps.items() if not fitted["included"]}
    if not included:
        raise CalibrationError(f"no potential can be calibrated: {excluded}")

    def calibrated(potential, values, loo_of=None):
        fitted = maps[potential]
        a, b = (
            (fitted["intercept"], fitted["slope"])
            if loo_of is None
            else fitted["loo_maps"].get(loo_of, (np.nan, np.nan))
        )
        return a + b * np.asarray(values, dtype=float)

    used = rows[rows["potential"].isin(included)].copy()
    used["calibrated"] = [
        float(calibrated(p, v)) for p, v in zip(used["potential"], used["interfacial_energy_mev_per_a2"], strict=True)
    ]
    used["slope"] = used["potential"].map(lambda p: maps[p]["slope"])
    used["stderr_calibrated"] = used["slope"] * used["intercept_stderr_mev_per_a2"]

    # per (material, plane): the committee
    planes = []
    for (material, plane), group in used.groupby(["material", "plane"], sort=True):
        values = group["calibrated"].to_numpy()
        planes.append(
            {
                "material": material,
                "plane": plane,
                "committee_mev_per_a2": float(values.mean()),
                "committee_spread": float(values.std(ddof=1)) if len(values) > 1 else np.nan,
                "n_potentials": len(values),
                "potentials": ";".join(sorted(group["potential"])),
                "fit_stderr": float(np.sqrt(np.mean(group["stderr_calibrated"].to_numpy() ** 2))),
                **{
                    f"raw:{p}": float(v)
                    for p, v in zip(group["potential"], group["interfacial_energy_mev_per_a2"], strict=True)
                },
                **{f"calibrated:{p}": float(v) for p, v in zip(group["potential"], group["calibrated"], strict=True)},
            }
        )
    per_plane = pd.DataFrame(planes)
    several = per_plane.loc[per_plane["n_potentials"] > 1, "committee_spread"]
    fallback_spread = float(several.median()) if len(several) else np.nan
    per_plane["spread_imputed"] = per_plane["committee_spread"].isna()
    per_plane["committee_spread"] = per_plane["committee_spread"].fillna(fallback_spread)

    # leave-one-reference-out: the committee (highest plane) with every map refitted without it
    references = []
    for name in sorted(dft, key=lambda n: -dft[n]):
        ref_rows = used[used["material"] == name]
        if ref_rows.empty:
            continue
        loo_planes = {}
        for plane, group in ref_rows.groupby("plane"):
            loo_values = [
                float(calibrated(p, v, loo_of=name))
                for p, v in zip(group["potential"], group["interfacial_energy_mev_per_a2"], strict=True)
            ]
            loo_values = [v for v in loo_values if np.isfinite(v)]
            if loo_values:
                loo_planes[plane] = float(np.mean(loo_values))
        mine = per_plane[per_plane["material"] == name].set_index("plane")
        best_plane = str(mine["committee_mev_per_a2"].idxmax())
        raw_at = {p: maps[p]["raw"][name] for p in included if name in maps[p]["raw"]}
        raw_plane = ref_rows[ref_rows["plane"] == best_plane]
        loo = max(loo_planes.values()) if loo_planes else np.nan
        references.append(
            {
                "name": name,
                "plane": best_plane,
                "dft": dft[name],
                "raw": raw_at,
                "raw_at_plane": {
                    p: float(v)
                    for p, v in zip(raw_plane["potential"], raw_plane["interfacial_energy_mev_per_a2"], strict=True)
                },
                "committee_raw": float(np.mean(list(raw_at.values()))) if raw_at else np.nan,
                "calibrated": float(mine.loc[best_plane, "committee_mev_per_a2"]),
                "calibrated_loo": float(loo),
                "loo_error": float(loo - dft[name]),
                "loo_plane": max(loo_planes, key=loo_planes.get) if loo_planes else "",
            }
        )
    loo_errors = [r["loo_error"] for r in references if np.isfinite(r["loo_error"])]
    calibration_std = float(np.sqrt(np.mean(np.square(loo_errors)))) if loo_errors else np.nan

    per_material = []
    for material, group in per_plane.groupby("material"):
        best = group.loc[group["committee_mev_per_a2"].idxmax()]
        spread, fit_se = float(best["committee_spread"]), float(best["fit_stderr"])
        per_material.append(
            {
                "material": material,
                "calibrated_mev_per_a2": float(best["committee_mev_per_a2"]),
                "std_mev_per_a2": float(np.sqrt(np.nansum([spread**2, calibration_std**2, fit_se**2]))),
                "plane": best["plane"],
                "n_potentials": int(best["n_potentials"]),
                "potentials": best["potentials"],
                "committee_spread": spread,
                "spread_imputed": bool(best["spread_imputed"]),
                "calibration_std": calibration_std,
                "fit_stderr": fit_se,
                "n_planes": len(group),
                "material_class": classes.get(material, ""),
                "dft_mev_per_a2": dft.get(material, np.nan),
            }
        )
    per_material = (
        pd.DataFrame(per_material).set_index("material").sort_values("calibrated_mev_per_a2", ascending=False)
    )
    for fitted in maps.values():
        fitted.pop("loo_maps", None)
    calibration = Calibration(
        per_material=per_material,
        per_plane=per_plane,
        references=references,
        maps=maps,
        order_checks=[],
        calibration_std=calibration_std,
        protocol=protocol,
        excluded=excluded,
        map_kind=map_kind,
    )
    calibration.order_checks = order_checks(per_material, per_plane)
    return calibration


def order_checks(per_material: pd.DataFrame, per_plane: pd.DataFrame) -> list[dict]:
    """The paper's statements on the calibrated scale; ``holds`` is None where a value is missing."""
    value = per_material["calibrated_mev_per_a2"].to_dict()

    def fmt(names):
        return ", ".join(f"{n} {value[n]:.1f}" if n in value else f"{n} missing" for n in names)

    checks = []
    chain = ["Cr", "Mo", "Ti", "Zr"]
    present = all(n in value for n in chain)
    checks.append(
        {
            "statement": "Cr > Mo > Ti > Zr (highest plane against Li(100))",
            "holds": bool(all(value[a] > value[b] for a, b in zip(chain, chain[1:]))) if present else None,
            "detail": fmt(chain),
        }
    )
    for metal in chain:
        ok = all(n in value for n in (metal, "LiF", "Li2S"))
        checks.append(
            {
                "statement": f"{metal} above LiF and Li2S",
                "holds": bool(value[metal] > max(value["LiF"], value["Li2S"])) if ok else None,
                "detail": fmt([metal, "LiF", "Li2S"]),
            }
        )
    w_planes = per_plane[per_plane["material"] == "W"]
    if w_planes.empty or "LiF" not in value:
        checks.append({"statement": "W above LiF on every plane", "holds": None, "detail": "W or LiF missing"})
    else:
        detail = (
            ", ".join(f"W{r.plane} {r.committee_mev_per_a2:.1f}" for r in w_planes.itertuples())
            + f"; LiF {value['LiF']:.1f}"
        )
        checks.append(
            {
                "statement": "W above LiF on every plane",
                "holds": bool((w_planes["committee_mev_per_a2"] > value["LiF"]).all()),
                "detail": detail,
            }
        )
    return checks

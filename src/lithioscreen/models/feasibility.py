"""Can the bilayer work at all? The paper's three conditions, with the evidence for each.

Oh et al. (2024) explain why W(30 nm)/Mg(200 nm) raises the CCD and why two other stacks fail
(Fig. S23-S26): Li ions pass through the thin lithiophobic overlayer and nucleate in the
lithiophilic layer beneath it, where the overlayer keeps the deposit dense. That needs

1. **an overlayer that does not alloy with Li** (the paper chose X "based on their inability to
   form Li alloys according to their respective phase diagrams"): judged from the assessed Li-X
   diagrams of ``data/li_binary_phase_data.csv``. An element that forms Li compounds, or
   dissolves at least :data:`DISSOLVES_LI_AT_PCT` at.% Li (or is a solid solution with Li, like
   Mg), alloys with Li; so does an alloy with any such constituent. An element without an assessed
   diagram (or with ``unknown`` compounds or miscibility) is unknown, not feasible.
2. **a lithiophilic layer beneath it** where Li nucleates: an element that forms compounds with
   Li or dissolves it (Mg, Ag, Au, Zn, Al, Si, Sn, In, ...). No underlayer, or a lithiophobic one
   (Cu, W, Ti, ...), fails: "W(30 nm)/Mg(0 nm)" plated Li on top of W (cell ``oh2024-w30-nomg``).
3. **an overlayer thin enough for Li ions to pass**: the critical thickness is interval-censored by
   the cells. At or below the largest thickness that worked (a CCD was measured) the stack is
   feasible; at or above the smallest that failed by Li plating on top (``failed`` with
   ``li_plated_on_overlayer``, on a lithiophilic underlayer) it is not; in between it is
   feasible but untested, and :attr:`feasibility_probability` assumes a log-uniform critical
   thickness across that window. An overlayer's own cells decide first; otherwise the bounds
   pooled over every lithiophobic overlayer apply (the paper's only thickness evidence is W:
   30 nm works, 200 nm fails). New cells move these bounds at the next ``fit``.

A single layer (no underlayer) is judged as the layer Li nucleates in: a lithiophilic one is
feasible (the bare-Mg cell works, with a low CCD), a lithiophobic one is not. An overlayer of the
same element as its underlayer is not a bilayer: Mg on Mg is one Mg layer of the summed thickness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from lithioscreen.candidates import CANDIDATE_COLUMNS, NO_UNDERLAYER, composition_key, element_fractions

#: An element dissolving at least this much Li (at.%, maximum in the assessed diagram) alloys with Li.
DISSOLVES_LI_AT_PCT = 1.0
LITHIOPHOBIC = "lithiophobic"
LITHIOPHILIC = "lithiophilic"
UNKNOWN = "unknown"
#: The failure mode that bounds the critical thickness (or, without a lithiophilic layer beneath, shows that one is needed).
PLATED_ON_TOP = "li_plated_on_overlayer"
BILAYER = "bilayer"
SINGLE_LAYER = "single_layer"


@dataclass(frozen=True)
class LiAffinity:
    """How an element behaves with Li, and the evidence, in words.

    Attributes
    ----------
    kind : str
        ``lithiophobic``, ``lithiophilic`` or ``unknown``.
    evidence : str
        Why, citing the assessed diagram (or its absence).
    """

    kind: str  # lithiophobic | lithiophilic | unknown
    evidence: str


def li_affinity(phase_data: pd.DataFrame, dissolves_li_at_pct: float = DISSOLVES_LI_AT_PCT) -> dict[str, LiAffinity]:
    """Per element of the phase table: lithiophobic, lithiophilic or unknown, with the evidence.

    Compounds with Li, a solid solution, or a known solubility of at least ``dissolves_li_at_pct``
    make an element lithiophilic; otherwise an ``unknown`` diagram makes it unknown; otherwise it
    is lithiophobic.

    Parameters
    ----------
    phase_data : pandas.DataFrame
        The validated phase-data table (:func:`lithioscreen.data.load_phase_data`).
    dissolves_li_at_pct : float
        Li solubility, at.%, from which an element counts as dissolving Li.

    Returns
    -------
    dict of str to LiAffinity
        By element symbol.
    """
    table: dict[str, LiAffinity] = {}
    for row in phase_data.to_dict("records"):
        element = row["element"]
        solubility = row["max_li_solubility_in_x_at_pct"]
        known_solubility = row["li_solubility_qualifier"] in {"=", "~"} and not pd.isna(solubility)
        if row["li_x_compounds_exist"] == "yes":
            listed = str(row["li_x_compounds"]).replace(";", ", ")
            table[element] = LiAffinity(
                LITHIOPHILIC, f"Li-{element} forms compounds ({listed + '; ' if listed else ''}assessed diagram)"
            )
        elif row["li_x_miscibility"] == "solid_solution":
            amount = f"up to ~{solubility:g} at.% Li" if known_solubility else "Li"
            table[element] = LiAffinity(
                LITHIOPHILIC, f"{element} dissolves {amount} (solid solution; assessed diagram)"
            )
        elif known_solubility and float(solubility) >= dissolves_li_at_pct:
            table[element] = LiAffinity(
                LITHIOPHILIC,
                f"{element} dissolves {solubility:g} at.% Li (assessed diagram; >= {dissolves_li_at_pct:g} at.%)",
            )
        elif row["li_x_compounds_exist"] == "unknown" or row["li_x_miscibility"] == "unknown":
            table[element] = LiAffinity(
                UNKNOWN, f"no assessed Li-{element} diagram says whether {element} alloys with Li"
            )
        else:
            table[element] = LiAffinity(LITHIOPHOBIC, f"Li-{element} immiscible, no compounds (assessed diagram)")
    return table


def _composition_affinity(candidate: str, affinity: dict[str, LiAffinity]) -> LiAffinity:
    """An alloy alloys with Li if any constituent does; it is unknown if any constituent is."""
    parts = [
        affinity.get(element, LiAffinity(UNKNOWN, f"no Li-{element} phase data"))
        for element in element_fractions(candidate)
    ]
    for kind in (LITHIOPHILIC, UNKNOWN):
        found = [part.evidence for part in parts if part.kind == kind]
        if found:
            return LiAffinity(kind, "; ".join(found))
    return LiAffinity(LITHIOPHOBIC, "; ".join(part.evidence for part in parts))


def feasibility_masks(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split a ``feasible`` column of True / False / None into three masks.

    Parameters
    ----------
    values : iterable
        True, False or None (anything that is not ``True`` or ``False`` counts as unknown).

    Returns
    -------
    feasible, infeasible, unknown : numpy.ndarray
        Boolean arrays of the same length.
    """
    values = list(values)
    feasible = np.array([value is True for value in values], dtype=bool)
    infeasible = np.array([value is False for value in values], dtype=bool)
    return feasible, infeasible, ~(feasible | infeasible)


def effective_stacks(candidates: pd.DataFrame) -> pd.DataFrame:
    """The stack as the cell sees it: an overlayer of the underlayer's element merges into one layer.

    Parameters
    ----------
    candidates : pandas.DataFrame
        A table with the candidate columns (other columns are dropped).

    Returns
    -------
    pandas.DataFrame
        The candidate columns of the effective stack (index from 0; thicknesses in nm; a merged
        stack has the summed thickness and no underlayer), plus ``architecture`` (``bilayer`` or
        ``single_layer``) and ``stack_note`` (why a stack was merged, else ``""``).
    """
    frame = candidates[CANDIDATE_COLUMNS].reset_index(drop=True).copy()
    notes = [""] * len(frame)
    # only a candidate that names the underlayer's symbol can be made of it alone (grids: none)
    maybe = [
        i for i, (c, u) in enumerate(zip(frame["candidate"], frame["underlayer"])) if u != NO_UNDERLAYER and u in c
    ]
    for i in maybe:
        row = frame.iloc[i]
        if list(element_fractions(row.candidate)) == [row.underlayer]:
            total = float(row.overlayer_nm) + float(row.underlayer_nm)
            notes[i] = (
                f"{row.candidate} on {row.underlayer} is not a bilayer: predicted as one {total:g} nm {row.underlayer} layer"
            )
            frame.loc[i, ["overlayer_nm", "underlayer", "underlayer_nm"]] = [total, NO_UNDERLAYER, 0.0]
    frame["architecture"] = np.where(frame["underlayer"] == NO_UNDERLAYER, SINGLE_LAYER, BILAYER)
    frame["stack_note"] = notes
    return frame


class BilayerFeasibility(BaseEstimator):
    """The feasibility model: fitted on the cells' outcomes, it judges any candidate stack.

    Parameters
    ----------
    phase_data : DataFrame, optional
        A validated ``li_binary_phase_data.csv``; read from the data folder at ``fit`` when omitted.
    dissolves_li_at_pct : float
        Li solubility (at.%) from which an element counts as dissolving Li.

    Attributes
    ----------
    affinity_ : dict of str to LiAffinity
        Per element of the phase table (set by ``fit``, as are the attributes below).
    worked_max_nm_, failed_min_nm_ : float
        Largest overlayer thickness that worked and smallest that failed by Li plating on top, nm,
        pooled over lithiophobic overlayers on lithiophilic underlayers (NaN / inf without evidence).
    per_overlayer_ : dict of str to tuple
        Composition key to (largest thickness that worked, smallest that failed, ids of the cells
        that failed there), nm; -inf / inf without evidence.
    worked_cells_, failed_cells_ : list of str
        The cells at the pooled bounds.
    underlayer_evidence_ : str
        The cells behind "a lithiophilic underlayer is needed" (lithiophobic single layers that
        failed), ``""`` if none.
    """

    def __init__(self, phase_data: pd.DataFrame | None = None, dissolves_li_at_pct: float = DISSOLVES_LI_AT_PCT):
        self.phase_data = phase_data
        self.dissolves_li_at_pct = dissolves_li_at_pct

    def fit(self, X: pd.DataFrame, y=None):
        """Learn the Li affinities and the thickness bounds from the cells' outcomes.

        Parameters
        ----------
        X : pandas.DataFrame
            The training table (:func:`lithioscreen.data.training_cells`): stacks with an
            ``outcome``, and optionally ``cell_id`` and ``failure_mode``.
        y : None
            Ignored.

        Returns
        -------
        BilayerFeasibility
            ``self``.
        """
        from lithioscreen.data import load_phase_data

        table = self.phase_data if self.phase_data is not None else load_phase_data()
        self.affinity_ = li_affinity(table, self.dissolves_li_at_pct)
        stacks = effective_stacks(X)
        outcome = X["outcome"].to_numpy()
        failure = X["failure_mode"].fillna("").to_numpy() if "failure_mode" in X else np.full(len(X), "")
        worked, failed, per = [], [], {}
        nucleation_failures = []
        for i, row in enumerate(stacks.itertuples(index=False)):
            cell = str(X["cell_id"].iloc[i]) if "cell_id" in X else f"row {i + 1}"
            over = _composition_affinity(row.candidate, self.affinity_).kind
            if row.architecture == SINGLE_LAYER:
                if outcome[i] == "failed" and over == LITHIOPHOBIC:
                    nucleation_failures.append(
                        f"{cell} ({row.candidate} {row.overlayer_nm:g} nm without a lithiophilic layer)"
                    )
                continue
            under = self.affinity_.get(row.underlayer, LiAffinity(UNKNOWN, "")).kind
            if over != LITHIOPHOBIC or under != LITHIOPHILIC:
                continue  # not the bilayer concept: says nothing about the critical thickness
            key = composition_key(row.candidate)
            own = per.setdefault(key, [-math.inf, math.inf, []])
            if outcome[i] == "ccd":
                worked.append((row.overlayer_nm, cell))
                own[0] = max(own[0], row.overlayer_nm)
            elif outcome[i] == "failed" and failure[i] == PLATED_ON_TOP:
                failed.append((row.overlayer_nm, cell))
                own[1] = min(own[1], row.overlayer_nm)
                own[2].append((row.overlayer_nm, cell))
        self.worked_max_nm_ = max((t for t, _ in worked), default=math.nan)
        self.failed_min_nm_ = min((t for t, _ in failed), default=math.inf)
        self.per_overlayer_ = {key: (w, f, [cell for t, cell in cells if t == f]) for key, (w, f, cells) in per.items()}
        self.worked_cells_ = [cell for t, cell in worked if t == self.worked_max_nm_]
        self.failed_cells_ = [cell for t, cell in failed if t == self.failed_min_nm_]
        self.underlayer_evidence_ = "; ".join(nucleation_failures)
        return self

    # ------------------------------------------------------------------ judging stacks

    def assess(self, candidates: pd.DataFrame) -> pd.DataFrame:
        """Judge every candidate stack.

        Parameters
        ----------
        candidates : pandas.DataFrame
            A candidate table.

        Returns
        -------
        pandas.DataFrame
            In input order (index from 0): the effective stack (:func:`effective_stacks`), then
            ``feasible`` (True / False / None = unknown), ``infeasible_reason`` (text or None),
            ``feasibility_probability`` (0 to 1, NaN when unknown; below 1 inside the untested
            thickness window) and ``unknown_reason`` (text or None).
        """
        stacks = effective_stacks(candidates)
        affinity: dict[str, LiAffinity] = {}  # per distinct composition: grids repeat them at many thicknesses
        results = [self._assess_one(row, affinity) for row in stacks.itertuples(index=False)]
        columns = list(zip(*results)) if results else [[], [], [], []]
        assessed = pd.DataFrame(
            {
                # object columns: True / False / None and text / None, as the JSON contract has them
                "feasible": pd.Series(columns[0], dtype=object),
                "infeasible_reason": pd.Series(columns[1], dtype=object),
                "feasibility_probability": pd.Series(columns[2], dtype=float),
                "unknown_reason": pd.Series(columns[3], dtype=object),
            }
        )
        return pd.concat([stacks, assessed], axis=1)

    def _assess_one(self, row, cache: dict) -> tuple:
        if row.candidate not in cache:
            cache[row.candidate] = _composition_affinity(row.candidate, self.affinity_)
        over = cache[row.candidate]
        if row.architecture == SINGLE_LAYER:
            if over.kind == LITHIOPHOBIC:
                evidence = f" (cf. {self.underlayer_evidence_})" if self.underlayer_evidence_ else ""
                return False, f"no lithiophilic layer for Li to nucleate in: {over.evidence}{evidence}", 0.0, None
            if over.kind == UNKNOWN:
                return None, None, math.nan, over.evidence
            return True, None, 1.0, None  # a single lithiophilic layer, like the bare-Mg cell
        reasons, unknown = [], []
        if over.kind == LITHIOPHILIC:
            reasons.append(f"overlayer alloys with Li: {over.evidence}")
        elif over.kind == UNKNOWN:
            unknown.append(over.evidence)
        under = self.affinity_.get(row.underlayer, LiAffinity(UNKNOWN, f"no Li-{row.underlayer} phase data"))
        if under.kind == LITHIOPHOBIC:
            evidence = f"; cf. {self.underlayer_evidence_}" if self.underlayer_evidence_ else ""
            reasons.append(
                f"no lithiophilic underlayer: {row.underlayer} does not alloy with Li ({under.evidence}{evidence})"
            )
        elif under.kind == UNKNOWN:
            unknown.append(f"underlayer: {under.evidence}")
        probability, thickness_reason = self._thickness(row.candidate, float(row.overlayer_nm))
        if thickness_reason:
            reasons.append(thickness_reason)
        if reasons:
            return False, "; ".join(reasons), 0.0, None
        if unknown or math.isnan(probability):
            return (
                None,
                None,
                math.nan,
                "; ".join(unknown) or "the thickness evidence contradicts itself at this thickness",
            )
        return True, None, probability, None

    def _thickness(self, candidate: str, thickness_nm: float) -> tuple[float, str | None]:
        """(probability the thickness lets Li through, reason it does not or None)."""
        worked, failed = self.worked_max_nm_, self.failed_min_nm_
        failed_cells = self.failed_cells_
        own = self.per_overlayer_.get(composition_key(candidate))
        if own is not None:  # the overlayer's own cells outrank the pooled bounds
            own_worked, own_failed, cells = own
            if thickness_nm <= own_worked:
                return 1.0, None
            if thickness_nm >= own_failed:
                return (
                    0.0,
                    f"overlayer {thickness_nm:g} nm >= {own_failed:g} nm of {candidate} that failed (Li plated on top; {', '.join(cells)})",
                )
        if not math.isnan(worked) and thickness_nm <= worked and not thickness_nm >= failed:
            return 1.0, None
        if thickness_nm >= failed:
            if not math.isnan(worked) and thickness_nm <= worked:
                return math.nan, None  # worked and failed at this thickness for different overlayers
            return (
                0.0,
                f"overlayer {thickness_nm:g} nm >= {failed:g} nm that failed (Li plated on top; {', '.join(failed_cells)})",
            )
        if math.isnan(worked) or not math.isfinite(failed):
            return math.nan, None  # no bracket: nothing is known about this thickness
        # inside the window (worked, failed): log-uniform critical thickness between the two
        return float(np.log(failed / thickness_nm) / np.log(failed / worked)), None

    def thickness_window_nm(self) -> tuple[float, float]:
        """The pooled thickness bounds.

        Returns
        -------
        tuple of float
            (largest overlayer thickness that worked, smallest that failed), nm; NaN / inf without evidence.
        """
        return self.worked_max_nm_, self.failed_min_nm_

    def describe(self) -> str:
        """One sentence on what the thickness rule rests on (printed with every ranking).

        Returns
        -------
        str
            The three conditions and the cells behind the thickness bounds.
        """
        if math.isnan(self.worked_max_nm_):
            return "No bilayer cell with a CCD yet: the overlayer thickness is unconstrained by data."
        failed = (
            f"{self.failed_min_nm_:g} nm failed ({', '.join(self.failed_cells_)})"
            if math.isfinite(self.failed_min_nm_)
            else "no thickness has failed yet"
        )
        return (
            f"Feasibility: the overlayer must not alloy with Li (assessed Li-X diagrams), a lithiophilic layer must lie beneath it, "
            f"and it must let Li ions through: {self.worked_max_nm_:g} nm worked ({', '.join(self.worked_cells_)}), {failed}; "
            "thicknesses in between are feasible but untested."
        )

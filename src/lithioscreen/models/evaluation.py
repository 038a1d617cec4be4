"""Honest validation of CCD models on a handful of cells: held-out, censoring-aware, nested.

**Splits.** Leave-one-overlayer-out over the feasible bilayer cells with a CCD (the cells the CCD
regressor learns from): a model never sees another cell of the held-out overlayer composition.
Failed stacks and single-layer cells stay in every training fold (the feasibility model and the
measured single layers use them; the regressor does not).

**Metrics** (on held-out predictions only; mA/cm² unless stated):

* ``nlpd``: mean negative log probability the predictive distribution N(μ, σ²) gives the measured
  interval (exact CCDs widened to their protocol step). A proper score for censored data: it
  rewards a sharp prediction inside an interval and punishes a confident one outside; it is
  what models are selected on;
* ``mae`` / ``rmse``: of the interval error (zero inside the measured interval);
* ``spearman``: rank correlation with the measured values (interval midpoints, open bounds);
* ``coverage_2sigma``: fraction of cells whose interval lies within 2σ of the prediction;
* ``mean_std``: mean predicted σ;
* ``order_checks_passed``: fraction of the paper's CCD-order statements
  (``data/ccd_orderings.csv``: Cr > Mo ≈ Ti > Zr) that the held-out predictions satisfy.

**Selection.** :func:`select_model` keeps the default (physics) model unless another one has a
lower NLPD by more than :data:`SELECTION_MARGIN`. :func:`nested_cross_validate` scores that whole
procedure: in each outer fold the selection is made by an inner leave-one-overlayer-out on the
outer training cells only, and the chosen model predicts the held-out cell.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from lithioscreen.candidates import CANDIDATE_COLUMNS, composition_key
from lithioscreen.censored import interval_error, interval_log_probability, representative_value, widen_exact
from lithioscreen.models.feasibility import BILAYER, feasibility_masks

#: A model beats the default only with a mean NLPD lower by more than this (nats per cell): on the
#: paper's five bilayer cells the Monte-Carlo noise of the Bayesian fits alone moves a model's NLPD
#: between seeds by a fraction of this, so smaller differences mean nothing.
SELECTION_MARGIN = 0.1


@dataclass
class CrossValidationResult:
    """Held-out predictions and metrics of one model (:func:`cross_validate`).

    Attributes
    ----------
    predictions : pandas.DataFrame
        One row per held-out cell: ``cell_id``, ``candidate``, ``ccd_lower_ma_cm2``,
        ``ccd_upper_ma_cm2``, ``predicted_ccd_ma_cm2``, ``predicted_ccd_std``,
        ``interval_error_ma_cm2``, ``log_probability``.
    metrics : dict of str to float
        See the module docstring; also ``n_cells`` and ``n_censored``.
    order_checks : list of dict
        :func:`order_checks` on the held-out predictions.
    """

    predictions: pd.DataFrame  # cell_id, candidate, interval, held-out mean and std, errors
    metrics: dict[str, float]
    order_checks: list[dict] = field(default_factory=list)


def regression_rows(model, table: pd.DataFrame) -> np.ndarray:
    """Positions of the cells the CCD regressor learns from: feasible bilayers with a CCD.

    Parameters
    ----------
    model : CCDScreeningModel
        Its ``phase_data`` decides feasibility (fitted here on ``table``).
    table : pandas.DataFrame
        The training table (:func:`lithioscreen.data.training_cells`).

    Returns
    -------
    numpy.ndarray
        Integer positions into ``table``.
    """
    from lithioscreen.models.feasibility import BilayerFeasibility

    feasibility = BilayerFeasibility(model.phase_data).fit(table)
    assessed = feasibility.assess(table)
    mask = (table["outcome"].to_numpy() == "ccd") & (assessed["architecture"] == BILAYER).to_numpy()
    mask &= feasibility_masks(assessed["feasible"])[0]
    return np.flatnonzero(mask)


def order_checks(predicted: pd.DataFrame, orderings: pd.DataFrame | None) -> list[dict]:
    """Each CCD-order statement of the paper, checked on predictions.

    Predictions of the same composition are averaged first. Statements about overlayers without a
    prediction are skipped.

    Parameters
    ----------
    predicted : pandas.DataFrame
        Columns ``candidate`` and ``predicted_ccd_ma_cm2`` (mA/cm²).
    orderings : pandas.DataFrame or None
        The statements (:func:`lithioscreen.data.load_ccd_orderings`); None: no checks.

    Returns
    -------
    list of dict
        Per statement checked: ``statement`` (text), ``difference_ma_cm2`` (higher minus lower) and
        ``holds`` (``greater``: difference > 0; otherwise: within the statement's tolerance).
    """
    if orderings is None or predicted.empty:
        return []
    means = predicted.groupby(predicted["candidate"].map(composition_key))["predicted_ccd_ma_cm2"].mean()
    checks = []
    for row in orderings.itertuples(index=False):
        higher, lower = composition_key(row.higher), composition_key(row.lower)
        if higher not in means.index or lower not in means.index:
            continue
        difference = float(means[higher] - means[lower])
        if row.relation == "greater":
            holds, statement = difference > 0, f"{row.higher} > {row.lower}"
        else:
            holds, statement = (
                abs(difference) <= row.tolerance_ma_cm2,
                f"{row.higher} ≈ {row.lower} (±{row.tolerance_ma_cm2:g})",
            )
        checks.append({"statement": statement, "difference_ma_cm2": difference, "holds": bool(holds)})
    return checks


def ccd_metrics(mean, std, lower, upper, widened_lower, widened_upper) -> dict[str, float]:
    """Held-out metrics (see the module docstring).

    Parameters
    ----------
    mean, std : array_like
        Held-out predictive mean and standard deviation, mA/cm², shape ``(n,)``.
    lower, upper : array_like
        Measured CCD intervals, mA/cm² (``upper = inf`` for a lower bound).
    widened_lower, widened_upper : array_like
        The same intervals with exact CCDs widened to their protocol step
        (:func:`lithioscreen.censored.widen_exact`), used for the NLPD.

    Returns
    -------
    dict of str to float
        ``nlpd``, ``mae``, ``rmse``, ``spearman`` (NaN for fewer than 3 cells or no spread),
        ``coverage_2sigma``, ``mean_std``, ``n_cells``, ``n_censored``.
    """
    mean, std, lower, upper = (np.asarray(a, dtype=float) for a in (mean, std, lower, upper))
    errors = interval_error(mean, lower, upper)
    measured = representative_value(lower, upper)
    from scipy.stats import spearmanr  # slow to import (start-up: benchmarks/cli_latency.py); only CV needs it

    spearman = (
        spearmanr(mean, measured).statistic if len(mean) > 2 and np.ptp(mean) > 0 and np.ptp(measured) > 0 else np.nan
    )
    return {
        "nlpd": float(-np.mean(interval_log_probability(mean, std, widened_lower, widened_upper))),
        "mae": float(np.mean(errors)),
        "rmse": float(np.sqrt(np.mean(errors**2))),
        "spearman": float(spearman),
        "coverage_2sigma": float(np.mean(errors <= 2 * std)),
        "mean_std": float(np.mean(std)),
        "n_cells": float(len(mean)),
        "n_censored": float(np.sum(lower != upper)),
    }


def cross_validate(
    model, table: pd.DataFrame, orderings: pd.DataFrame | None = None, features: pd.DataFrame | None = None, rows=None
) -> CrossValidationResult:
    """Leave-one-overlayer-out predictions and metrics of an (unfitted) :class:`CCDScreeningModel`.

    Each distinct overlayer composition among ``rows`` is held out in turn; the model is cloned and
    fitted on every other row of ``table``.

    Parameters
    ----------
    model : CCDScreeningModel
        Unfitted; cloned for every fold.
    table : pandas.DataFrame
        The training table (:func:`lithioscreen.data.training_cells`).
    orderings : pandas.DataFrame or None
        The paper's CCD-order statements; None: no order checks.
    features : pandas.DataFrame or None
        The descriptor table of ``table`` (:func:`descriptor_table`), computed once by the caller
        to save time; None: computed here.
    rows : array_like of int or None
        Positions in ``table`` to hold out; None: every regression cell (:func:`regression_rows`).

    Returns
    -------
    CrossValidationResult
        The held-out predictions, metrics and order checks.
    """
    table = table.reset_index(drop=True)
    if features is None:
        features = descriptor_table(model, table)
    rows = regression_rows(model, table) if rows is None else np.asarray(rows)
    mean, std = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    for held_out, train in _folds(table, rows):
        mean[held_out], std[held_out] = _fit_and_predict(model, table, features, train, rows[held_out])
    predictions, metrics, checks = _score(table, rows, mean, std, orderings)
    return CrossValidationResult(predictions, metrics, checks)


def _folds(table: pd.DataFrame, rows: np.ndarray):
    """Leave one overlayer out: per held-out composition, (positions in ``rows``, training rows of ``table``)."""
    keys = table["candidate"].map(composition_key).to_numpy()
    for key in dict.fromkeys(keys[rows]):
        held_out = [i for i, row in enumerate(rows) if keys[row] == key]
        yield held_out, np.flatnonzero(~np.isin(np.arange(len(table)), rows[held_out]))


def _fit_and_predict(model, table, features, train, test) -> tuple[np.ndarray, np.ndarray]:
    """Mean and σ of the ``test`` rows from a clone of ``model`` fitted on the ``train`` rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the GP's deliberate noise floor
        fitted = clone(model).fit(table.iloc[train], features=features.iloc[train])
    predicted = fitted.predict_table(table.iloc[test][CANDIDATE_COLUMNS])
    return predicted["predicted_ccd_ma_cm2"].to_numpy(float), predicted["predicted_ccd_std"].to_numpy(float)


def _score(table, rows, mean, std, orderings, **columns) -> tuple[pd.DataFrame, dict, list]:
    """The held-out prediction table (plus ``columns``), its metrics and the order checks."""
    cells = table.iloc[rows].reset_index(drop=True)
    lower, upper = cells["ccd_lower_ma_cm2"].to_numpy(float), cells["ccd_upper_ma_cm2"].to_numpy(float)
    wide_lower, wide_upper = widen_exact(lower, upper, cells["ccd_step_ma_cm2"].to_numpy(float) / 2)
    predictions = cells[["cell_id", "candidate", "ccd_lower_ma_cm2", "ccd_upper_ma_cm2"]].assign(
        predicted_ccd_ma_cm2=mean,
        predicted_ccd_std=std,
        interval_error_ma_cm2=interval_error(mean, lower, upper),
        log_probability=interval_log_probability(mean, std, wide_lower, wide_upper),
        **columns,
    )
    metrics = ccd_metrics(mean, std, lower, upper, wide_lower, wide_upper)
    checks = order_checks(predictions, orderings)
    if checks:
        metrics["order_checks_passed"] = float(np.mean([check["holds"] for check in checks]))
    return predictions, metrics, checks


def descriptor_table(model, table: pd.DataFrame) -> pd.DataFrame:
    """The descriptors of every row of the training table, as the model computes them (no CCD used).

    Parameters
    ----------
    model : CCDScreeningModel
        Its ``phase_data`` and ``interfacial_data`` are used.
    table : pandas.DataFrame
        The training table.

    Returns
    -------
    pandas.DataFrame
        One row per row of ``table`` (index from 0), descriptors without Magpie, computed on the
        effective stacks (:func:`lithioscreen.models.feasibility.effective_stacks`).
    """
    from lithioscreen.features import make_featurizer
    from lithioscreen.models.feasibility import effective_stacks

    featurizer = make_featurizer(model.phase_data, model.interfacial_data, include_magpie=False)
    stacks = effective_stacks(table)[CANDIDATE_COLUMNS]
    return featurizer.fit(stacks).transform(stacks).reset_index(drop=True)


def select_model(metrics: dict[str, dict[str, float]], default: str, margin: float = SELECTION_MARGIN) -> str:
    """The default model, unless another selectable model has a mean NLPD lower by more than ``margin``.

    Parameters
    ----------
    metrics : dict of str to dict
        Per model name, its cross-validation metrics (``nlpd``, ``mae``).
    default : str
        The default model's name.
    margin : float
        NLPD margin, nats per cell.

    Returns
    -------
    str
        The chosen model's name; among the challengers, the lowest NLPD wins (ties: MAE, then name).
        Only models in ``SELECTABLE_MODELS`` compete, unless none of ``metrics`` is one.
    """
    from lithioscreen.models.regressors import SELECTABLE_MODELS

    eligible = [name for name in metrics if name in SELECTABLE_MODELS] or list(metrics)
    best = min(eligible, key=lambda name: (metrics[name]["nlpd"], metrics[name]["mae"], name))
    if default not in metrics or metrics[best]["nlpd"] < metrics[default]["nlpd"] - margin:
        return best
    return default


@dataclass
class NestedResult:
    """The nested cross-validation of the model selection (:func:`nested_cross_validate`).

    Attributes
    ----------
    predictions : pandas.DataFrame
        One row per held-out cell: the held-out prediction of the model chosen in its outer fold
        (``chosen_model``), mA/cm².
    metrics : dict of str to float
        As :func:`ccd_metrics`, plus ``order_checks_passed`` when statements were checked.
    chosen : dict of str to str
        Held-out overlayer (composition key) to the model chosen on the other cells.
    """

    predictions: pd.DataFrame  # held-out prediction of the model chosen in each outer fold
    metrics: dict[str, float]
    chosen: dict[str, str]  # held-out overlayer -> model chosen on the other cells


def nested_cross_validate(
    models: dict, table: pd.DataFrame, default: str, orderings: pd.DataFrame | None = None
) -> NestedResult:
    """Nested leave-one-overlayer-out of the selection procedure (:func:`select_model`).

    Parameters
    ----------
    models : dict of str to CCDScreeningModel
        Unfitted candidate models by name (all sharing the same data tables).
    table : pandas.DataFrame
        The training table.
    default : str
        The default model's name.
    orderings : pandas.DataFrame or None
        The paper's CCD-order statements; None: no order checks.

    Returns
    -------
    NestedResult
        Outer held-out predictions, metrics and the model chosen in each fold.
    """
    from lithioscreen.models.regressors import SELECTABLE_MODELS

    table = table.reset_index(drop=True)
    any_model = next(iter(models.values()))
    features = descriptor_table(any_model, table)
    rows = regression_rows(any_model, table)
    selectable = {name: model for name, model in models.items() if name in SELECTABLE_MODELS} or models
    mean, std = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    chosen_per_row = np.empty(len(rows), dtype=object)
    chosen = {}
    for held_out, train in _folds(table, rows):
        inner_rows = [row for i, row in enumerate(rows) if i not in held_out]
        position = {row: i for i, row in enumerate(train)}
        inner_table, inner_features = table.iloc[train], features.iloc[train]
        inner = {
            name: cross_validate(
                model, inner_table, None, inner_features, [position[row] for row in inner_rows]
            ).metrics
            for name, model in selectable.items()
        }
        name = select_model(inner, default)
        chosen[composition_key(table["candidate"].iloc[rows[held_out[0]]])] = name
        chosen_per_row[held_out] = name
        mean[held_out], std[held_out] = _fit_and_predict(models[name], table, features, train, rows[held_out])
    predictions, metrics, _ = _score(table, rows, mean, std, orderings, chosen_model=chosen_per_row)
    return NestedResult(predictions, metrics, chosen)

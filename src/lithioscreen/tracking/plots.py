"""Figures logged with every training run (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lithioscreen.censored import representative_value


def _measured_error_bars(lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plot position and asymmetric bars of measured intervals; open intervals get a 1 mA/cm² arrow stub."""
    position = representative_value(lower, upper)
    top = np.where(np.isfinite(upper), upper, position + 1.0)
    return position, position - lower, top - position


def parity_plot(predictions: pd.DataFrame, title: str) -> plt.Figure:
    """Held-out predicted vs measured CCD, with predicted ±1σ and the measured interval as bars."""
    lower = predictions["ccd_lower_ma_cm2"].to_numpy(float)
    upper = predictions["ccd_upper_ma_cm2"].to_numpy(float)
    measured, below, above = _measured_error_bars(lower, upper)
    fig, ax = plt.subplots(figsize=(4.8, 4.4), dpi=120)
    ax.errorbar(
        measured,
        predictions["predicted_ccd_ma_cm2"],
        xerr=[below, above],
        yerr=predictions["predicted_ccd_std"],
        fmt="o",
        capsize=3,
        color="tab:blue",
    )
    for x, y, name, is_open in zip(measured, predictions["predicted_ccd_ma_cm2"], predictions["candidate"], ~np.isfinite(upper)):
        ax.annotate(name + (" (>)" if is_open else ""), (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
    limits = [0, max(7.0, float(np.nanmax(predictions["predicted_ccd_ma_cm2"]) + 1))]
    ax.plot(limits, limits, "--", color="grey", lw=1)
    ax.set_xlim(limits)
    ax.set_ylim(limits)
    ax.set_xlabel("measured CCD (mA cm$^{-2}$; bars: interval)")
    ax.set_ylabel("held-out predicted CCD (mA cm$^{-2}$, ±1σ)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def interfacial_energy_plot(cells: pd.DataFrame, threshold_mev_per_a2: float, estimate: dict | None = None) -> plt.Figure:
    """CCD vs Li/X interfacial energy with the threshold line (the paper's Fig. 7e, our values).

    ``cells`` needs candidate, interfacial_energy_mev_per_a2, interfacial_energy_std_mev_per_a2,
    interfacial_energy_source, ccd_lower_ma_cm2, ccd_upper_ma_cm2.
    """
    lower = cells["ccd_lower_ma_cm2"].to_numpy(float)
    upper = cells["ccd_upper_ma_cm2"].to_numpy(float)
    measured, below, above = _measured_error_bars(lower, upper)
    fig, ax = plt.subplots(figsize=(5.2, 4.2), dpi=120)
    for source, marker in (("dft", "o"), ("surrogate+dft_bounds", "s"), ("surrogate", "^")):
        mask = (cells["interfacial_energy_source"] == source).to_numpy()
        if mask.any():
            ax.errorbar(
                cells["interfacial_energy_mev_per_a2"][mask],
                measured[mask],
                xerr=cells["interfacial_energy_std_mev_per_a2"][mask],
                yerr=[below[mask], above[mask]],
                fmt=marker,
                capsize=3,
                label=f"interfacial energy: {source}",
            )
    for x, y, name, is_open in zip(cells["interfacial_energy_mev_per_a2"], measured, cells["candidate"], ~np.isfinite(upper)):
        ax.annotate(name + (" (>)" if is_open else ""), (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.axvline(threshold_mev_per_a2, color="crimson", ls="--", lw=1.2, label=f"threshold {threshold_mev_per_a2:g} meV Å$^{{-2}}$")
    if estimate is not None and np.isfinite(estimate.get("bootstrap_low_mev_per_a2", np.nan)):
        ax.axvspan(estimate["lower_mev_per_a2"], estimate["upper_mev_per_a2"], color="crimson", alpha=0.12, label="change point supported by data")
    ax.set_xlabel("Li/X interfacial energy (meV Å$^{-2}$)")
    ax.set_ylabel("Li plating CCD (mA cm$^{-2}$)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig

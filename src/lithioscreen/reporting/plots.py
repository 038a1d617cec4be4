"""Figures logged with every training run (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lithioscreen.censored import representative_value


def _ccd_bounds(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The measured CCD interval of each row, mA/cm² (an open upper side is not finite)."""
    return table["ccd_lower_ma_cm2"].to_numpy(float), table["ccd_upper_ma_cm2"].to_numpy(float)


def _measured_error_bars(lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plot position and asymmetric bars of measured intervals; open intervals get a 1 mA/cm² arrow stub."""
    position = representative_value(lower, upper)
    top = np.where(np.isfinite(upper), upper, position + 1.0)
    return position, position - lower, top - position


def parity_plot(predictions: pd.DataFrame, title: str) -> plt.Figure:
    """Held-out predicted vs measured CCD, with predicted ±1σ and the measured interval as bars.

    Parameters
    ----------
    predictions : pandas.DataFrame
        Held-out predictions (``CrossValidationResult.predictions``): ``candidate``,
        ``ccd_lower_ma_cm2``, ``ccd_upper_ma_cm2``, ``predicted_ccd_ma_cm2``, ``predicted_ccd_std``.
    title : str
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        Close it with ``plt.close``.
    """
    lower, upper = _ccd_bounds(predictions)
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
    for x, y, name, is_open in zip(
        measured, predictions["predicted_ccd_ma_cm2"], predictions["candidate"], ~np.isfinite(upper)
    ):
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


def interfacial_energy_plot(
    cells: pd.DataFrame, threshold_mev_per_a2: float, estimate: dict | None = None
) -> plt.Figure:
    """CCD vs Li/X interfacial energy with the threshold line (the paper's Fig. 7e, our values).

    Exact CCDs are points, intervals vertical bars, lower bounds ("> 5.0") upward arrows from the
    bound; horizontal bars are ±1σ of the interfacial energy. Cells without an underlayer are
    drawn as open circles.

    Parameters
    ----------
    cells : pandas.DataFrame
        Cells with a CCD: ``candidate``, ``interfacial_energy_mev_per_a2``,
        ``interfacial_energy_std_mev_per_a2``, ``interfacial_energy_source``, ``ccd_lower_ma_cm2``,
        ``ccd_upper_ma_cm2`` and optionally ``underlayer``.
    threshold_mev_per_a2 : float
        The threshold line, meV/Å².
    estimate : dict or None
        The threshold the cells support (:meth:`lithioscreen.models.threshold.ThresholdEstimate.as_dict`),
        shaded between ``lower_mev_per_a2`` and ``upper_mev_per_a2``; None: no shading.

    Returns
    -------
    matplotlib.figure.Figure
        Close it with ``plt.close``.
    """
    lower, upper = _ccd_bounds(cells)
    energy = cells["interfacial_energy_mev_per_a2"].to_numpy(float)
    energy_std = np.nan_to_num(cells["interfacial_energy_std_mev_per_a2"].to_numpy(float))
    sources = cells["interfacial_energy_source"].astype(str).to_numpy()
    bare = (
        (cells["underlayer"].astype(str) == "none").to_numpy() if "underlayer" in cells else np.zeros(len(cells), bool)
    )
    open_above = ~np.isfinite(upper)
    position = np.where(open_above, lower, (lower + np.where(open_above, lower, upper)) / 2)
    fig, ax = plt.subplots(figsize=(6.0, 4.6), dpi=130)
    if estimate is not None and np.isfinite(estimate.get("lower_mev_per_a2", np.nan)):
        ax.axvspan(
            estimate["lower_mev_per_a2"],
            estimate["upper_mev_per_a2"],
            color="crimson",
            alpha=0.10,
            label="threshold range supported by the X/Mg cells",
        )
    ax.axvline(
        threshold_mev_per_a2,
        color="crimson",
        ls="--",
        lw=1.2,
        label=f"threshold {threshold_mev_per_a2:g} meV Å$^{{-2}}$ (paper)",
    )
    seen = set()
    for i in range(len(cells)):
        color = source_color(sources[i])
        label = f"γ from {sources[i]}" if sources[i] not in seen else None
        seen.add(sources[i])
        face = "white" if bare[i] else color
        ax.errorbar(energy[i], position[i], xerr=energy_std[i], fmt="none", ecolor=color, capsize=3, lw=1.2)
        if open_above[i]:
            ax.annotate(
                "",
                xy=(energy[i], lower[i] + 0.8),
                xytext=(energy[i], lower[i]),
                arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.6},
            )
        elif upper[i] > lower[i]:
            ax.plot([energy[i], energy[i]], [lower[i], upper[i]], color=color, lw=4, alpha=0.45, solid_capstyle="butt")
        ax.plot(energy[i], position[i], "o", color=color, mfc=face, ms=7, label=label)
        name = (
            str(cells["candidate"].iloc[i])
            + (" (no underlayer)" if bare[i] else f"/{cells['underlayer'].iloc[i] if 'underlayer' in cells else 'Mg'}")
            + (f" > {lower[i]:g}" if open_above[i] else "")
        )
        ax.annotate(
            name,
            (energy[i], position[i]),
            textcoords="offset points",
            xytext=(6, 6) if open_above[i] else (6, -10),
            fontsize=8,
        )
    ax.plot([], [], color="grey", lw=4, alpha=0.45, label="CCD known only as an interval")
    ax.plot([], [], marker=r"$\uparrow$", color="grey", ls="none", ms=10, label="CCD lower bound (no short)")
    ax.set_xlabel("Li/X interfacial energy γ (meV Å$^{-2}$, ±1σ)")
    ax.set_ylabel("Li plating CCD (mA cm$^{-2}$)")
    ax.set_title("CCD vs interfacial energy (cf. Oh et al. 2024, Fig. 7e)", fontsize=10)
    ax.set_ylim(0, max(6.5, float(np.nanmax(np.where(open_above, lower + 1.2, upper))) + 0.5))
    ax.legend(fontsize=7, loc="lower right", framealpha=0.9)
    fig.tight_layout()
    return fig


#: One colour per interfacial-energy source, in every figure.
SOURCE_COLORS = {
    "mlip:committee+calibrated": "tab:purple",
    "surrogate+calibrated": "tab:orange",
    "dft": "tab:blue",
    "unavailable": "tab:grey",
}


def source_color(source: str) -> str:
    """The colour of an interfacial-energy source in every figure.

    Parameters
    ----------
    source : str
        ``mlip:committee+calibrated``, ``surrogate+calibrated``, ``interpolated:<sources>`` (alloys),
        ``unavailable``, or another label (a single potential's ``mlip:<model>``, ``dft``).

    Returns
    -------
    str
        A matplotlib colour name (:data:`SOURCE_COLORS`; alloys olive, other MLIP labels purple,
        anything else brown).
    """
    source = str(source)
    if source in SOURCE_COLORS:
        return SOURCE_COLORS[source]
    if source.startswith("interpolated:"):
        return "tab:olive"
    return "tab:purple" if source.startswith("mlip") else "tab:brown"


#: Markers that tell apart sources sharing a colour (the MLIP methods), in order of appearance.
SOURCE_MARKERS = ("o", "s", "^", "D", "v", "P")


def source_markers(sources) -> dict[str, str]:
    """A marker per source: the first source of each colour gets a circle, the next a square, and so on.

    Parameters
    ----------
    sources : iterable of str
        The sources, in the order they should get markers; repeats are ignored.

    Returns
    -------
    dict of str to str
        Source to matplotlib marker (:data:`SOURCE_MARKERS`, cycled).
    """
    seen_per_color: dict[str, int] = {}
    markers = {}
    for source in dict.fromkeys(map(str, sources)):
        index = seen_per_color.get(source_color(source), 0)
        seen_per_color[source_color(source)] = index + 1
        markers[source] = SOURCE_MARKERS[index % len(SOURCE_MARKERS)]
    return markers

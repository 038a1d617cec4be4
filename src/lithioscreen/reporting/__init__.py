"""Figures a battery researcher expects: :mod:`.plots` draws them from tables, :mod:`.figures`
assembles them for a champion (``lithioscreen report``, and every training run logs them)."""

from lithioscreen.reporting.figures import (
    FIGURE_NAMES,
    log_training_figures,
    report_figures,
    report_inputs,
    write_report,
)

__all__ = ["FIGURE_NAMES", "log_training_figures", "report_figures", "report_inputs", "write_report"]

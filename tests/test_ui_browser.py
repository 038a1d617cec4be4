"""`lithioscreen ui` in a real browser: headless Debian Chromium (Selenium) compares the model runs.

Trains into a temporary store (the session's ``trained`` fixture), starts ``lithioscreen ui`` on a
free loopback port, opens the experiment's runs table, expands the training run, ticks every
model run, presses MLflow's "Compare" button, and reads the metrics table of the comparison page:
every model's ``cv_*`` metrics must be shown, with the values the tracking store holds. A
screenshot is saved under pytest's tmp path (its path is printed).

``make test`` installs Debian's ``chromium`` and ``chromium-driver`` when they are missing.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest
from servers import free_port, running_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = os.environ.get("LITHIOSCREEN_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("LITHIOSCREEN_CHROMEDRIVER", "/usr/bin/chromedriver")
SHOWN_METRICS = ["cv_nlpd", "cv_mae", "cv_rmse", "cv_spearman", "cv_coverage_2sigma"]

# Each metric name cell of the comparison table, with the value cells on the same line (by position
# on the page, not by MLflow's CSS classes), and the x position of each run-name column header.
READ_METRICS_JS = """
const box = e => e.getBoundingClientRect();
const names = [...document.querySelectorAll('a[title="Plot chart"]')].filter(a => a.textContent.trim().startsWith('cv_'));
const spans = [...document.querySelectorAll('span[tooltip-data-state]')];
const rows = {};
for (const a of names) {
  const r = box(a.parentElement);
  rows[a.textContent.trim()] = spans
    .filter(s => Math.abs(box(s.parentElement).top - r.top) < 2 && box(s).left > r.right - 1)
    .map(s => [box(s.parentElement).left, s.textContent.trim()]);
}
const heads = {};
for (const id of arguments[0]) {
  const links = [...document.querySelectorAll('a[href$="/runs/' + id + '"]')];
  if (links.length) heads[id] = box(links[links.length - 1]).left;
}
return {rows: rows, heads: heads};
"""


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} missing: `make test` installs Debian's chromium and chromium-driver (as root)"
        )
    profile = tempfile.mkdtemp(prefix="lithioscreen-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1600,2200",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def ui_server(trained, tmp_path):
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "lithioscreen.cli",
        "ui",
        "--port",
        str(port),
        "--tracking-uri",
        trained["tracking_uri"],
    ]
    env = {**os.environ, "MLFLOW_TRACKING_URI": trained["tracking_uri"]}
    with running_server(command, f"http://127.0.0.1:{port}/health", tmp_path / "ui.log", env=env) as url:
        yield url.removesuffix("/health")


def test_ui_compares_the_cv_metrics_of_every_model(trained, ui_server, browser, tmp_path):
    from mlflow import MlflowClient
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    summary = trained["summary"]
    client = MlflowClient(trained["tracking_uri"])
    children = client.search_runs([summary.experiment_id], f"tags.mlflow.parentRunId = '{summary.parent_run_id}'")
    models = {run.info.run_id: run for run in children}
    assert {run.info.run_name for run in children} == set(summary.metrics)

    wait = WebDriverWait(browser, 90)
    screenshot = tmp_path / "mlflow-compare-runs.png"
    try:
        browser.get(f"{ui_server}/#/experiments/{summary.experiment_id}/runs")
        parent = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, f'a[href$="/runs/{summary.parent_run_id}"]')))
        # the model runs are nested under the training run: expand it (the button left of its name)
        parent_row = parent.find_element(By.XPATH, "./ancestor::div[@role='row']")
        parent_row.find_element(By.CSS_SELECTOR, "button").click()
        for run_id in models:
            link = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f'a[href$="/runs/{run_id}"]')))
            checkbox = link.find_element(By.XPATH, "./ancestor::div[@role='row']").find_element(
                By.CSS_SELECTOR, "input[type=checkbox]"
            )
            checkbox.click()
            assert checkbox.is_selected()
        compare = wait.until(ec.element_to_be_clickable((By.XPATH, "//button[normalize-space()='Compare']")))
        compare.click()
        wait.until(ec.url_contains("compare-runs"))
        wait.until(lambda driver: "cv_mae" in driver.find_element(By.TAG_NAME, "body").text)
        seen = _read_metrics(browser, list(models))
    finally:
        browser.save_screenshot(str(screenshot))
        print(f"\nscreenshot of MLflow's run comparison: {screenshot}")
    assert screenshot.stat().st_size > 10_000

    for metric in SHOWN_METRICS:
        assert set(seen[metric]) == set(models), f"{metric}: shown for {sorted(seen[metric])}"
        for run_id, shown in seen[metric].items():
            stored = models[run_id].data.metrics[metric]
            # the UI rounds to 3 decimals
            assert abs(float(shown) - stored) <= 0.0006, (
                f"{models[run_id].info.run_name} {metric}: UI {shown}, store {stored}"
            )


# The comparison's tables are virtualised (only the rows in view exist): scroll them down a little.
SCROLL_TABLES_JS = """
for (const el of document.querySelectorAll('div')) {
  const style = getComputedStyle(el);
  if (el.scrollHeight > el.clientHeight + 1 && /(auto|scroll)/.test(style.overflowY)) el.scrollTop += 90;
}
"""


def _read_metrics(browser, run_ids, timeout_s: float = 60.0) -> dict[str, dict[str, str]]:
    """{metric: {run_id: shown value}}: value cells matched to run columns by their x position."""
    deadline = time.monotonic() + timeout_s
    seen: dict[str, dict[str, str]] = {}
    while True:
        page = browser.execute_script(READ_METRICS_JS, run_ids)
        heads = page["heads"]
        for metric, cells in page["rows"].items():
            for left, text in cells:
                run_id = min(heads, key=lambda rid: abs(heads[rid] - left)) if heads else None
                if run_id is not None and abs(heads[run_id] - left) < 100:
                    seen.setdefault(metric, {})[run_id] = text
        complete = len(heads) == len(run_ids) and all(
            len(seen.get(metric, {})) == len(run_ids) for metric in SHOWN_METRICS
        )
        if complete or time.monotonic() > deadline:
            return seen
        browser.execute_script(SCROLL_TABLES_JS)
        time.sleep(0.5)

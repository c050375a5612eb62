"""`segsql docs generate`: the page from a real project and its run history, opened in a
real headless browser (Debian's chromium and chromium-driver, selenium): no console
errors, search filters the list, a chart has one point per run; a screenshot is kept in
target/docs_screenshot.png (a CI artifact)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from segsql.cli import cli
from segsql.definitions.project import load_project
from segsql.docs.describe import describe

from .conftest import require, write_project
from .test_run import SEGMENTS, make_warehouse

ROOT = Path(__file__).parent.parent
RUNS = ("2026-01-10", "2026-01-12", "2026-01-14", "2026-01-16", "2026-01-18")


def segsql(project, *args):
    return CliRunner().invoke(cli, [*args, "--project-dir", str(project)])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A project with five runs, and its page."""
    project = tmp_path_factory.mktemp("site")
    write_project(project, SEGMENTS)
    make_warehouse(project / "warehouse.duckdb")
    for as_of in RUNS:
        result = segsql(project, "run", "--all", "--as-of", as_of)
        assert result.exit_code == 0, result.output
    result = segsql(project, "docs", "generate")
    assert result.exit_code == 0, result.output
    assert "5 successful segment run(s)" not in result.output  # 4 segments x 5 runs
    assert "20 successful segment run(s)" in result.output
    return project


def test_the_description_reads_like_the_definition():
    project = load_project(ROOT)
    assert describe(project.segments["onboarding_stuck"]) == (
        "Users whose plan is trial, with fewer than 2 session_start events in the last 5 "
        "days, and who never had a setup_completed event."
    )
    assert describe(project.segments["active_accounts"]) == (
        "Accounts with at least 3 users who had a session_start event in the last 30 days."
    )
    assert describe(project.segments["self_serve_personal_emails"]).startswith(
        "Users without an account, "
    )


def test_the_page_is_self_contained(site):
    html = (site / "target" / "docs" / "index.html").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched
    assert "<link" not in html and "<script src" not in html
    for name in ("active", "churn_risk", "hourly", "busy_accounts"):
        assert f'id="seg-{name}"' in html
    # the YAML of a segment, escaped, and its file:line
    assert "x&#39;); DROP TABLE users; --" in html and "segments/main.yml:" in html
    # the overlap matrix: churn_risk is `not active`, so they share nobody
    table = re.search(r'<table class="overlap" data-entity="user">(.*?)</table>', html, re.S)
    assert table is not None
    row = re.search(r'<th class="row">churn_risk</th>(.*?)</tr>', table.group(1), re.S)
    cells = re.findall(r">(\d+)</td>", row.group(1))
    assert cells[0] == "0"  # with active (the first user segment)


def test_offline_has_no_history_and_writes_the_manifest(tmp_path):
    write_project(tmp_path, SEGMENTS)
    result = segsql(tmp_path, "docs", "generate", "--offline")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "target" / "docs" / "index.html").read_text()
    assert "no warehouse data (--offline)" in html and "Size over time" not in html
    assert (tmp_path / "target" / "manifest.json").is_file()


def test_an_unreachable_warehouse_still_gives_a_page(tmp_path):
    write_project(
        tmp_path,
        SEGMENTS,
        """
        segsql:
          target: pg
          outputs:
            pg: {type: postgres, host: 127.0.0.1, port: 1, user: x, dbname: x,
                 connect_timeout: 2}
        """,
    )
    result = segsql(tmp_path, "docs", "generate")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "target" / "docs" / "index.html").read_text()
    assert "no warehouse data:" in html


def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        require("chromium", "selenium is not installed (pip install selenium)")
    if not chromium or not driver:
        require("chromium", "chromium and chromium-driver are not installed (apt-get)")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    options.binary_location = chromium
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


def test_the_page_in_a_real_browser(site):
    from selenium.webdriver.common.by import By

    page = site / "target" / "docs" / "index.html"
    d = browser()
    try:
        d.get(page.as_uri())
        assert d.title.startswith("segsql segments")
        cards = d.find_elements(By.CSS_SELECTOR, "section.segment")
        assert len(cards) == 4
        # a chart with one point per successful run of the segment
        points = d.find_elements(By.CSS_SELECTOR, "#seg-active svg.chart.line circle.pt")
        assert len(points) == len(RUNS)
        assert all(p.is_displayed() for p in points)
        bars = d.find_elements(By.CSS_SELECTOR, "#seg-active svg.chart.bars rect.in")
        assert len(bars) == len(RUNS)
        # the search filters the list and the cards
        box = d.find_element(By.ID, "search")
        box.send_keys("churn")
        shown = [c.get_attribute("id") for c in cards if c.is_displayed()]
        assert shown == ["seg-churn_risk"]
        assert d.find_element(By.ID, "count").text == "1 of 4 segments"
        toc = [
            li.text.split()[0]
            for li in d.find_elements(By.CSS_SELECTOR, "#toc li")
            if li.is_displayed()
        ]
        assert toc == ["churn_risk"]
        box.clear()
        box.send_keys("account")  # the entity, in a description, ...
        assert {c.get_attribute("id") for c in cards if c.is_displayed()} == {"seg-busy_accounts"}
        box.clear()
        box.send_keys("nothing-like-this")
        assert d.find_element(By.ID, "nothing").is_displayed()
        box.clear()
        box.send_keys(" ")
        errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
        out = ROOT / "target"
        out.mkdir(exist_ok=True)
        d.save_screenshot(str(out / "docs_screenshot.png"))
    finally:
        d.quit()

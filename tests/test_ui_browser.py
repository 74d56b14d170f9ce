"""The Dagster UI, driven in headless Chromium against a real `dagster dev`: a person can find raw_pool in
the asset graph, materialize one source partition from the asset page, and see the run and the
materialization, while the partition's Parquet file really lands in the lake.

Needs Debian's chromium (scripts/install_chromium.sh); playwright's own browser download does not work
offline. Skipped when /usr/bin/chromium is missing, except under CI, where that is a failure.
"""

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from instruct_assets.defs.ingest.partitions import sources_partitions
from instruct_assets.defs.ingest.sensors import landing_sensor
from instruct_assets.demo.build_landing import build_demo_landing
from tests.ui_server import DagsterDevServer, dagster_dev, dagster_env, make_dagster_home, stop_sensor

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SOURCE = "demo_alpaca"
UI_TIMEOUT_MS = 30_000
RUN_TIMEOUT_MS = 180_000

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(420)]


@dataclass(frozen=True)
class UiProject:
    server: DagsterDevServer
    data_dir: Path
    sources: list[str]


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.is_file():
        reason = f"{CHROMIUM} not found: run scripts/install_chromium.sh"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"{reason} (CI is set, so the browser tests must run)")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
def ui_project(chromium: Path, tmp_path: Path) -> Iterator[UiProject]:
    """dagster dev over a small demo landing directory, its sources registered and its sensor stopped."""
    data_dir = tmp_path / "data"
    sources = sorted(build_demo_landing(data_dir / "landing", "small"))
    dagster_home = make_dagster_home(tmp_path / "dagster_home")
    env = dagster_env(dagster_home, data_dir)

    # Register the partitions ourselves and stop landing_sensor before the daemon starts: left running, the
    # sensor would launch a run for every source, demo_alpaca included, so the lake file and the
    # materialization could come from the sensor's run instead of the one launched from the UI, and its
    # runs would queue ahead of ours (max_concurrent_runs: 2). The sensor has tests of its own.
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        instance.add_dynamic_partitions(sources_partitions.name, sources)
    stop_sensor(landing_sensor.name, env)

    with dagster_dev(env, tmp_path / "dagster-dev.log") as server:
        yield UiProject(server=server, data_dir=data_dir, sources=sources)


@pytest.fixture
def page(chromium: Path, tmp_path: Path) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(UI_TIMEOUT_MS)
            # The "Join the Dagster community" pop-up opens late on a fresh instance and covers the page;
            # Playwright dismisses it whenever it shows up before an action or an assertion. It can open
            # under another dialog (the launchpad), which then intercepts a real click: dispatch the click
            # event to the Skip button itself.
            page.add_locator_handler(
                page.get_by_text("Join the Dagster community"),
                lambda _: page.get_by_role("button", name="Skip", exact=True).dispatch_event("click"),
            )
            yield page
            screenshot(page, tmp_path, "last")
        finally:
            browser.close()


def screenshot(page: Page, tmp_path: Path, name: str) -> None:
    folder = tmp_path / "screenshots"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=folder / f"{name}.png")


def test_materializing_one_source_from_the_ui_runs_and_shows_that_partition(
    ui_project: UiProject, page: Page, tmp_path: Path
) -> None:
    expect.set_options(timeout=UI_TIMEOUT_MS)
    url = ui_project.server.url
    assert SOURCE in ui_project.sources, f"the demo landing has no {SOURCE}: {ui_project.sources}"

    # The asset graph: groups start collapsed; opening "raw" shows its assets.
    page.goto(f"{url}/asset-groups")
    raw_group = page.locator('[data-tooltip="raw"]')  # the group node's title in the graph
    expect(raw_group, "the asset graph shows no 'raw' group").to_be_visible()
    raw_group.click()
    for asset in ("raw_pool", "quarantine"):
        node = page.get_by_text(asset, exact=True).filter(visible=True).first
        expect(node, f"the expanded 'raw' group in the asset graph shows no {asset}").to_be_visible()
    screenshot(page, tmp_path, "1-asset-graph")

    # The asset page, before: nothing materialized yet.
    page.goto(f"{url}/assets/raw_pool")
    expect(page.get_by_text("Never materialized")).to_be_visible()
    # Accessible names carry the icon's label ("materialization Materialize…"): match on the text.
    page.get_by_role("button", name="Materialize…").click()

    # raw_pool comes with quarantine (one multi-asset that cannot be subset): Dagster asks to confirm.
    confirm = page.get_by_text("Additional assets will be materialized")
    launch_dialog = page.get_by_text("Launch runs to materialize")
    expect(confirm.or_(launch_dialog)).to_be_visible()
    if confirm.is_visible():
        screenshot(page, tmp_path, "2-confirm-multi-asset")
        page.get_by_role("button", name="Confirm", exact=True).click()
    expect(launch_dialog).to_be_visible()

    # The partition dialog: pick demo_alpaca, and only it.
    page.get_by_text("Select a partition or create one").click()
    page.get_by_placeholder("Filter partitions").fill(SOURCE)
    option = page.get_by_role("menuitem", name=SOURCE)
    option.click()  # the item is the checkbox's label; the input itself is hidden behind a drawn box
    expect(option.get_by_role("checkbox")).to_be_checked()
    launch_dialog.click()  # closes the partition list, keeps the dialog
    expect(page.get_by_text("1 partition", exact=True)).to_be_visible()
    screenshot(page, tmp_path, "3-partition-selected")
    page.get_by_role("button", name="Launch 1 run", exact=True).click()

    # The toast names the run it launched; follow it rather than any other run.
    run_link = page.get_by_role("link", name="View", exact=True)
    expect(run_link, "no 'Launched run' toast after launching").to_be_visible()
    screenshot(page, tmp_path, "4-launched")
    href = run_link.get_attribute("href") or ""
    match = re.fullmatch(r"/runs/([0-9a-f-]{36})", href)
    assert match, f"the launch toast links to {href!r}, not to a run"
    run_id = match.group(1)

    page.goto(f"{url}/runs/{run_id}")
    expect(page.get_by_text(f"partition: {SOURCE}")).to_be_visible()
    run_status = page.get_by_text(re.compile(r"^(Success|Failure|Canceled)$")).first
    expect(run_status, f"run {run_id} did not finish within {RUN_TIMEOUT_MS // 1000} s").to_be_visible(
        timeout=RUN_TIMEOUT_MS
    )
    screenshot(page, tmp_path, "5-run")
    assert run_status.inner_text() == "Success", (
        f"run {run_id} ended as {run_status.inner_text()}; dagster dev log tail:\n"
        f"{ui_project.server.log_tail()}"
    )

    # Outside the browser: the run wrote the selected partition, and only that one.
    lake = ui_project.data_dir / "lake" / "raw_pool"
    written = sorted(p.name for p in lake.glob("*.parquet"))
    assert written == [f"{SOURCE}.parquet"], f"expected only {SOURCE}.parquet under {lake}, found {written}"
    rows = pl.read_parquet(lake / f"{SOURCE}.parquet").height
    assert rows > 0, f"{lake / f'{SOURCE}.parquet'} is empty"

    # The asset page, after: demo_alpaca materialized by that run, with the row count of the file.
    page.goto(f"{url}/assets/raw_pool")
    page.get_by_role("tab", name="Partitions", exact=True).click()
    missing = len(ui_project.sources) - 1
    expect(page.get_by_text("Materialized (1)", exact=True)).to_be_visible()
    expect(page.get_by_text(f"Missing ({missing})", exact=True)).to_be_visible()
    page.get_by_text(SOURCE, exact=True).filter(visible=True).first.click()
    expect(
        page.get_by_text("Materialized", exact=True), f"{SOURCE} is not shown as materialized"
    ).to_be_visible()
    expect(
        page.get_by_role("link", name=run_id[:8], exact=True),
        f"{SOURCE}'s materialization is not from run {run_id}",
    ).to_be_visible()
    metadata = {
        "dagster/row_count": str(rows),
        "path": str(lake / f"{SOURCE}.parquet"),
    }
    for key, value in metadata.items():
        row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=key, exact=True))
        expect(row.get_by_role("cell").nth(1), f"metadata {key} of {SOURCE}").to_have_text(value)
    screenshot(page, tmp_path, "6-partition-materialized")

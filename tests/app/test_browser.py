"""End to end in a real headless Chromium: ``streamlit run streamlit_app.py``, upload, edit, undo.

Needs Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``, ``/usr/bin/chromedriver``)
and the ``selenium`` package; skipped cleanly without them. Selenium is given the system driver, so
selenium-manager never downloads anything. Latencies (request sent -> edited image on screen) are
logged and written to ``latency.json`` beside the screenshots in the test's tmp folder.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPO = Path(__file__).resolve().parents[2]
APP = REPO / "streamlit_app.py"
#: Generous waits: the first page load builds the models (several seconds on two busy cores).
LOAD_TIMEOUT_S = 180
TURN_TIMEOUT_S = 60

logger = logging.getLogger(__name__)

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin"),
    pytest.mark.skipif(not CHROMEDRIVER.exists(), reason="chromium-driver is not installed"),
]
webdriver = pytest.importorskip("selenium.webdriver")
pytest.importorskip("streamlit")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait as _WebDriverWait  # noqa: E402

STAGE_IMAGE = ".st-key-stage img"
CHAT_BOX = "textarea[data-testid='stChatInputTextArea']"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``streamlit run streamlit_app.py`` on a free localhost port; yields its URL."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with open(log, "wb") as stream:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=stream, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start; its log:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium through the system chromedriver, with a fresh profile."""
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium-manager, if ever consulted, must not download
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1500,1100", f"--user-data-dir={tmp_path / 'profile'}",
    ):  # fmt: skip
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)


def WebDriverWait(driver, timeout: float, **options) -> _WebDriverWait:  # noqa: N802 - selenium's own name
    """selenium's wait, also retrying while Streamlit replaces an element between finding and reading it."""
    return _WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,), **options)


def _stage_src(driver) -> str | None:
    """The stage image's src, or None while there is none (or Streamlit is replacing it right now)."""
    found = driver.find_elements(By.CSS_SELECTOR, STAGE_IMAGE)
    try:
        return found[0].get_attribute("src") if found else None
    except StaleElementReferenceException:  # a rerun swapped the element between finding and reading it
        return None


def _fetch_rgb(src: str) -> np.ndarray:
    from PIL import Image

    with urllib.request.urlopen(src, timeout=10) as reply:
        return np.asarray(Image.open(io.BytesIO(reply.read())).convert("RGB"))


def _wait_for_new_image(driver, previous: str | None, timeout: float = TURN_TIMEOUT_S) -> str:
    seen: list[str] = []

    def changed(d) -> bool:
        src = _stage_src(d)
        if src is None or src == previous:
            return False
        seen.append(src)
        return True

    WebDriverWait(driver, timeout, poll_frequency=0.02).until(changed)
    return seen[-1]


def _click(driver, element) -> None:
    """Click ``element`` wherever it is (scrolled into view first; Streamlit's header can cover it)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element)


def _send(driver, text: str) -> float:
    box = WebDriverWait(driver, TURN_TIMEOUT_S).until(lambda d: d.find_element(By.CSS_SELECTOR, CHAT_BOX))
    box.send_keys(text)
    started = time.perf_counter()
    box.send_keys(Keys.ENTER)
    return started


def test_upload_edit_undo_in_a_real_browser(server, browser, tmp_path, sample_rgb):
    from editor.images import save_image

    photo = save_image(sample_rgb, tmp_path / "portrait.png")
    browser.get(server)
    uploader = WebDriverWait(browser, LOAD_TIMEOUT_S).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".st-key-main_upload input[type='file']")
    )
    browser.save_screenshot(str(tmp_path / "0-welcome.png"))
    uploader.send_keys(str(photo))
    original_src = _wait_for_new_image(browser, None, LOAD_TIMEOUT_S)
    shown = _fetch_rgb(original_src)
    expected = sample_rgb
    if shown.shape != expected.shape:  # the app may show a smaller copy, never a different photo
        from PIL import Image

        size = (shown.shape[1], shown.shape[0])
        expected = np.asarray(Image.fromarray(sample_rgb).resize(size, Image.Resampling.LANCZOS))
    assert np.abs(shown.astype(int) - expected).mean() < 4  # the photo as uploaded (JPEG on screen)
    browser.save_screenshot(str(tmp_path / "1-loaded.png"))

    latencies = []
    started = _send(browser, "make her look slightly disgusted")
    edited_src = _wait_for_new_image(browser, original_src)
    latencies.append(time.perf_counter() - started)
    edited = _fetch_rgb(edited_src)
    changed = np.abs(edited.astype(int) - shown).max(axis=2) > 12
    assert changed.sum() > 200  # the edit moved part of the face (JPEG noise alone stays below 12)
    WebDriverWait(browser, TURN_TIMEOUT_S).until(lambda d: "same person" in d.page_source)
    browser.save_screenshot(str(tmp_path / "2-edited.png"))

    downloads = tmp_path / "downloads"  # the PNG button hands over the edited photo at full size
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    png_button = browser.find_element(By.XPATH, "//button[.//p[text()='PNG']]")
    _click(browser, png_button)
    saved = downloads / "facechat.png"
    WebDriverWait(browser, TURN_TIMEOUT_S).until(lambda d: saved.is_file() and saved.stat().st_size > 0)
    from editor.images import load_image

    assert np.abs(load_image(saved).astype(int) - edited).mean() < 3  # what the screen shows, losslessly

    src = edited_src
    later = ("a bit more", "raise her eyebrows", "make her smile", "a little less", "look surprised",
             "stop smiling", "close her eyes a bit", "a bit more")  # fmt: skip
    for text in later:
        started = _send(browser, text)
        src = _wait_for_new_image(browser, src)
        latencies.append(time.perf_counter() - started)
    browser.save_screenshot(str(tmp_path / "3-later.png"))

    undo_xpath = "//button[.//p[text()='Undo']]"
    for _ in range(len(latencies)):  # back through every turn to the original, with the Undo button
        undo = WebDriverWait(browser, TURN_TIMEOUT_S).until(lambda d: d.find_element(By.XPATH, undo_xpath))
        _click(browser, undo)
        src = _wait_for_new_image(browser, src)
    WebDriverWait(browser, TURN_TIMEOUT_S).until(
        lambda d: d.find_element(By.XPATH, undo_xpath).get_attribute("disabled") is not None
    )  # nothing left to undo
    assert src == original_src  # the same bytes as the uploaded photo's display
    assert np.array_equal(_fetch_rgb(src), shown)
    browser.save_screenshot(str(tmp_path / "4-undone.png"))

    figures = {
        "first_edit_s": latencies[0],
        "later_turns_s": latencies[1:],
        "later_median_s": statistics.median(latencies[1:]),
    }
    (tmp_path / "latency.json").write_text(json.dumps(figures, indent=2))
    logger.warning("browser latencies: %s (screenshots in %s)", figures, tmp_path)
    assert figures["first_edit_s"] < 10 and figures["later_median_s"] < 5  # generous: shared 2-core machine


def test_a_file_that_is_not_a_photo_gets_a_sentence_in_the_browser(server, browser, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("a shopping list, not a photo")
    browser.get(server)
    uploader = WebDriverWait(browser, LOAD_TIMEOUT_S).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".st-key-main_upload input[type='file']")
    )
    uploader.send_keys(str(notes))
    alert = WebDriverWait(browser, TURN_TIMEOUT_S).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid='stAlertContentError']")
    )
    assert "not an image" in alert.text and "JPEG" in alert.text
    assert "Traceback" not in browser.page_source
    browser.save_screenshot(str(tmp_path / "not-a-photo.png"))


CHOICE_IMAGES = ".st-key-choices img"
VIEW_SWITCH = ".st-key-view"


def _rect(driver, element) -> dict:
    return driver.execute_script("return arguments[0].getBoundingClientRect().toJSON();", element)


def _assert_in_view(driver, selector: str) -> None:
    """The element is on screen, whole, where the app left the page (no scrolling by the test)."""
    element = driver.find_element(By.CSS_SELECTOR, selector)
    box, height = _rect(driver, element), driver.execute_script("return window.innerHeight;")
    assert box["height"] > 0 and box["top"] >= 0 and box["bottom"] <= height, (selector, box, height)


def _choice_srcs(driver) -> list[str]:
    """The sources of the A/B candidates on screen, once both have loaded (else an empty list)."""
    return driver.execute_script(  # in one script: the page re-renders under the test
        "const found = Array.from(document.querySelectorAll(arguments[0]));"
        "return found.every(e => e.complete && e.naturalWidth > 0) ? found.map(e => e.src) : [];",
        CHOICE_IMAGES,
    )


def test_a_group_photo_the_steps_command_and_an_a_b_choice_in_a_real_browser(
    server, browser, tmp_path, sample_rgb
):
    from editor.images import save_image

    group = np.concatenate([sample_rgb] * 3, axis=1)  # (512, 1536, 3): three faces side by side
    photo = save_image(group, tmp_path / "group.png")
    browser.get(server)
    uploader = WebDriverWait(browser, LOAD_TIMEOUT_S).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".st-key-main_upload input[type='file']")
    )
    uploader.send_keys(str(photo))
    src = _wait_for_new_image(browser, None, LOAD_TIMEOUT_S)
    WebDriverWait(browser, TURN_TIMEOUT_S).until(lambda d: "3 faces found" in d.page_source)
    picture = browser.find_element(By.CSS_SELECTOR, STAGE_IMAGE)
    chat_box = browser.find_element(By.CSS_SELECTOR, ".st-key-chat")
    shown, chat_area = _rect(browser, picture), _rect(browser, chat_box)
    assert shown["right"] <= chat_area["left"], (shown, chat_area)  # the wide photo leaves the chat alone
    assert chat_area["width"] > 300
    browser.save_screenshot(str(tmp_path / "1-group.png"))

    _send(browser, "make her smile")
    src = _wait_for_new_image(browser, src)
    WebDriverWait(browser, TURN_TIMEOUT_S).until(lambda d: "same person" in d.page_source)
    _assert_in_view(browser, VIEW_SWITCH)  # the view switch and the badge stay on screen after a turn
    badge = browser.find_element(
        By.XPATH, "//*[contains(@class, 'st-key-view')]/..//*[contains(., 'same person')]"
    )
    assert badge.is_displayed() and _rect(browser, badge)["bottom"] <= browser.execute_script(
        "return window.innerHeight;"
    )
    browser.save_screenshot(str(tmp_path / "2-smile.png"))

    _send(browser, "show me the steps")  # opens the Steps view
    WebDriverWait(browser, TURN_TIMEOUT_S).until(lambda d: "Step 5 of 5" in d.page_source)
    WebDriverWait(browser, TURN_TIMEOUT_S).until(lambda d: "All steps, animated" in d.page_source)
    _assert_in_view(browser, VIEW_SWITCH)
    browser.save_screenshot(str(tmp_path / "3-steps.png"))

    _send(browser, "make her angrier, but I'm not sure how much")
    WebDriverWait(browser, TURN_TIMEOUT_S).until(lambda d: len(_choice_srcs(d)) == 2)
    first = _choice_srcs(browser)
    assert first[0] != first[1]
    _assert_in_view(browser, VIEW_SWITCH)
    browser.save_screenshot(str(tmp_path / "4-question.png"))
    _click(browser, browser.find_element(By.XPATH, "//button[.//p[text()='A is closer']]"))
    WebDriverWait(browser, TURN_TIMEOUT_S).until(lambda d: (now := _choice_srcs(d)) and now != first)
    _click(browser, browser.find_element(By.XPATH, "//button[.//p[text()='Use your best guess']]"))
    WebDriverWait(browser, TURN_TIMEOUT_S).until(lambda d: not _choice_srcs(d) and _stage_src(d) is not None)
    WebDriverWait(browser, TURN_TIMEOUT_S).until(lambda d: "Chosen from your answers" in d.page_source)
    assert _stage_src(browser) != src  # the chosen anger is on the picture
    _assert_in_view(browser, VIEW_SWITCH)
    assert "Traceback" not in browser.page_source
    browser.save_screenshot(str(tmp_path / "5-chosen.png"))

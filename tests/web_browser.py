"""Driving a web export's page in real headless Chromium with selenium.

Chromium and chromedriver come from the system (Debian: ``apt-get install
chromium chromium-driver``; `.ci/run` installs them). onnxruntime-web and
tokenizers.js come from npm, installed once into a cache folder at the
versions the web exporter pins. Without Chromium the browser tests skip with
an allowed reason, except where ``ZOO_REQUIRE_BROWSER=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from zoo.runs.serving import page_url, web_server
from zoo_exports.web_exporter import ORT_WEB_VERSION, TOKENIZERS_JS_VERSION

NEEDS_BROWSER = "needs Chromium, chromedriver and npm"
#: Chromium's flags for a headless run in a container: no sandbox, no GPU, nothing fetched
#: behind the test's back; each session gets a fresh profile.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--window-size=1100,900")
NPM_PACKAGES = (f"onnxruntime-web@{ORT_WEB_VERSION}",
                f"@huggingface/tokenizers@{TOKENIZERS_JS_VERSION}")


def require_browser() -> tuple[str, str]:
    """Paths of Chromium and chromedriver, or a skip (a failure where they are required)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    missing = [name for name, path in
               [("chromium", chromium), ("chromedriver", driver), ("npm", shutil.which("npm"))]
               if path is None]
    if missing:
        message = (f"{NEEDS_BROWSER} ({', '.join(missing)} not found; "
                   "apt-get install chromium chromium-driver npm)")
        if os.environ.get("ZOO_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    assert chromium and driver
    return chromium, driver


def web_libraries() -> Path:
    """A node_modules folder holding the pinned onnxruntime-web and tokenizers.js."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "zoo-tests"
    folder = cache / ("npm-" + "-".join(p.replace("/", "_") for p in NPM_PACKAGES))
    modules = folder / "node_modules"
    if not (modules / "onnxruntime-web" / "dist").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        # --ignore-scripts: nothing here needs an install script (protobufjs' only says hello)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts",
                        "--prefix", str(folder), *NPM_PACKAGES],
                       check=True, capture_output=True, timeout=600)
    return modules


def chromium_session(chromium: str, driver: str) -> Any:
    """A selenium WebDriver on headless Chromium with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='zoo-chromium-')}")
    options.binary_location = chromium
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(driver))


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free localhost port, as `zoo serve` does; yield the page's URL."""
    server = web_server(folder, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield page_url(server)
    finally:
        server.shutdown()
        server.server_close()


class Page:
    """The sampling page, as a person uses it: fill in the form, press Generate, read."""

    def __init__(self, driver: Any, url: str) -> None:
        self.driver = driver
        driver.get(url)
        self.wait_until(lambda state: state != "loading")

    def state(self) -> str:
        return str(self.driver.find_element("tag name", "body").get_attribute("data-state"))

    def wait_until(self, done: Any, seconds: float = 120) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, seconds).until(lambda _: done(self.state()))

    def text_of(self, element_id: str) -> str:
        # textContent, not .text: the latter folds whitespace as the page renders it
        return str(self.driver.execute_script(
            "return document.getElementById(arguments[0]).textContent", element_id))

    @property
    def error(self) -> str:
        shown = self.driver.execute_script("return !document.getElementById('error').hidden")
        return self.text_of("error") if shown else ""

    def generate(self, prompt: str, **settings: Any) -> str:
        """Set the prompt and the settings (input id -> value), press Generate, return the text."""
        fields = {"prompt": prompt, **{k.replace("_", "-"): v for k, v in settings.items()}}
        for element_id, value in fields.items():
            if element_id == "stop-at-end":
                box = self.driver.find_element("id", element_id)
                if box.is_selected() != bool(value):
                    box.click()
                continue
            self.driver.execute_script(  # the value exactly, newlines included
                "document.getElementById(arguments[0]).value = arguments[1]",
                element_id, "" if value is None else str(value))
        self.driver.find_element("id", "generate").click()
        self.wait_until(lambda state: state in ("done", "error"))
        return self.text_of("output")

    def console(self) -> list[str]:
        return [entry["message"] for entry in self.driver.get_log("browser")]

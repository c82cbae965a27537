"""A real headless browser for the HTML tests: Debian's chromium and chromium-driver via Selenium.

The browser is installed on first use when missing (``apt-get install chromium chromium-driver``,
as root or with password-less sudo); where that is impossible the tests are skipped with a message
saying what to install. The browser runs with the network cut off: every host resolves to nothing,
so a page that tried to load anything from the internet would show it in the network log.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

PACKAGES = ["chromium", "chromium-driver"]


def _binaries() -> tuple[str | None, str | None]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
    return browser, driver


def apt_install(packages: list[str]) -> str:
    """Install Debian packages (as root, or with sudo -n); '' when done, else why not."""
    if not shutil.which("apt-get"):
        return "no apt-get on this machine"
    prefix = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if prefix is None:
        return "not root and no sudo"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(prefix + ["apt-get", "update", "-qq"], check=False, capture_output=True, timeout=600, env=env)
        done = subprocess.run(prefix + ["apt-get", "install", "-y", "-qq", *packages], capture_output=True, text=True,
                              timeout=900, env=env)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"apt-get failed: {exc}"
    return "" if done.returncode == 0 else f"apt-get install failed: {done.stderr[-300:]}"


def browser_or_skip():
    """A Selenium Chrome driver on Debian's chromium, network cut off; skip if none can be had."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:  # pragma: no cover - selenium is in the lock file
        pytest.skip("selenium is not installed (pip install -r requirements.lock)")
    browser, driver = _binaries()
    if not (browser and driver):
        why = apt_install(PACKAGES)
        browser, driver = _binaries()
        if not (browser and driver):
            pytest.skip(f"no headless browser: install Debian's {' and '.join(PACKAGES)} ({why})")
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--allow-file-access-from-files",
                "--host-resolver-rules=MAP * ~NOTFOUND"):   # the network is cut off
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=opts)


def requested_urls(driver) -> list[str]:
    """Every URL the page asked for (from the DevTools network log)."""
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


#: Debian's libraries WeasyPrint loads (the one-page summary's PDF).
PANGO_PACKAGES = ["libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"]


def weasyprint_or_why() -> str:
    """'' when WeasyPrint can make a PDF here; else why not. Its system libraries (pango) are
    installed with apt when missing, as the browser is."""
    def works() -> str:
        import subprocess
        import sys

        probe = ("from weasyprint import HTML; HTML(string='<p lang=da>x</p>').write_pdf()")
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
        return "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["failed"])[-1]

    why = works()
    if why:
        apt = apt_install(PANGO_PACKAGES)
        why = works()
        if why:
            return f"WeasyPrint cannot run: {why}; install Debian's {' '.join(PANGO_PACKAGES)} ({apt or 'apt-get ran'})"
    return ""

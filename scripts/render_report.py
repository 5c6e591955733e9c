#!/usr/bin/env python3
"""Render the HTML issue-link report from a demo state and screenshot it with headless Chromium.

    .venv/bin/python scripts/render_report.py --from-demo  # -> docs/report-screenshot.png
    .venv/bin/python scripts/render_report.py               # richer synthetic history (tests)
    .venv/bin/python scripts/render_report.py --html /tmp/r.html --png /tmp/r.png --hostile

Needs `chromium` (Debian: `apt-get install chromium`) for the PNG; `--no-png` only writes HTML.
Nothing touches the network: the page is self-contained and Chromium's background services are
switched off.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.unit.report_builder when run from a checkout

from docsgap.report import extras_from_state, render, rows_from_state  # noqa: E402
from docsgap.state import StateStore  # noqa: E402
from tests.unit.report_builder import DEMO_NOW, build_demo_state  # noqa: E402

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--hide-scrollbars",
    "--force-device-scale-factor=1", "--virtual-time-budget=3000",
)


def find_chromium() -> str | None:
    """The Chromium (or Chrome) binary on PATH, if any."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium(args: list[str], *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a throw-away profile and the no-network flags."""
    binary = find_chromium()
    if binary is None:
        raise SystemExit("chromium not found: apt-get install chromium (or pass --no-png)")
    with tempfile.TemporaryDirectory(prefix="docsgap-chromium-") as profile:
        return subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout, check=False,
        )


def screenshot(html: Path, png: Path, *, width: int = 1280, height: int = 1800) -> None:
    """Screenshot `html` (a local file) into `png` at the given window size."""
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    result = chromium([f"--screenshot={png}", f"--window-size={width},{height}",
                       html.resolve().as_uri()])
    if not png.is_file():
        raise SystemExit(f"chromium wrote no screenshot (exit {result.returncode}):\n"
                         f"{result.stderr[-2000:]}")


def dump_dom(url: str) -> str:
    """The DOM after the page's scripts ran (`--dump-dom`)."""
    return chromium(["--dump-dom", url]).stdout


def demo_html(path: Path, *, hostile: bool = False) -> Path:
    """Build the demo state in a temporary database and write the HTML report to `path`."""
    with tempfile.TemporaryDirectory(prefix="docsgap-demo-") as tmp:
        store = StateStore(Path(tmp) / "state.db")
        build_demo_state(store, hostile=hostile)
        html = render(rows_from_state(store), "html", generated_at=DEMO_NOW,
                      extras=extras_from_state(store), title="GitLab forum → docs issues")
        store.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--html", type=Path, help="where to keep the HTML (default: a temp file)")
    parser.add_argument("--png", type=Path, default=REPO / "docs" / "report-screenshot.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1800)
    parser.add_argument("--hostile", action="store_true", help="add a thread with a hostile title")
    parser.add_argument("--no-png", action="store_true", help="only write the HTML")
    parser.add_argument("--from-demo", action="store_true",
                        help="run `docsgap demo` against the sandbox and use its report.html")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="docsgap-report-") as tmp:
        if args.from_demo:
            from docsgap.demo import run_demo

            html = run_demo(Path(tmp) / "demo", echo=lambda _line: None)
        else:
            html = demo_html(args.html or Path(tmp) / "report.html", hostile=args.hostile)
        print(f"html: {html}")
        if not args.no_png:
            screenshot(html, args.png, width=args.width, height=args.height)
            print(f"png:  {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

import base64
import os
from pathlib import Path
from unittest.mock import patch

from odoo.tests import HttpCase
from odoo.tests.common import ChromeBrowser

SCREENSHOTS = Path(os.environ.get("CRMAI_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "docs" / "screenshots")


class CrmTourCase(HttpCase):
    """Runs a tour in headless Chromium and keeps a PNG of its last screen. A console error fails
    the tour (Odoo's browser does that), and so does a console warning; the screenshot is written
    only when the tour passed."""

    def start_tour_with_screenshot(self, url, tour, screenshot, login="admin", **kwargs):
        shot, warnings = {}, []
        original_stop = ChromeBrowser.stop
        original_console = ChromeBrowser._handle_console

        def stop_after_screenshot(browser):
            if getattr(browser, "ws", None) is not None:
                result = browser._websocket_request("Page.captureScreenshot", params={"format": "png"})
                shot["png"] = base64.b64decode(result["data"])
            original_stop(browser)

        def console_without_warnings(browser, type, args=None, stackTrace=None, **kw):  # noqa: A002
            if type in ("warning", "warn"):
                warnings.append(" ".join(str(browser._from_remoteobject(arg)) for arg in args or []))
            return original_console(browser, type, args=args, stackTrace=stackTrace, **kw)

        with (
            patch.object(ChromeBrowser, "stop", stop_after_screenshot),
            patch.object(ChromeBrowser, "_handle_console", console_without_warnings),
        ):
            self.start_tour(url, tour, login=login, **kwargs)
        self.assertEqual(warnings, [], "the browser console warned during the tour")
        self.assertTrue(shot.get("png"), "the final screen of the tour could not be captured")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"{screenshot}.png").write_bytes(shot["png"])

import base64
import os
from pathlib import Path
from unittest.mock import patch

from odoo.tests import HttpCase
from odoo.tests.common import ChromeBrowser

SCREENSHOTS = Path(os.environ.get("CRMAI_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "docs" / "screenshots")


class CrmTourCase(HttpCase):
    """Runs a tour in headless Chromium and keeps a PNG of its last screen. A console error fails
    the tour (Odoo's browser does that); the screenshot is written only when the tour passed."""

    def start_tour_with_screenshot(self, url, tour, screenshot, login="admin", **kwargs):
        shot = {}
        original_stop = ChromeBrowser.stop

        def stop_after_screenshot(browser):
            if getattr(browser, "ws", None) is not None:
                result = browser._websocket_request("Page.captureScreenshot", params={"format": "png"})
                shot["png"] = base64.b64decode(result["data"])
            original_stop(browser)

        with patch.object(ChromeBrowser, "stop", stop_after_screenshot):
            self.start_tour(url, tour, login=login, **kwargs)
        self.assertTrue(shot.get("png"), "the final screen of the tour could not be captured")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"{screenshot}.png").write_bytes(shot["png"])

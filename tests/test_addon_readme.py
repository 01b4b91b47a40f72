"""Each addon's readme/ is complete per OCA and its README.rst is generated from it, valid reST."""

import importlib.util
import io
from pathlib import Path

import docutils.core

from odoo.tests import BaseCase, tagged

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("gen_addon_readme", ROOT / "tools" / "gen_addon_readme.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)


def rst_problems(text):
    warnings = io.StringIO()
    docutils.core.publish_doctree(
        text, settings_overrides={"warning_stream": warnings, "report_level": 1, "halt_level": 5}
    )
    return warnings.getvalue()


@tagged("post_install", "-at_install")
class TestAddonReadme(BaseCase):
    def test_every_addon_has_the_oca_fragments_and_a_fresh_readme(self):
        addons = gen.addons(ROOT)
        self.assertEqual(
            sorted(addon.name for addon in addons),
            ["crm_exchange_log", "crm_installments", "crm_receivables", "crm_segments", "crm_single_truth"],
        )
        for addon in addons:
            with self.subTest(addon=addon.name):
                self.assertEqual(gen.missing_fragments(addon), [])
                text = gen.generate(addon)
                self.assertEqual(
                    (addon / "README.rst").read_text(encoding="utf-8"),
                    text,
                    "README.rst is out of date: run tools/gen_addon_readme.py",
                )
                self.assertEqual(rst_problems(text), "")
                for section in ("Configuration\n=============", "Usage\n=====", "Contributors\n------------"):
                    self.assertIn(section, text)

    def test_markdown_subset(self):
        source = (
            "## Settings\n"
            "**In 1C**\n"
            "1. Publish the base on a web server, or\n"
            "   `webinst`; then `ping`s.\n"
            "2. See [the docs](https://example.com/a_b).\n"
            'Then the `{"call_id",\n'
            '  "phone"}` body, e.g.\n'
            "\n"
            "    [queue_job]\n"
            "    channels = root:4\n"
            "\n"
            "| code | meaning |\n"
            "|---|---|\n"
            "| `onec` | 1C |\n"
            "- crm_ and |pipes| stay text\n"
        )
        rst = gen.markdown_to_rst(source)
        self.assertEqual(
            rst,
            "Settings\n"
            "--------\n"
            "\n"
            "**In 1C**\n"
            "\n"
            "1. Publish the base on a web server, or\n"
            "   ``webinst``; then ``ping``\\ s.\n"
            "2. See `the docs <https://example.com/a_b>`__.\n"
            "\n"
            'Then the ``{"call_id", "phone"}`` body, e.g.\n'
            "\n"
            "::\n"
            "\n"
            "    [queue_job]\n"
            "    channels = root:4\n"
            "\n"
            ".. list-table::\n"
            "   :header-rows: 1\n"
            "\n"
            "   * - code\n"
            "     - meaning\n"
            "   * - ``onec``\n"
            "     - 1C\n"
            "\n"
            "- crm\\_ and \\|pipes\\| stay text\n",
        )
        self.assertEqual(rst_problems(rst), "")

"""Every term of the suite is translated into Russian and Kazakh, with the same placeholders."""

import re
from pathlib import Path

import polib

from odoo.tests import TransactionCase, tagged

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ["crm_single_truth", "crm_receivables", "crm_installments", "crm_exchange_log", "crm_segments"]
LANGS = {"ru": "ru_RU", "kk": "kk_KZ"}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[-#0 +]*\d*(?:\.\d+)?[sdif]|%[-#0 +]*\d*(?:\.\d+)?[sdif]")


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):
    def test_po_files_are_complete_and_consistent(self):
        problems = []
        for addon in ADDONS:
            template = polib.pofile(str(ROOT / addon / "i18n" / f"{addon}.pot"))
            msgids = {entry.msgid for entry in template}
            for lang in LANGS:
                po = polib.pofile(str(ROOT / addon / "i18n" / f"{lang}.po"))
                translations = {entry.msgid: entry.msgstr for entry in po}
                for msgid in sorted(msgids):
                    msgstr = translations.get(msgid)
                    if not msgstr:
                        problems.append(f"{addon}/{lang}: untranslated {msgid!r}")
                    elif sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr)):
                        problems.append(f"{addon}/{lang}: placeholders differ in {msgid!r}")
        self.assertEqual(problems, [])

    def test_terms_load_into_the_ui(self):
        for code in LANGS.values():
            self.env["res.lang"]._activate_lang(code)
        self.env["ir.module.module"].search([("name", "in", ADDONS)])._update_translations(list(LANGS.values()))
        Partner = self.env["res.partner"]
        ru = Partner.with_context(lang="ru_RU").fields_get(["crm_ltv", "crm_payment_rating"], ["string", "selection"])
        kk = Partner.with_context(lang="kk_KZ").fields_get(["crm_ltv", "crm_payment_rating"], ["string", "selection"])
        self.assertEqual(ru["crm_ltv"]["string"], "Сумма покупок")
        self.assertEqual(kk["crm_ltv"]["string"], "Сатып алу сомасы")
        self.assertIn(("excellent", "Отлично"), [tuple(s) for s in ru["crm_payment_rating"]["selection"]])
        self.assertIn(("excellent", "Өте жақсы"), [tuple(s) for s in kk["crm_payment_rating"]["selection"]])
        menu = self.env.ref("crm_single_truth.menu_crmai_contracts")
        self.assertEqual(menu.with_context(lang="kk_KZ").name, "Шарттар")

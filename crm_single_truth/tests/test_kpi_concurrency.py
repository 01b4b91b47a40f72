import threading
from contextlib import closing
from datetime import date
from decimal import Decimal

import psycopg2.errors

from odoo import SUPERUSER_ID, api, sql_db
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL


@tagged("post_install", "-at_install")
class TestKpiConcurrentDeltas(TransactionCase):
    """Two transactions adding a delta to the same customer at once: the second waits for the
    first, then fails with a serialization conflict that Odoo retries (the request, the cron job);
    the retry adds its delta to the committed row. No delta is lost. Runs on cursors of its own
    (committed data, removed afterwards)."""

    def apply(self, cr, partner_id, company_id, amount):
        env = api.Environment(cr, SUPERUSER_ID, {})
        key = (partner_id, company_id, date(2026, 1, 1))
        deltas = {"ltv": Decimal(amount), "order_count": 1, "paid_amount": Decimal(0), "paid_delay_amount": Decimal(0)}
        env["crm.partner.kpi"]._crm_apply_deltas({key: (deltas, [date(2026, 1, 10)], [])})

    def test_concurrent_deltas_are_all_applied(self):
        db = sql_db.db_connect(self.env.cr.dbname)
        company_id = self.env.company.id
        with closing(db.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner_id = env["res.partner"].create({"name": "KPI concurrency", "is_company": True}).id
            env.flush_all()
            cr.commit()  # pylint: disable=invalid-commit
        outcome = {}
        try:
            first = db.cursor()
            second = db.cursor()
            try:
                self.apply(first, partner_id, company_id, "100.10")

                def concurrent():
                    attempts = 0
                    while True:
                        attempts += 1
                        try:
                            self.apply(second, partner_id, company_id, "50.05")
                            second.commit()  # pylint: disable=invalid-commit
                            break
                        except psycopg2.errors.SerializationFailure:
                            second.rollback()  # what Odoo's retry does before running again
                    outcome["attempts"] = attempts

                thread = threading.Thread(target=concurrent)
                thread.start()
                thread.join(1.0)
                self.assertTrue(thread.is_alive(), "the second transaction waits for the first")
                first.commit()  # pylint: disable=invalid-commit
                thread.join(30)
                self.assertFalse(thread.is_alive())
            finally:
                first.close()
                second.close()
            self.assertEqual(outcome["attempts"], 2)
            with closing(db.cursor()) as cr:
                cr.execute(
                    SQL(
                        "SELECT ltv::text, order_count FROM crm_partner_kpi WHERE partner_id = %s AND company_id = %s",
                        partner_id,
                        company_id,
                    )
                )
                ltv, count = cr.fetchone()
            self.assertEqual((Decimal(ltv), count), (Decimal("150.15"), 2))
        finally:
            with closing(db.cursor()) as cr:
                cr.execute("DELETE FROM crm_partner_kpi_month WHERE partner_id = %s", [partner_id])
                cr.execute("DELETE FROM crm_partner_kpi WHERE partner_id = %s", [partner_id])
                cr.execute("DELETE FROM res_partner WHERE id = %s", [partner_id])
                cr.commit()  # pylint: disable=invalid-commit

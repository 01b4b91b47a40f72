import random
from datetime import timedelta
from decimal import Decimal

from odoo.tests import tagged
from odoo.tools import SQL

from .common import CrmKpiCommon

HISTORIES = 50
SEED = 17
COLUMNS = (
    "partner_id, company_id, ltv::text, order_count, first_order_date, last_order_date, "
    "paid_amount::text, paid_delay_amount::text, round(avg_payment_delay, 2)::text"
)


@tagged("post_install", "-at_install")
class TestKpiDeltaMatchesRebuild(CrmKpiCommon):
    """The rows maintained by deltas (posting, cancelling, paying, unreconciling, confirming and
    cancelling orders, in any order, read or not in between) equal, to the cent, the rows a full
    rebuild from the documents gives. bench/ runs the same on 1,000 histories."""

    def rows(self, partner_ids):
        Kpi = self.env["crm.partner.kpi"]
        Kpi._crm_apply_pending()
        customer = self.env.execute_query(
            SQL("SELECT %s FROM crm_partner_kpi WHERE partner_id = ANY(%s) ORDER BY 1, 2", SQL(COLUMNS), partner_ids)
        )
        monthly = self.env.execute_query(
            SQL(
                "SELECT partner_id, company_id, month, ltv::text, order_count, first_order_date, last_order_date,"
                " paid_amount::text, paid_delay_amount::text FROM crm_partner_kpi_month"
                " WHERE partner_id = ANY(%s) ORDER BY 1, 2, 3",
                partner_ids,
            )
        )
        # compare numbers, not their printed scale (100.0 and 100.00 are the same amount)
        normalise = lambda rows: [tuple(_num(value) for value in row) for row in rows]  # noqa: E731
        return normalise(customer), normalise(monthly)

    def play(self, rng, customer):
        contact = self.env["res.partner"].create({"name": f"{customer.name} buyer", "parent_id": customer.id})
        invoices, payments, orders = [], [], []
        for _step in range(rng.randint(4, 8)):
            action = rng.choice(["invoice", "invoice", "refund", "order", "pay", "pay", "unpay", "cancel", "cancel_so"])
            buyer = rng.choice([customer, contact])
            days_ago = rng.randint(0, 1500)
            amount = rng.randint(100, 500000) + rng.randint(0, 99) / 100
            if action == "invoice":
                invoices.append(self.invoice(amount, days_ago=days_ago, partner=buyer, due_days=rng.randint(1, 60)))
            elif action == "refund":
                self.invoice(amount / 3, days_ago=days_ago, partner=buyer, move_type="out_refund")
            elif action == "order":
                orders.append(self.sale_order(amount, days_ago=days_ago, partner=buyer))
            elif action == "pay" and invoices:
                open_invoices = [inv for inv in invoices if inv.state == "posted" and inv.payment_state == "not_paid"]
                if open_invoices:
                    invoice = rng.choice(open_invoices)
                    paid_days_ago = max(0, (self.today - invoice.invoice_date).days - rng.randint(0, 90))
                    partial = invoice.amount_total / 2 if rng.random() < 0.3 else None
                    payments.append(self.pay(invoice, amount=partial, days_ago=paid_days_ago))
            elif action == "unpay" and payments:
                payment = payments.pop(rng.randrange(len(payments)))
                payment.move_id.line_ids.remove_move_reconcile()
            elif action == "cancel" and invoices:
                invoice = invoices.pop(rng.randrange(len(invoices)))
                if invoice.payment_state == "not_paid":
                    invoice.button_draft()
                    if rng.random() < 0.5:
                        invoice.action_post()  # reposted: counted again
                        invoices.append(invoice)
                    else:
                        invoice.button_cancel()
            elif action == "cancel_so" and orders:
                orders.pop(rng.randrange(len(orders)))._action_cancel()
            if rng.random() < 0.3:
                customer.invalidate_recordset()
                self.assertIsNotNone(customer.crm_ltv)  # a read in between applies the deltas so far

    def assertRowsEqualRebuild(self, partner_ids):
        """The rows kept by deltas for ``partner_ids`` are those a rebuild from the documents gives."""
        delta = self.rows(partner_ids)
        self.env["crm.partner.kpi"]._crm_rebuild(partner_ids)
        self.assertEqual(delta, self.rows(partner_ids))

    def test_delta_equals_rebuild_on_random_histories(self):
        rng = random.Random(SEED)
        customers = self.env["res.partner"].create(
            [{"name": f"Random History {index}", "is_company": True} for index in range(HISTORIES)]
        )
        for customer in customers:
            self.play(rng, customer)
        ids = (customers | customers.child_ids).commercial_partner_id.ids
        delta = self.rows(ids)
        self.assertTrue(delta[0], "the histories produced KPI rows")
        self.env["crm.partner.kpi"]._crm_rebuild(ids)
        rebuilt = self.rows(ids)
        self.assertEqual(delta[0], rebuilt[0])
        self.assertEqual(delta[1], rebuilt[1])

    def test_posting_reads_no_history(self):
        """Posting an invoice of a customer with history neither rebuilds nor reads its documents:
        the queries of the KPI maintenance do not grow with the history."""
        for days_ago in range(30, 330, 10):
            self.invoice(1000.0, days_ago=days_ago)
        self.env["crm.partner.kpi"]._crm_apply_pending()
        Kpi = type(self.env["crm.partner.kpi"])
        calls = []
        original = Kpi._crm_rebuild

        def spy(model, partner_ids=None):
            calls.append(partner_ids)
            return original(model, partner_ids)

        Kpi._crm_rebuild = spy
        try:
            self.invoice(5000.0, days_ago=1)
            self.env["crm.partner.kpi"]._crm_apply_pending()
        finally:
            Kpi._crm_rebuild = original
        self.assertEqual(calls, [])
        self.assertEqual(self.customer.crm_order_count, 31)
        self.assertEqual(self.customer.crm_ltv, 35000.0)

    def test_cancelling_the_last_purchase_moves_the_last_date_back(self):
        self.invoice(100.0, days_ago=40)
        last = self.invoice(100.0, days_ago=38)  # same month or the one before: the month is re-read
        self.assertEqual(self.customer.crm_last_order_date, self.days_ago(38))
        last.button_draft()
        last.button_cancel()
        self.assertEqual(self.customer.crm_last_order_date, self.days_ago(40))
        self.assertEqual(self.customer.crm_first_order_date, self.days_ago(40))

    def test_rebuild_before_commit_counts_each_document_once(self):
        """Documents posted, then a rebuild in the same transaction (the install hook after the
        demo data, the repair command): the commit does not add their deltas again."""
        Kpi = self.env["crm.partner.kpi"]
        self.invoice(1000.0, days_ago=5)
        Kpi._crm_rebuild()
        self.invoice(250.0, days_ago=4)
        Kpi._crm_rebuild([self.customer.id])
        self.invoice(40.5, days_ago=3)
        Kpi._crm_apply_pending()  # as the commit does
        self.assertEqual(self.customer.crm_order_count, 3)
        self.assertEqual(self.customer.crm_ltv, 1290.5)

    def test_posting_is_one_statement(self):
        """Invoices just posted (nothing counted before) are read and added to the monthly and
        customer rows in one statement, the rows equal to a rebuild."""
        self.invoice(1000.0, days_ago=40)
        Kpi = self.env["crm.partner.kpi"]
        Kpi._crm_apply_pending()
        self.invoice(250.25, days_ago=3)
        self.invoice(100.0, days_ago=2, move_type="out_refund")
        self.env.flush_all()
        with self.assertQueryCount(1):
            Kpi._crm_apply_pending()
        self.assertRowsEqualRebuild([self.customer.id])
        self.assertEqual(self.customer.crm_order_count, 2)
        self.assertEqual(self.customer.crm_ltv, 1150.25)

    def test_posting_paid_or_deleted_in_the_transaction(self):
        """Invoices posted and paid, or created and deleted, before the deltas are applied: their
        contributions are read from the database (the settlement day, nothing), equal to a rebuild."""
        Kpi = self.env["crm.partner.kpi"]
        invoice = self.invoice(800.0, days_ago=20, due_days=5)
        self.pay(invoice, days_ago=10)
        self.invoice(300.0, days_ago=3, post=False).unlink()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        Kpi._crm_apply_pending()
        self.assertRowsEqualRebuild([self.customer.id])
        self.assertEqual(self.customer.crm_ltv, 800.0)
        self.assertEqual(self.customer.crm_avg_payment_delay, 5.0)

    def test_credit_note_emptying_a_month_leaves_no_row(self):
        """A credit note posted against the only invoice of its month (the invoice of an order
        confirmed another month: no purchase in that month) leaves the month empty: its row goes,
        as a rebuild would not create it."""
        order = self.sale_order(1000.0, days_ago=100)
        invoice = order._create_invoices()
        invoice.invoice_date = self.days_ago(10)
        invoice.action_post()
        Kpi = self.env["crm.partner.kpi"]
        Kpi._crm_apply_pending()
        month = self.days_ago(10).replace(day=1)
        Month = self.env["crm.partner.kpi.month"]
        self.assertTrue(Month.search([("partner_id", "=", self.customer.id), ("month", "=", month)]))
        self.invoice(1000.0, days_ago=10, move_type="out_refund")
        Kpi._crm_apply_pending()
        self.assertFalse(Month.search([("partner_id", "=", self.customer.id), ("month", "=", month)]))
        self.assertRowsEqualRebuild([self.customer.id])
        self.assertEqual(self.customer.crm_order_count, 1)
        self.assertEqual(self.customer.crm_ltv, 0.0)

    def test_customer_deleted_with_its_documents(self):
        """Documents changed, then their customer deleted in the same transaction: its rows go
        with it and the pending deltas are not written for it."""
        customer = self.env["res.partner"].create({"name": "Short-lived LLP", "is_company": True})
        invoice = self.invoice(100.0, days_ago=3, partner=customer)
        self.env["crm.partner.kpi"]._crm_apply_pending()
        invoice.button_draft()
        invoice.with_context(force_delete=True).unlink()
        customer.unlink()
        self.env["crm.partner.kpi"]._crm_apply_pending()
        self.assertFalse(self.env["crm.partner.kpi.month"].search([("partner_id", "=", customer.id)]))


def _num(value):
    if isinstance(value, str):
        return Decimal(value)
    return value


@tagged("post_install", "-at_install")
class TestPeriodFromMonthlyRows(CrmKpiCommon):
    def test_any_period_equals_the_documents(self):
        """crm_get_kpis of any range (whole months from the monthly rows, partial edge months from
        the documents) equals the figures computed from the documents alone."""
        rng = random.Random(SEED + 1)
        player = TestKpiDeltaMatchesRebuild.play
        for _round in range(3):
            player(self, rng, self.customer)
        Kpi = self.env["crm.partner.kpi"]
        Kpi._crm_apply_pending()
        company_ids = self.customer._crm_company_ids()
        for _case in range(40):
            start = self.today - timedelta(days=rng.randint(0, 1600))
            end = start + timedelta(days=rng.randint(0, 1200)) if rng.random() < 0.7 else None
            start = start if rng.random() < 0.9 else None
            kpis = self.customer.crm_get_kpis(start, end)
            [(ltv, count, first, last)] = self.env.execute_query(
                SQL(
                    "SELECT COALESCE(SUM(ltv), 0), COALESCE(SUM(order_count), 0), MIN(first_day), MAX(last_day)"
                    " FROM (%s) s WHERE company_id = ANY(%s)",
                    Kpi._crm_purchase_sql([self.customer.id], start, end),
                    company_ids,
                )
            )
            case = f"{start} - {end}"
            self.assertEqual(self.currency.compare_amounts(kpis["ltv"], ltv), 0, case)
            self.assertEqual(kpis["order_count"], count, case)
            self.assertEqual(kpis["first_order_date"] or None, first, case)
            self.assertEqual(kpis["last_order_date"] or None, last, case)

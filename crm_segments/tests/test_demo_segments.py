from odoo import Command
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestDemoSegments(TransactionCase):
    """The demo database shows the sleeping large customers, and waking one up moves it out."""

    def setUp(self):
        super().setUp()
        self.company = self.env.ref("crm_single_truth.company_dala_demo", raise_if_not_found=False)
        if not self.company:
            self.skipTest("demo data not loaded")
        self.env = self.env(context=dict(self.env.context, allowed_company_ids=[self.company.id]))

    def test_sleeping_large_customers_and_a_wake_up(self):
        segment = self.env.ref("crm_segments.segment_sleeping_large").with_company(self.company)
        sleeping = self.env["res.partner"].browse(
            [self.env.ref(f"crm_single_truth.partner_sleeping_{i}_demo").id for i in range(1, 13)]
        )
        current = segment.membership_ids.filtered(lambda m: not m.date_end).partner_id
        self.assertEqual(current, sleeping)
        self.assertEqual(segment.partner_count, 12)
        self.assertNotIn(self.env.ref("crm_single_truth.partner_mashstroy_demo"), current)

        customer = sleeping[0].with_company(self.company)
        product = (
            self.env["product.product"].with_company(self.company).create({"name": "Wake-up offer", "list_price": 1000})
        )
        order = (
            self.env["sale.order"]
            .with_company(self.company)
            .create(
                {
                    "partner_id": customer.id,
                    "company_id": self.company.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_uom_qty": 1,
                                "price_unit": 1000,
                                "tax_id": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        order.action_confirm()
        segment._refresh_members()
        self.assertNotIn(customer, segment.membership_ids.filtered(lambda m: not m.date_end).partner_id)
        self.assertEqual(segment.partner_count, 11)
        activity = customer.activity_ids.filtered(
            lambda a: (a.summary or "").endswith("left the segment Sleeping Large")
        )
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, customer.user_id)

from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, tagged

from odoo.addons.crm_single_truth.tests.tour_common import CrmTourCase


@tagged("post_install", "-at_install")
class TestTimelineWidget(HttpCase):
    def test_timeline_on_plan_and_partner(self):
        admin = self.env.ref("base.user_admin")
        company = admin.company_id
        today = fields.Date.context_today(admin)
        partner = self.env["res.partner"].create({"name": "Timeline Customer", "is_company": True, "company_id": False})
        plan = (
            self.env["crm.installment.plan"]
            .with_company(company)
            .create(
                {
                    "partner_id": partner.id,
                    "amount_total": 3000.0,
                    "installment_count": 3,
                    "interval": "month",
                    "date_first": today - timedelta(days=20),
                    "currency_id": company.currency_id.id,
                    "company_id": company.id,
                }
            )
        )
        plan.action_confirm()
        self.assertEqual(plan.line_ids.sorted("date_due")[0].state, "overdue")
        self.start_tour(
            f"/odoo/action-crm_installments.crm_installment_plan_action/{plan.id}",
            "crm_installments_timeline_tour",
            login="admin",
        )
        self.start_tour(f"/odoo/contacts/{partner.id}", "crm_installments_partner_tour", login="admin")


@tagged("post_install", "-at_install")
class TestInstallmentsFromSaleOrder(CrmTourCase):
    def test_plan_from_sale_order_and_a_payment(self):
        admin = self.env.ref("base.user_admin")
        company = admin.company_id
        product = self.env["product.product"].create(
            {"name": "Токарный станок ДТ-20", "list_price": 1_200_000, "taxes_id": []}
        )
        order = (
            self.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": self.env["res.partner"].create({"name": "ТОО «Рассрочка»", "is_company": True}).id,
                    "company_id": company.id,
                    "order_line": [
                        Command.create(
                            {"product_id": product.id, "product_uom_qty": 1, "price_unit": 1_200_000, "tax_id": []}
                        )
                    ],
                }
            )
        )
        order.action_confirm()
        self.start_tour_with_screenshot(
            f"/odoo/sale.order/{order.id}", "crm_installments_from_sale_order_tour", "installment_plan"
        )
        plan = self.env["crm.installment.plan"].search([("sale_order_id", "=", order.id)])
        self.assertEqual(plan.state, "active")
        self.assertEqual(plan.line_ids.mapped("amount"), [300_000.0] * 4)
        self.assertEqual(plan.amount_paid, 300_000.0)
        self.assertEqual(plan.line_ids.sorted("date_due").mapped("state"), ["paid", "pending", "pending", "pending"])

from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestTimelineWidget(HttpCase):
    def test_timeline_on_plan_and_partner(self):
        admin = self.env.ref("base.user_admin")
        company = admin.company_id
        today = fields.Date.context_today(admin)
        partner = self.env["res.partner"].create({"name": "Timeline Customer", "is_company": True,
                                                  "company_id": False})
        plan = self.env["crm.installment.plan"].with_company(company).create({
            "partner_id": partner.id, "amount_total": 3000.0, "installment_count": 3, "interval": "month",
            "date_first": today - timedelta(days=20), "currency_id": company.currency_id.id,
            "company_id": company.id,
        })
        plan.action_confirm()
        self.assertEqual(plan.line_ids.sorted("date_due")[0].state, "overdue")
        self.start_tour(f"/odoo/action-crm_installments.crm_installment_plan_action/{plan.id}",
                        "crm_installments_timeline_tour", login="admin")
        self.start_tour(f"/odoo/contacts/{partner.id}", "crm_installments_partner_tour", login="admin")

from datetime import date

from odoo import fields

from odoo.addons.crm_single_truth.tests.common import CrmKpiCommon


class InstallmentCommon(CrmKpiCommon):
    """A customer with a contract carrying the penalty terms of the issue: 0.1 % a day after 5
    grace days, capped at 10 %."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Plan = cls.env["crm.installment.plan"]
        cls.contract = cls.env["crm.contract"].create(
            {
                "name": "INST-TEST-1",
                "partner_id": cls.customer.id,
                "state": "active",
                "date_start": date(2020, 1, 1),
                "penalty_rate": 0.1,
                "penalty_grace_days": 5,
                "penalty_cap_percent": 10.0,
            }
        )

    @classmethod
    def make_plan(
        cls, amount, count=3, interval="month", date_first=date(2025, 1, 31), down_payment=0.0, confirm=True, **values
    ):
        plan = cls.Plan.create(
            {
                "partner_id": cls.customer.id,
                "amount_total": amount,
                "installment_count": count,
                "interval": interval,
                "date_first": date_first,
                "down_payment": down_payment,
                "currency_id": cls.currency.id,
                **values,
            }
        )
        plan.action_compute_schedule()
        if confirm:
            plan.action_confirm()
        return plan

    def schedule(self, plan):
        return [(fields.Date.to_string(line.date_due), line.amount) for line in plan.line_ids.sorted("date_due")]

    def paid(self, plan):
        return [line.amount_paid for line in plan.line_ids.sorted(lambda inst: (inst.date_due, inst.sequence, inst.id))]

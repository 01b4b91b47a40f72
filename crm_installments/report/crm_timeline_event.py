from odoo import api, models
from odoo.tools import SQL


class CrmTimelineEvent(models.Model):
    """Installment payments recorded by hand (not through accounting, whose payments are already
    on the timeline) appear on the customer's timeline, opening their plan."""

    _inherit = "crm.timeline.event"

    @api.model
    def _get_timeline_sources(self):
        return {
            **super()._get_timeline_sources(),
            "crm_installment_payment": SQL("""
                SELECT pay.id, plan.commercial_partner_id, plan.partner_id, pay.date::timestamp, 'payment',
                       'crm.installment.plan', plan.id, plan.name, pay.amount, pay.state,
                       plan.user_id, plan.company_id
                  FROM crm_installment_payment pay
                  JOIN crm_installment_plan plan ON plan.id = pay.plan_id
                 WHERE pay.move_id IS NULL AND pay.partial_id IS NULL
            """),
        }

from odoo import api, models
from odoo.tools import SQL


class CrmReceivableAging(models.Model):
    """Installments in the aging, without counting anything twice.

    An invoice's receivable journal items are already in the aging. A plan of an invoice only
    reschedules that debt, so its lines are *not* added (the invoice's open items stay, with the
    invoice's own due dates). A plan without an invoice (of a sale order not invoiced yet, or of a
    contract) is debt that accounting does not see yet: its open lines join the aging with their
    own due dates, as long as the plan is active, is in the company currency and its sale order
    has no posted invoice.
    """

    _inherit = "crm.receivable.aging"

    @api.model
    def _get_aging_sources(self):
        return super()._get_aging_sources() + [
            SQL(
                """
            SELECT plan.commercial_partner_id AS partner_id, line.company_id,
                   line.date_due, line.amount_residual AS amount
              FROM crm_installment_line line
              JOIN crm_installment_plan plan ON plan.id = line.plan_id
              JOIN res_company company ON company.id = plan.company_id
             WHERE plan.state = 'active' AND plan.invoice_id IS NULL
               AND plan.currency_id = company.currency_id
               AND line.amount_residual > 0
               AND (plan.sale_order_id IS NULL OR NOT EXISTS (
                   SELECT 1 FROM sale_order_line sol
                     JOIN sale_order_line_invoice_rel rel ON rel.order_line_id = sol.id
                     JOIN account_move_line aml ON aml.id = rel.invoice_line_id
                    WHERE sol.order_id = plan.sale_order_id AND aml.parent_state = 'posted'))
            """
            )
        ]

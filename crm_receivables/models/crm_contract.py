from odoo import fields, models


class CrmContract(models.Model):
    _inherit = "crm.contract"

    crm_dunning_policy_id = fields.Many2one(
        "crm.dunning.policy",
        string="Dunning Policy",
        domain="[('company_id', 'in', (company_id, False))]",
        help="Reminders of the invoices of this contract; empty: the customer's policy, then the company's.",
    )
    crm_invoice_ids = fields.One2many("account.move", "crm_contract_id", string="Invoices", readonly=True)

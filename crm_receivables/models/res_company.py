from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    crm_bad_debt_account_id = fields.Many2one(
        "account.account",
        string="Bad Debt Account",
        check_company=True,
        help="Expense account debited when a customer's debt is written off as bad.",
    )

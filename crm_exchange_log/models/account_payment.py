from odoo import fields, models


class AccountPayment(models.Model):
    _inherit = "account.payment"

    crm_onec_ref = fields.Char(
        string="1C Reference",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="Reference of the incoming payment in 1C: applied once.",
    )

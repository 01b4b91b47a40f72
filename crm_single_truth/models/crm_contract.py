from odoo import fields, models


class CrmContract(models.Model):
    _name = "crm.contract"
    _description = "Customer Contract"
    _inherit = ["mail.thread", "mail.activity.mixin"]

    name = fields.Char(string="Number", required=True)
    partner_id = fields.Many2one("res.partner", required=True, index=True)
    user_id = fields.Many2one("res.users", string="Responsible", default=lambda self: self.env.user)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..tools.legal_id import is_valid_inn, is_valid_kpp, is_valid_kz_bin_iin

CONTACT_ROLES = [
    ("purchaser", "Purchaser"),
    ("accountant", "Accountant"),
    ("director", "Director"),
    ("engineer", "Engineer"),
    ("other", "Other"),
]


class ResPartner(models.Model):
    """B2B legal data, contact roles and contracts of a counterparty."""

    _inherit = "res.partner"

    crm_inn = fields.Char(string="INN", size=12, help="Russian taxpayer number: 10 digits for organisations, 12 for individuals.")
    crm_kpp = fields.Char(string="KPP", size=9, help="Russian tax registration reason code (9 characters).")
    crm_bin = fields.Char(string="BIN", size=12, help="Kazakh business identification number (12 digits).")
    crm_iin = fields.Char(string="IIN", size=12, help="Kazakh individual identification number (12 digits).")
    crm_legal_address = fields.Text(string="Legal Address")
    crm_actual_address = fields.Text(string="Actual Address")
    crm_contact_role = fields.Selection(CONTACT_ROLES, string="Role", help="Role of this contact person at the customer.")
    crm_contract_ids = fields.One2many("crm.contract", "partner_id", string="Contracts")
    crm_contract_count = fields.Integer(string="Contract Count", compute="_compute_crm_contract_count")

    @api.constrains("crm_inn", "crm_kpp", "crm_bin", "crm_iin")
    def _check_crm_legal_ids(self):
        checks = (
            ("crm_inn", is_valid_inn, _("INN %(value)s of %(partner)s is invalid: it must have 10 or 12 digits with correct check digits.")),
            ("crm_kpp", is_valid_kpp, _("KPP %(value)s of %(partner)s is invalid: it must have 9 characters (4 digits, 2 digits or capital letters, 3 digits).")),
            ("crm_bin", is_valid_kz_bin_iin, _("BIN %(value)s of %(partner)s is invalid: it must have 12 digits with a correct control digit.")),
            ("crm_iin", is_valid_kz_bin_iin, _("IIN %(value)s of %(partner)s is invalid: it must have 12 digits with a correct control digit.")),
        )
        for partner in self:
            for fname, is_valid, message in checks:
                value = partner[fname]
                if value and not is_valid(value):
                    raise ValidationError(message % {"value": value, "partner": partner.display_name})

    @api.depends("crm_contract_ids")
    def _compute_crm_contract_count(self):
        groups = self.env["crm.contract"]._read_group(
            [("partner_id", "in", self.commercial_partner_id.ids)], ["partner_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.crm_contract_count = counts.get(partner.commercial_partner_id.id, 0)

    def action_crm_open_contracts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_single_truth.crm_contract_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action

    def action_crm_open_contact(self):
        """Open a contact person's own card (and its own history) from the company card."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
        }

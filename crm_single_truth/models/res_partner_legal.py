from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..tools.legal_id import (
    clean_legal_id,
    is_inn_format,
    is_kz_bin_iin_format,
    is_valid_inn,
    is_valid_kpp,
    is_valid_kz_bin_iin,
)

LEGAL_ID_FIELDS = ("crm_inn", "crm_kpp", "crm_bin", "crm_iin")


class ResPartner(models.Model):
    """B2B legal data, contact roles and contracts of a counterparty."""

    _inherit = "res.partner"

    # no size= on purpose: a value of the wrong length gets the explanatory ValidationError
    # below instead of a database error
    crm_inn = fields.Char(
        string="INN", index="btree_not_null",
        help="Russian taxpayer number: 10 digits for organisations, 12 for individuals.",
    )
    crm_kpp = fields.Char(string="KPP", help="Russian tax registration reason code (9 characters).")
    crm_bin = fields.Char(
        string="BIN", index="btree_not_null", help="Kazakh business identification number (12 digits)."
    )
    crm_iin = fields.Char(
        string="IIN", index="btree_not_null", help="Kazakh individual identification number (12 digits)."
    )
    crm_legal_address = fields.Text(string="Legal Address")
    crm_actual_address = fields.Text(string="Actual Address")
    crm_contact_role = fields.Selection(
        [
            ("purchaser", "Purchaser"),
            ("accountant", "Accountant"),
            ("director", "Director"),
            ("engineer", "Engineer"),
            ("other", "Other"),
        ],
        string="Role",
        help="Role of this contact person at the customer.",
    )
    crm_contract_ids = fields.One2many(
        "crm.contract", "partner_id", string="Contracts", groups="crm_single_truth.group_crm_user"
    )
    crm_contract_count = fields.Integer(
        string="Contract Count", compute="_compute_crm_contract_count", groups="crm_single_truth.group_crm_user"
    )

    # ------------------------------------------------------------------ legal identifiers
    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._crm_clean_legal_vals(vals) for vals in vals_list])

    def write(self, vals):
        return super().write(self._crm_clean_legal_vals(vals))

    @api.model
    def _crm_clean_legal_vals(self, vals):
        """Drop the spaces people type inside numbers; capitalise the KPP's letters."""
        if not any(isinstance(vals.get(fname), str) for fname in LEGAL_ID_FIELDS):
            return vals
        vals = dict(vals)
        for fname in LEGAL_ID_FIELDS:
            if isinstance(vals.get(fname), str):
                value = clean_legal_id(vals[fname])
                vals[fname] = (value.upper() if fname == "crm_kpp" else value) or False
        return vals

    @api.constrains(*LEGAL_ID_FIELDS)
    def _check_crm_legal_ids(self):
        for partner in self:
            for fname in LEGAL_ID_FIELDS:
                if partner[fname] and (message := partner._crm_legal_id_error(fname)):
                    raise ValidationError(message)

    def _crm_legal_id_error(self, fname):
        """Why the value of ``fname`` is not a valid number, or None when it is."""
        self.ensure_one()
        value, partner = self[fname], self.display_name
        if fname == "crm_inn":
            if not is_inn_format(value):
                return _(
                    "INN %(value)s of %(partner)s must have 10 digits (organisation) or 12 digits (individual).",
                    value=value, partner=partner,
                )
            if not is_valid_inn(value):
                return _("INN %(value)s of %(partner)s has an invalid checksum.", value=value, partner=partner)
        elif fname == "crm_kpp":
            if not is_valid_kpp(value):
                return _(
                    "KPP %(value)s of %(partner)s must have 9 characters: 4 digits, 2 digits or capital "
                    "latin letters, 3 digits.",
                    value=value, partner=partner,
                )
        elif fname in ("crm_bin", "crm_iin"):
            label = _("BIN") if fname == "crm_bin" else _("IIN")
            if not is_kz_bin_iin_format(value):
                return _(
                    "%(label)s %(value)s of %(partner)s must have 12 digits.",
                    label=label, value=value, partner=partner,
                )
            if not is_valid_kz_bin_iin(value):
                return _(
                    "%(label)s %(value)s of %(partner)s has an invalid checksum.",
                    label=label, value=value, partner=partner,
                )
        return None

    # ------------------------------------------------------------------ contracts
    @api.depends("commercial_partner_id.crm_contract_ids")
    def _compute_crm_contract_count(self):
        groups = self.env["crm.contract"]._read_group(
            [("partner_id", "in", self.commercial_partner_id.ids)], ["partner_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.crm_contract_count = counts.get(partner.commercial_partner_id.id, 0)

    def action_crm_open_contracts(self):
        """Smart button: the contracts of the partner's commercial entity, in every state."""
        self.ensure_one()
        commercial = self.commercial_partner_id
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_single_truth.crm_contract_action")
        action["domain"] = [("partner_id", "=", commercial.id)]
        action["context"] = {"default_partner_id": commercial.id}
        return action

    def action_crm_open_contact(self):
        """Open a contact person's own card (and so its own history) from the company card."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

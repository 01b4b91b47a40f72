import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression
from odoo.tools import SQL

from ..tools.phone import phone_key, phone_key_sql

TELEGRAM_HANDLE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")


class ResPartner(models.Model):
    """Messenger handles with click-to-chat links, calls and the matching of inbound senders."""

    _inherit = "res.partner"

    crm_whatsapp = fields.Char(string="WhatsApp", help="WhatsApp number in international format, e.g. +7 701 123 45 67.")
    crm_telegram = fields.Char(string="Telegram", help="Telegram username (without @) or numeric user id.")
    crm_whatsapp_url = fields.Char(string="WhatsApp Chat", compute="_compute_crm_messenger_urls")
    crm_telegram_url = fields.Char(string="Telegram Chat", compute="_compute_crm_messenger_urls")
    crm_call_ids = fields.One2many("crm.call", "partner_id", string="Call History")
    crm_call_count = fields.Integer(string="Calls", compute="_compute_crm_call_count")

    def init(self):
        super().init()
        for column in ("phone", "mobile", "crm_whatsapp"):
            self.env.cr.execute(SQL(
                "CREATE INDEX IF NOT EXISTS %s ON res_partner (%s)",
                SQL.identifier(f"res_partner_crm_{column}_key_idx"),
                SQL(phone_key_sql(column)),
            ))

    @api.depends("crm_whatsapp", "crm_telegram")
    def _compute_crm_messenger_urls(self):
        for partner in self:
            digits = re.sub(r"\D", "", partner.crm_whatsapp or "")
            handle = (partner.crm_telegram or "").strip().lstrip("@")
            partner.crm_whatsapp_url = f"https://wa.me/{digits}" if digits else False
            partner.crm_telegram_url = f"https://t.me/{handle}" if handle and not handle.isdigit() else False

    @api.constrains("crm_whatsapp", "crm_telegram")
    def _check_crm_messenger_handles(self):
        for partner in self:
            if partner.crm_whatsapp and not phone_key(partner.crm_whatsapp):
                raise ValidationError(_("%(number)s is not a WhatsApp phone number.", number=partner.crm_whatsapp))
            handle = (partner.crm_telegram or "").strip().lstrip("@")
            if handle and not handle.isdigit() and not TELEGRAM_HANDLE.match(handle):
                raise ValidationError(_(
                    "%(handle)s is not a Telegram username (5-32 letters, digits and underscores).",
                    handle=partner.crm_telegram,
                ))

    def _compute_crm_call_count(self):
        groups = self.env["crm.call"]._read_group(
            [("commercial_partner_id", "in", self.commercial_partner_id.ids)], ["commercial_partner_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.crm_call_count = counts.get(partner.commercial_partner_id.id, 0)

    @api.model
    def _crm_find_by_phone(self, number):
        """The partner whose phone, mobile or WhatsApp number is ``number`` (companies' contacts
        first, then the most recently edited), or an empty recordset."""
        key = phone_key(number)
        if not key:
            return self.browse()
        clauses = SQL(" OR ").join(SQL("%s = %s", SQL(phone_key_sql(column)), key) for column in ("phone", "mobile", "crm_whatsapp"))
        self.flush_model(["phone", "mobile", "crm_whatsapp", "active"])
        rows = self.env.execute_query(SQL(
            "SELECT id FROM res_partner WHERE active AND (%s) ORDER BY write_date DESC, id DESC LIMIT 1", clauses
        ))
        return self.browse(rows[0][0]) if rows else self.browse()

    @api.model
    def _crm_find_by_telegram(self, username=None, user_id=None):
        handles = [str(user_id)] if user_id else []
        if username:
            handles += [username, "@" + username]
        if not handles:
            return self.browse()
        domain = expression.OR([[("crm_telegram", "=ilike", handle)] for handle in handles])
        return self.search(domain, order="write_date desc, id desc", limit=1)

    def action_crm_open_calls(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_single_truth.crm_call_action")
        action["domain"] = [("partner_id", "child_of", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

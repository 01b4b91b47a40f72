from odoo import api, fields, models
from odoo.tools import SQL

from .crm_dunning_level import ACTIONS, CHANNELS


class CrmDunningEvent(models.Model):
    """A reminder acted on: exactly once per document, level and action. The row is claimed
    before anything is sent (see ``crm.dunning.policy._claim``)."""

    _name = "crm.dunning.event"
    _description = "Dunning Event"
    _order = "date desc, id desc"

    res_model = fields.Char(string="Document Model", required=True, index=True, readonly=True)
    res_id = fields.Many2oneReference(string="Document", model_field="res_model", required=True, readonly=True)
    move_id = fields.Many2one(
        "account.move", string="Invoice", index="btree_not_null", ondelete="cascade", readonly=True
    )
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True, readonly=True)
    recipient_id = fields.Many2one(
        "res.partner", string="Sent To", readonly=True, help="The contact reminded: accountant, director or company."
    )
    user_id = fields.Many2one("res.users", string="Activity For", readonly=True)
    level_id = fields.Many2one("crm.dunning.level", required=True, ondelete="restrict", readonly=True)
    policy_id = fields.Many2one("crm.dunning.policy", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    offset_days = fields.Integer(readonly=True)
    action = fields.Selection(ACTIONS, required=True, readonly=True)
    channel = fields.Selection(CHANNELS, readonly=True)
    date = fields.Date(required=True, readonly=True)
    state = fields.Selection(
        [("done", "Done"), ("failed", "Failed")],
        default="done",
        required=True,
        readonly=True,
        help="Failed: the channel refused the message (see the error); it is not sent again by itself.",
    )
    error = fields.Text(readonly=True)
    mail_message_id = fields.Many2one("mail.message", string="Message", readonly=True, ondelete="set null")

    _sql_constraints = [
        (
            "document_level_action_uniq",
            "unique(res_model, res_id, level_id, action)",
            "A reminder level is acted on once per document and action.",
        )
    ]

    def init(self):
        res = super().init()
        # an event is claimed (inserted), then completed once (recipient, message): room left on
        # each page lets that update stay on the page without touching the indexes (HOT)
        self.env.cr.execute(SQL("SELECT reloptions FROM pg_class WHERE relname = %s", self._table))
        if "fillfactor=50" not in (self.env.cr.fetchone()[0] or []):
            self.env.cr.execute(SQL("ALTER TABLE %s SET (fillfactor = 50)", SQL.identifier(self._table)))
        return res

    @api.depends("res_model", "res_id", "level_id")
    def _compute_display_name(self):
        for event in self:
            document = event.res_model and event.res_id and self.env[event.res_model].browse(event.res_id).sudo()
            event.display_name = f"{document.display_name if document else ''} - {event.level_id.name or ''}"

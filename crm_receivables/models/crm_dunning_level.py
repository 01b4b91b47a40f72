from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..tools.dunning import ACTION_CHANNELS, channel_allowed

ACTIONS = [
    ("email_customer", "Remind the customer"),
    ("activity_manager", "Activity for the salesperson"),
    ("activity_supervisor", "Activity for the supervisor"),
]
CHANNELS = [("email", "Email"), ("whatsapp", "WhatsApp"), ("telegram", "Telegram"), ("activity", "Activity")]


class CrmDunningLevel(models.Model):
    """One action of a dunning policy, a number of days from the due date. Several levels may
    share a day (an email to the customer and an activity for the salesperson at -3)."""

    _name = "crm.dunning.level"
    _description = "Dunning Level"
    _order = "offset_days, id"

    policy_id = fields.Many2one("crm.dunning.policy", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="policy_id.company_id")
    name = fields.Char(required=True, translate=True)
    offset_days = fields.Integer(
        string="Days from Due Date", required=True, help="Negative: before the due date (a friendly reminder)."
    )
    action = fields.Selection(ACTIONS, required=True, default="email_customer")
    channel = fields.Selection(
        CHANNELS,
        required=True,
        default="email",
        help="How the customer is reminded: an email, a WhatsApp or Telegram message (with the invoice as a "
        "document); activities are scheduled in the CRM.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Message Template",
        domain="[('model', '=', 'res.partner')]",
        help="The words of the reminder; a WhatsApp or Telegram message takes its text.",
    )
    attach_pdf = fields.Boolean(
        string="Attach the Invoice PDF", default=True, help="The reminder carries the PDF of each invoice it names."
    )
    activity_summary = fields.Char(translate=True)

    _sql_constraints = [
        (
            "offset_action_uniq",
            "unique(policy_id, offset_days, action, channel)",
            "A policy cannot do the same action through the same channel twice on one day.",
        )
    ]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "channel" not in vals:  # activities go through the activity channel
                vals["channel"] = ACTION_CHANNELS[vals.get("action") or "email_customer"][0]
        return super().create(vals_list)

    @api.onchange("action")
    def _onchange_action(self):
        if not channel_allowed(self.action, self.channel):
            self.channel = ACTION_CHANNELS[self.action][0]

    @api.constrains("action", "channel")
    def _check_channel(self):
        actions = dict(self._fields["action"]._description_selection(self.env))
        channels = dict(self._fields["channel"]._description_selection(self.env))
        for level in self:
            if not channel_allowed(level.action, level.channel):
                raise ValidationError(
                    _(
                        "Level %(level)s: the action %(action)s cannot go through the channel %(channel)s.",
                        level=level.name,
                        action=actions[level.action],
                        channel=channels[level.channel],
                    )
                )

    def _activity_user(self, document):
        """Who gets this level's activity on ``document``: the salesperson for
        ``activity_manager``; for ``activity_supervisor`` the leader of the document's sales
        team, else the policy's supervisor, else the salesperson. The same rule for every kind
        of document."""
        self.ensure_one()
        responsible = document._crm_dunning_responsible()
        if self.action == "activity_supervisor":
            user = document._crm_dunning_team().user_id or self.policy_id.supervisor_id or responsible
        else:
            user = responsible
        return user or self.env.user

from odoo import _, fields, models


class CrmDunningLevel(models.Model):
    _name = "crm.dunning.level"
    _description = "Dunning Level"
    _order = "offset_days, id"

    policy_id = fields.Many2one("crm.dunning.policy", required=True, index=True, ondelete="cascade")
    name = fields.Char(required=True, translate=True)
    offset_days = fields.Integer(
        string="Days from Due Date", required=True, help="Negative: before the due date (a friendly reminder)."
    )
    action = fields.Selection(
        [
            ("email_customer", "Email the customer"),
            ("activity_manager", "Activity for the salesperson"),
            ("activity_supervisor", "Activity for the supervisor"),
        ],
        required=True,
        default="email_customer",
    )
    mail_template_id = fields.Many2one(
        "mail.template", string="Email Template", domain="[('model', '=', 'res.partner')]"
    )
    activity_summary = fields.Char(translate=True)

    _sql_constraints = [
        ("offset_uniq", "unique(policy_id, offset_days)", "Two levels of a policy cannot have the same day.")
    ]

    def _send_email(self, partner, moves, levels=None):
        """One email to ``partner`` listing ``moves``, in this level's words; ``levels`` maps each
        invoice to the level it is reminded at (this one when missing)."""
        self.ensure_one()
        if not self.mail_template_id:
            return
        template = self.mail_template_id
        values = {"invoices": moves.sorted("invoice_date_due"), "level": self}
        # rendered in the customer's language, with the invoices of this run listed
        body = template._render_field("body_html", partner.ids, compute_lang=True, add_context=values)[partner.id]
        subject = template._render_field("subject", partner.ids, compute_lang=True)[partner.id]
        partner.with_context(mail_notify_force_send=False).message_post(
            body=body,
            subject=subject,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=partner.ids,
        )
        for move in moves:
            level = (levels or {}).get(move, self)
            move.message_post(body=_("Reminder sent to the customer: %(level)s", level=level.name))

    def _activity_user(self, move):
        self.ensure_one()
        if self.action == "activity_supervisor":
            user = move.team_id.user_id or self.policy_id.supervisor_id
        else:
            user = move.invoice_user_id or move.commercial_partner_id.user_id
        return user or self.env.user

    def _schedule_activity(self, moves):
        """The level's activity on each of ``moves``, for its responsible user: one batch
        ``activity_schedule`` per user, not one per invoice."""
        self.ensure_one()
        by_user = {}
        for move in moves:
            by_user.setdefault(self._activity_user(move), []).append(move.id)
        for user, move_ids in by_user.items():
            self.env["account.move"].browse(move_ids).activity_schedule(
                "mail.mail_activity_data_call" if self.action == "activity_manager" else "mail.mail_activity_data_todo",
                summary=self.activity_summary or self.name,
                user_id=user.id,
            )

import logging

from odoo import _, api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)
BATCH = 1000


class CrmDunningPolicy(models.Model):
    """How overdue invoices are chased: levels by days from the due date, each an email to the
    customer or an activity for the salesperson or the supervisor."""

    _name = "crm.dunning.policy"
    _description = "Dunning Policy"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", help="Default policy of this company; empty: of every company.")
    is_default = fields.Boolean(string="Company Default", help="Used for customers without a policy of their own.")
    supervisor_id = fields.Many2one("res.users", string="Supervisor", domain="[('share', '=', False)]",
                                    help="Gets the escalation activities when the sales team has no leader.")
    level_ids = fields.One2many("crm.dunning.level", "policy_id", string="Levels", copy=True)

    @api.model
    def _default_policy(self, company):
        return self.search([("is_default", "=", True), ("company_id", "in", (company.id, False))],
                           order="company_id, sequence", limit=1)

    @api.model
    def _top_level_due(self, move, today, defaults=None):
        """The highest level of the customer's policy due for ``move`` on ``today`` (or nothing).
        ``defaults`` caches the default policy per company during one run."""
        defaults = {} if defaults is None else defaults
        if move.company_id not in defaults:
            defaults[move.company_id] = self._default_policy(move.company_id)
        policy = move.commercial_partner_id.crm_dunning_policy_id or defaults[move.company_id]
        days = (today - move.invoice_date_due).days
        return policy.level_ids.filtered(lambda level: level.offset_days <= days).sorted("offset_days")[-1:]

    @api.model
    def _cron_run_dunning(self, date_ref=None):
        """Act on every open invoice at the highest dunning level due, once per invoice and level.

        An event row is claimed with INSERT ... ON CONFLICT DO NOTHING before anything is sent,
        in the same transaction: two workers cannot both claim it, a crash rolls both back, and a
        cron late by days acts only on the highest level due, not on the backlog."""
        today = fields.Date.to_date(date_ref) if date_ref else fields.Date.context_today(self)
        Move = self.env["account.move"]
        do_not_dun = self.env.ref("crm_receivables.tag_do_not_dun", raise_if_not_found=False)
        domain = [
            ("move_type", "=", "out_invoice"), ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")), ("invoice_date_due", "!=", False),
            "|", ("crm_dunning_paused_until", "=", False), ("crm_dunning_paused_until", "<", today),
            "|", ("commercial_partner_id.crm_dunning_paused_until", "=", False),
            ("commercial_partner_id.crm_dunning_paused_until", "<", today),
        ]
        if do_not_dun:
            domain.append(("commercial_partner_id.category_id", "not in", do_not_dun.ids))
        moves = Move.search(domain, order="id")
        done = self.env["crm.dunning.event"].search_fetch(
            [("move_id", "in", moves.ids)], ["move_id", "offset_days"]
        )
        highest_done = {}
        for event in done:
            highest_done[event.move_id.id] = max(highest_done.get(event.move_id.id, -10**6), event.offset_days)
        to_act = []
        defaults = {}
        for move in moves:
            top = self._top_level_due(move, today, defaults)
            if not top or highest_done.get(move.id, -10**6) >= top.offset_days:
                continue
            to_act.append((move, top))
            if len(to_act) >= BATCH:
                break
        acted = self._claim_and_act(to_act, today)
        self.env["ir.cron"]._notify_progress(done=len(acted), remaining=0)
        return acted

    def _claim_and_act(self, pairs, today):
        Event = self.env["crm.dunning.event"]
        claimed = []
        for move, level in pairs:
            self.env.cr.execute(SQL(
                """
                INSERT INTO crm_dunning_event (move_id, partner_id, level_id, policy_id, company_id, offset_days,
                                               action, date, create_uid, create_date, write_uid, write_date)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, NOW() AT TIME ZONE 'UTC', %s, NOW() AT TIME ZONE 'UTC')
                ON CONFLICT (move_id, level_id) DO NOTHING
                RETURNING id
                """,
                move.id, move.commercial_partner_id.id, level.id, level.policy_id.id, move.company_id.id,
                level.offset_days, level.action, today, self.env.uid, self.env.uid,
            ))
            row = self.env.cr.fetchone()
            if row:
                claimed.append((move, level, row[0]))
        Event.invalidate_model()
        # one email per customer and level, listing all its invoices of this run
        emails = {}
        for move, level, _event_id in claimed:
            if level.action == "email_customer":
                emails.setdefault((move.commercial_partner_id, level), self.env["account.move"])
                emails[(move.commercial_partner_id, level)] |= move
            else:
                level._schedule_activity(move)
        for (partner, level), moves in emails.items():
            level._send_email(partner, moves)
        return Event.browse([event_id for _m, _l, event_id in claimed])

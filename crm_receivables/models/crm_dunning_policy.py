import logging

import psycopg2.errors

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)
BATCH = 1000
# first key of the advisory locks taken on invoices being dunned (second key: the invoice id)
ADVISORY_LOCK_KEY = 0x43524D44  # 'CRMD'


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
    supervisor_id = fields.Many2one(
        "res.users",
        string="Supervisor",
        domain="[('share', '=', False)]",
        help="Gets the escalation activities when the sales team has no leader.",
    )
    level_ids = fields.One2many("crm.dunning.level", "policy_id", string="Levels", copy=True)

    @api.model
    def _default_policy(self, company):
        return self.search(
            [("is_default", "=", True), ("company_id", "in", (company.id, False))],
            order="company_id, sequence",
            limit=1,
        )

    @api.model
    def _top_level_due(self, move, today, defaults=None):
        """The highest level of the invoice's policy (contract, else customer, else company) due
        for ``move`` on ``today`` (or nothing). ``defaults`` caches the default policy per company
        during one run."""
        policy = move._crm_dunning_policy(defaults)
        days = (today - move._crm_dunning_due_date()).days
        return policy.level_ids.filtered(lambda level: level.offset_days <= days).sorted("offset_days")[-1:]

    @api.model
    def _get_dunning_domain(self, today):
        """Open customer invoices that may be reminded on ``today`` (pauses and the tag excluded)."""
        do_not_dun = self.env.ref("crm_receivables.tag_do_not_dun", raise_if_not_found=False)
        domain = [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
            ("invoice_date_due", "!=", False),
            "|",
            ("crm_dunning_paused_until", "=", False),
            ("crm_dunning_paused_until", "<", today),
            "|",
            ("crm_deferral_date", "=", False),
            ("crm_deferral_date", "<", today),
            "|",
            ("commercial_partner_id.crm_dunning_paused_until", "=", False),
            ("commercial_partner_id.crm_dunning_paused_until", "<", today),
        ]
        if do_not_dun:
            domain.append(("commercial_partner_id.category_id", "not in", do_not_dun.ids))
        return domain

    @api.model
    def _cron_run_dunning(self, date_ref=None, batch_size=BATCH, partners=None):
        """Act on every open invoice at the highest dunning level due, once per invoice and level.

        An event row is claimed with INSERT ... ON CONFLICT DO NOTHING before anything is sent,
        in the same transaction: two workers cannot both claim it, a crash rolls both back, and a
        cron late by days acts only on the highest level due, not on the backlog. At most
        ``batch_size`` invoices are acted on per call; the scheduler commits and calls again
        while some remain. ``partners``: only the invoices of these customers."""
        today = fields.Date.to_date(date_ref) if date_ref else fields.Date.context_today(self)
        domain = self._get_dunning_domain(today)
        if partners is not None:
            domain.append(("commercial_partner_id", "in", partners.commercial_partner_id.ids))
        moves = self.env["account.move"].search(domain, order="id")
        done = self.env["crm.dunning.event"].search_fetch([("move_id", "in", moves.ids)], ["move_id", "offset_days"])
        highest_done = {}
        for event in done:
            highest_done[event.move_id.id] = max(highest_done.get(event.move_id.id, -(10**6)), event.offset_days)
        to_act = []
        defaults = {}
        for move in moves:
            top = self._top_level_due(move, today, defaults)
            if top and highest_done.get(move.id, -(10**6)) < top.offset_days:
                to_act.append((move, top))
        batch, rest = to_act[:batch_size], to_act[batch_size:]
        acted = self._claim_and_act(batch, today)
        self.env["ir.cron"]._notify_progress(done=len(acted), remaining=len(rest))
        return acted

    @api.model
    def _try_lock_moves(self, moves):
        """Invoices of ``moves`` that no other transaction is dunning right now (transaction-level
        advisory locks, released at commit or rollback). A concurrent worker skips them instead
        of waiting; unlike ``FOR UPDATE`` this never blocks users registering payments."""
        if not moves:
            return moves
        self.env.cr.execute(
            SQL(
                "SELECT id FROM unnest(%s::int[]) AS id WHERE pg_try_advisory_xact_lock(%s, id)",
                moves.ids,
                ADVISORY_LOCK_KEY,
            )
        )
        return moves.browse([row[0] for row in self.env.cr.fetchall()])

    def _claim(self, move, level, today):
        """Insert the event of (move, level); its id, or None when it exists already. Under
        REPEATABLE READ, a row committed by another worker after this transaction began raises
        a serialization failure instead of a conflict: it is claimed by someone else all the same."""
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        """
                    INSERT INTO crm_dunning_event (move_id, partner_id, level_id, policy_id, company_id, offset_days,
                                                   action, date, create_uid, create_date, write_uid, write_date)
                    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, NOW() AT TIME ZONE 'UTC', %s, NOW() AT TIME ZONE 'UTC')
                    ON CONFLICT (move_id, level_id) DO NOTHING
                    RETURNING id
                    """,
                        move.id,
                        move.commercial_partner_id.id,
                        level.id,
                        level.policy_id.id,
                        move.company_id.id,
                        level.offset_days,
                        level.action,
                        today,
                        self.env.uid,
                        self.env.uid,
                    )
                )
                row = self.env.cr.fetchone()
        except psycopg2.errors.SerializationFailure:
            _logger.info("Dunning of %s at level %s already done by another worker", move.name, level.name)
            return None
        return row and row[0]

    def _claim_and_act(self, pairs, today):
        Event = self.env["crm.dunning.event"]
        self.env.flush_all()
        locked = self._try_lock_moves(self.env["account.move"].union(*[move for move, _level in pairs]))
        claimed = []
        for move, level in pairs:
            if move not in locked:
                continue
            event_id = self._claim(move, level, today)
            if event_id:
                claimed.append((move, level, event_id))
        Event.invalidate_model()
        # one email per customer, company and run, listing all its invoices reminded in this run,
        # in the words of the firmest level among them, sent in the name of the invoices' company
        emails, activities = {}, {}
        for move, level, _event_id in claimed:
            if level.action == "email_customer":
                emails.setdefault((move.commercial_partner_id, move.company_id), []).append((move, level))
            else:
                activities.setdefault(level, []).append(move.id)
        for level, move_ids in activities.items():
            level._schedule_activity(self.env["account.move"].browse(move_ids))
        for (partner, company), items in emails.items():
            firmest = max((level for _move, level in items), key=lambda level: (level.offset_days, level.id))
            firmest.with_company(company)._send_email(
                partner.with_company(company),
                self.env["account.move"].union(*[move for move, _level in items]),
                levels={move: level for move, level in items},
            )
        return Event.browse([event_id for _m, _l, event_id in claimed])

import logging
from collections import defaultdict

import psycopg2.errors

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, html2plaintext

from ..tools.greeting import greeting

_logger = logging.getLogger(__name__)
BATCH = 1000
DUNNING_GROUPS = ("crm_single_truth.group_crm_user", "account.group_account_invoice")
ACTIVITY_TYPES = {
    "activity_manager": "mail.mail_activity_data_call",
    "activity_supervisor": "mail.mail_activity_data_todo",
}


class CrmDunningPolicy(models.Model):
    """How open documents are chased: levels by days from the due date, each a reminder to the
    customer (email, WhatsApp, Telegram) or an activity for the salesperson or the supervisor.
    One engine for every kind of document (``crm.dunning.document``): invoices here, installments
    in crm_installments."""

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
    def _crm_dunning_models(self):
        """The kinds of documents the engine chases; other addons add theirs."""
        return ["account.move"]

    @api.model
    def _crm_check_dunning_access(self):
        """Running the dunning by hand is for salespeople and invoicing users."""
        if not self.env.su and not any(self.env.user.has_group(group) for group in DUNNING_GROUPS):
            raise AccessError(_("Only salespeople and accountants can send reminders."))

    # ------------------------------------------------------------------ selection
    @api.model
    def _crm_dunning_days(self, date_ref=None):
        """SQL relation ``d(company_id, today, default_policy_id)``: each company's local date
        (``date_ref`` when given) and default policy."""
        companies = self.env["res.company"].sudo().search([])
        rows = [
            SQL(
                "(%s, %s::date, %s)",
                company.id,
                fields.Date.to_date(date_ref) if date_ref else company._crm_today(),
                self.sudo()._default_policy(company).id or None,
            )
            for company in companies
        ]
        return SQL("(VALUES %s) AS d(company_id, today, default_policy_id)", SQL(", ").join(rows))

    @api.model
    def _crm_dunning_candidates(self, model, days, partner_ids=None, document_ids=None, company_ids=None):
        """``[(document id, level id, customer id, company id, day)]`` due for ``model``, in
        document order: for each level, the documents whose due date makes it the highest level
        due on their company's day (a cron late by days acts on the highest level only), with no
        event for it nor for a higher level. One statement, so a rerun costs what it acts on.
        ``document_ids``, ``company_ids``: only these documents, of these companies."""
        Document = self.env[model]
        self.env.flush_all()
        return self.env.execute_query(
            SQL(
                """
            WITH src AS (%(source)s),
            lvl AS (
                SELECT l.id, l.policy_id, l.offset_days, l.action,
                       (SELECT MIN(n.offset_days) FROM crm_dunning_level n
                         WHERE n.policy_id = l.policy_id AND n.offset_days > l.offset_days) AS next_offset
                  FROM crm_dunning_level l
                  JOIN crm_dunning_policy p ON p.id = l.policy_id AND p.active
            )
            SELECT src.id, lvl.id, src.partner_id, src.company_id, d.today
              FROM src
              JOIN %(days)s ON d.company_id = src.company_id
              JOIN lvl ON lvl.policy_id = src.policy_id
             WHERE src.due_date <= d.today - lvl.offset_days
               AND (lvl.next_offset IS NULL OR src.due_date > d.today - lvl.next_offset)
               AND %(documents)s AND %(companies)s
               AND NOT EXISTS (
                    SELECT 1 FROM crm_dunning_event e
                     WHERE e.res_model = %(model)s AND e.res_id = src.id
                       AND (e.offset_days > lvl.offset_days OR (e.level_id = lvl.id AND e.action = lvl.action)))
             ORDER BY src.id, lvl.offset_days, lvl.id
            """,
                source=Document._crm_dunning_source_sql(days, partner_ids),
                days=days,
                model=model,
                documents=SQL("src.id = ANY(%s)", list(document_ids)) if document_ids is not None else SQL("TRUE"),
                companies=SQL("src.company_id = ANY(%s)", list(company_ids))
                if company_ids is not None
                else SQL("TRUE"),
            )
        )

    @api.model
    def _cron_run_dunning(self, date_ref=None, batch_size=BATCH, partners=None, **kwargs):
        """Act on every open document at the highest dunning level due, once per document, level
        and action. Each company counts days on its own local date (``date_ref`` overrides it).

        At most ``batch_size`` documents are acted on per call; the scheduler commits and calls
        again while some truly remain (reported through ``_notify_progress``). ``partners``:
        only the documents of these customers; ``document_models``: only these kinds (with
        ``document_ids``: only these documents); ``company_ids``: only these companies."""
        company_ids = kwargs.get("company_ids")
        if company_ids is None and not self.env.su:
            company_ids = self.env.companies.ids  # a user's run stays in the user's companies
        self = self.sudo()  # the engine's work: callers check access first
        models_ = kwargs.get("document_models") or self._crm_dunning_models()
        partner_ids = partners.commercial_partner_id.ids if partners is not None else None
        days = self._crm_dunning_days(date_ref)
        candidates = [
            (model, *row)
            for model in models_
            for row in self._crm_dunning_candidates(model, days, partner_ids, kwargs.get("document_ids"), company_ids)
        ]
        documents = list(dict.fromkeys((model, doc_id) for model, doc_id, *_rest in candidates))
        batch = set(documents[:batch_size])
        events, retry = self._claim_and_act([row for row in candidates if row[:2] in batch])
        self.env["ir.cron"]._notify_progress(done=len(batch) - retry, remaining=len(documents) - len(batch) + retry)
        return events

    # ------------------------------------------------------------------ claim
    @api.model
    def _claim(self, model, rows):
        """Insert the events of ``rows`` ``[(document id, level id, customer id, company id,
        day)]`` of ``model``, skipping those that exist: ``[event id]`` claimed by this
        transaction, with what the documents need written before reminding (an access token)
        written in the same step: acting on them writes no document row afterwards, so it
        cannot conflict with another cron. A unique (document, level, action) makes it exactly
        once. Under REPEATABLE
        READ, an event committed by another worker after this transaction began, or a document
        changed by another cron since (the foreign key check), raises a serialization failure
        instead: the claim is left to the next call (``None``), without an ERROR in the log."""
        query = SQL(
            """
            INSERT INTO crm_dunning_event (res_model, res_id, %(doc_field)s, partner_id, level_id, policy_id,
                                           company_id, offset_days, action, channel, date, state,
                                           create_uid, create_date, write_uid, write_date)
            SELECT %(model)s, c.doc_id, c.doc_id, c.partner_id, l.id, l.policy_id, c.company_id, l.offset_days,
                   l.action, l.channel, c.day, 'done',
                   %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
              FROM unnest(%(doc_ids)s::int[], %(level_ids)s::int[], %(partner_ids)s::int[], %(company_ids)s::int[],
                          %(days)s::date[]) AS c(doc_id, level_id, partner_id, company_id, day)
              JOIN crm_dunning_level l ON l.id = c.level_id
            ON CONFLICT (res_model, res_id, level_id, action) DO NOTHING
            RETURNING id
            """,
            doc_field=SQL.identifier(self.env[model]._crm_dunning_event_field),
            model=model,
            uid=self.env.uid,
            doc_ids=[row[0] for row in rows],
            level_ids=[row[1] for row in rows],
            partner_ids=[row[2] for row in rows],
            company_ids=[row[3] for row in rows],
            days=[row[4] for row in rows],
        )
        prepare = self.env[model]._crm_dunning_prepare_sql(sorted({row[0] for row in rows}))
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(query, log_exceptions=False)
                claimed = [row[0] for row in self.env.cr.fetchall()]
                if prepare is not None:
                    self.env.cr.execute(prepare, log_exceptions=False)
                return claimed
        except (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected) as error:
            _logger.info(
                "Dunning of %s %s left to the next call (%s)", model, sorted({r[0] for r in rows}), error.pgcode
            )
            return None

    @api.model
    def _claim_and_act(self, candidates):
        """Lock and claim ``candidates`` ``[(model, document id, level id, customer id, company
        id, day)]``, then act on what was claimed: (events, number of documents left to retry)."""
        Event = self.env["crm.dunning.event"]
        self.env.flush_all()
        by_model = defaultdict(list)
        for model, *row in candidates:
            by_model[model].append(row)
        event_ids, retry = [], 0
        for model, rows in by_model.items():
            locked = set(self.env[model]._crm_try_lock(sorted({row[0] for row in rows})))
            rows = [row for row in rows if row[0] in locked]
            if not rows:
                continue
            claimed = self._claim(model, rows)
            if claimed is None:
                retry += len({row[0] for row in rows})
                continue
            event_ids += claimed
            self.env[model].invalidate_model()
        Event.invalidate_model()
        events = Event.browse(event_ids)
        self._act(events)
        return events, retry

    # ------------------------------------------------------------------ act
    @api.model
    def _act(self, events):
        """Remind through each event's level: one message per customer, company, channel and
        kind of document listing all of its documents reminded now, in the words of the firmest
        level among them; activities in one batch per level and user."""
        reminders, activities = defaultdict(list), defaultdict(list)
        # the documents browsed together, so that reading one reads the batch (prefetch)
        ids_by_model = defaultdict(list)
        for event in events:
            ids_by_model[event.res_model].append(event.res_id)
        documents = {
            (model, document.id): document
            for model, ids in ids_by_model.items()
            for document in self.env[model].browse(ids)
        }
        for event in events:
            document = documents[(event.res_model, event.res_id)]
            level = event.level_id
            if level.action == "email_customer":
                reminders[(event.partner_id, event.company_id, level.channel, event.res_model)].append(
                    (event, document)
                )
            else:
                user = level._activity_user(document)
                activities[(level, user, document._crm_dunning_activity_note())].append((event, document))
        for (level, user, note), items in activities.items():
            targets = [document._crm_dunning_activity_target() for _event, document in items]
            targets[0].union(*targets).activity_schedule(
                ACTIVITY_TYPES[level.action],
                summary=level.activity_summary or level.name,
                note=note or "",
                user_id=user.id,
            )
            self.env["crm.dunning.event"].union(*[event for event, _d in items]).sudo().write({"user_id": user.id})
        for (partner, company, channel, _model), items in reminders.items():
            self.with_company(company)._remind(partner.with_company(company), channel, items)

    def _remind(self, partner, channel, items):
        """One reminder to ``partner`` (its accountant, else director, else itself) through
        ``channel`` about ``items`` ``[(event, document)]``."""
        Event = self.env["crm.dunning.event"]
        events = Event.union(*[event for event, _d in items])
        documents = self.env[items[0][1]._name].union(*[document for _e, document in items])
        firmest = max(events.level_id, key=lambda level: (level.offset_days, level.id))
        recipient = partner._crm_dunning_recipient(channel)
        try:
            with self.env.cr.savepoint():
                message = self._send_reminder(partner, recipient, channel, firmest, documents)
        except UserError as error:
            events.sudo().write({"state": "failed", "error": str(error), "recipient_id": recipient.id})
            _logger.info("Reminder to %s through %s failed: %s", recipient.display_name, channel, error)
            return
        events.sudo().write({"recipient_id": recipient.id, "mail_message_id": message.id if message else False})
        for event, document in items:
            document._crm_dunning_log(event.level_id, recipient)

    def _render_reminder(self, recipient, level, documents):
        """Subject and HTML body of ``level``'s template for ``recipient``, in their language,
        with the greeting etiquette expects and the documents listed."""
        template = level.mail_template_id
        if not template:
            raise UserError(_("The dunning level %(level)s has no message template.", level=level.name))
        lang = template._render_lang(recipient.ids)[recipient.id] or recipient.lang
        values = {
            "greeting": greeting(recipient.name, lang, is_company=recipient.is_company),
            "documents": documents.with_context(lang=lang)._crm_dunning_values(),
            "invoices": documents if documents._name == "account.move" else self.env["account.move"],
            "lines": documents if documents._name != "account.move" else documents.browse(),
            "level": level,
            "company": self.env.company,
        }
        body = template._render_field("body_html", recipient.ids, compute_lang=True, add_context=values)[recipient.id]
        subject = template._render_field("subject", recipient.ids, compute_lang=True, add_context=values)[recipient.id]
        return subject, body

    def _send_reminder(self, partner, recipient, channel, level, documents):
        """Send one reminder; the ``mail.message`` (email) or what the messenger recorded."""
        subject, body = self._render_reminder(recipient, level, documents)
        files = documents._crm_dunning_attachments() if level.attach_pdf else []
        if channel == "email":
            return partner.with_context(mail_notify_force_send=False).message_post(
                body=body,
                subject=subject,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=recipient.ids,
                attachments=files,
            )
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {
                        "name": name,
                        "raw": raw,
                        "res_model": "res.partner",
                        "res_id": partner.id,
                        "mimetype": "application/pdf",
                    }
                    for name, raw in files
                ]
            )
        )
        recipient.crm_send_message(channel, html2plaintext(body), attachment_ids=attachments.ids or None)
        return self.env["mail.message"]

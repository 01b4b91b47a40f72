import logging
import re
import textwrap
import threading
import time
import uuid
from collections import defaultdict

import psycopg2.errors
from lxml import html
from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from odoo.tools import SQL, html2plaintext
from odoo.tools.mail import generate_tracking_message_id, html_to_inner_content
from odoo.tools.rendering_tools import parse_inline_template

from odoo.addons.crm_single_truth.tools.sql import reserve_ids

from ..tools.greeting import greeting

_logger = logging.getLogger(__name__)
BATCH = 1000
TIME_BUDGET = 60  # seconds of batches one scheduled call commits before it hands over (crons are cut at 120)
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
        ``document_ids``, ``company_ids``: only these documents, of these companies. What costs
        more to check (see ``_crm_dunning_check_sql``) is checked last, on what is left to do only:
        a rerun checks nothing."""
        Document = self.env[model]
        self.env.flush_all()
        query = SQL(
            """
            WITH lvl AS MATERIALIZED (
                SELECT l.id, l.policy_id, l.offset_days, l.action
                  FROM crm_dunning_level l
                  JOIN crm_dunning_policy p ON p.id = l.policy_id AND p.active
            ),
            steps AS MATERIALIZED (
                -- each policy's days, with the next one: the range of lateness each day is the highest of
                SELECT policy_id, offset_days,
                       LEAD(offset_days) OVER (PARTITION BY policy_id ORDER BY offset_days) AS next_offset
                  FROM (SELECT DISTINCT policy_id, offset_days FROM lvl) o
            ),
            src AS (%(source)s),
            due AS MATERIALIZED (
                -- the highest level due on each document: the step its lateness falls in
                SELECT src.id, src.partner_id, src.company_id, src.policy_id, d.today, s.offset_days
                  FROM src
                  JOIN %(days)s ON d.company_id = src.company_id
                  JOIN steps s ON s.policy_id = src.policy_id AND src.due_date <= d.today - s.offset_days
                              AND (s.next_offset IS NULL OR src.due_date > d.today - s.next_offset)
                 WHERE src.due_date <= d.today - (SELECT MIN(lvl.offset_days) FROM lvl)
                   AND %(documents)s AND %(companies)s
            ),
            cand AS MATERIALIZED (
                SELECT due.id, lvl.id AS level_id, due.partner_id, due.company_id, due.today, lvl.offset_days
                  FROM due
                  JOIN lvl ON lvl.policy_id = due.policy_id AND lvl.offset_days = due.offset_days
                 WHERE NOT EXISTS (
                        SELECT 1 FROM crm_dunning_event e
                         WHERE e.res_model = %(model)s AND e.res_id = due.id
                           AND (e.offset_days > lvl.offset_days OR (e.level_id = lvl.id AND e.action = lvl.action)))
            )
            SELECT cand.id, cand.level_id, cand.partner_id, cand.company_id, cand.today
              FROM cand
             WHERE %(checked)s
             ORDER BY cand.id, cand.offset_days, cand.level_id
            """,
            source=Document._crm_dunning_source_sql(days, partner_ids),
            checked=Document._crm_dunning_check_sql(SQL.identifier("cand"), days),
            days=days,
            model=model,
            documents=SQL("src.id = ANY(%s)", list(document_ids)) if document_ids is not None else SQL("TRUE"),
            companies=SQL("src.company_id = ANY(%s)", list(company_ids)) if company_ids is not None else SQL("TRUE"),
        )
        # a short query over many rows: compiling it (JIT) would cost more than running it
        (jit,) = self.env.execute_query(SQL("SELECT current_setting('jit')"))[0]
        self.env.execute_query(SQL("SELECT set_config('jit', 'off', true)"))
        rows = self.env.execute_query(query)
        self.env.execute_query(SQL("SELECT set_config('jit', %s, true)", jit))
        return rows

    @api.model
    def _cron_run_dunning(self, date_ref=None, batch_size=BATCH, partners=None, **kwargs):
        """Act on every open document at the highest dunning level due, once per document, level
        and action. Each company counts days on its own local date (``date_ref`` overrides it).

        Documents are acted on in batches of at most ``batch_size``, whole customers at a time.
        A run over all customers (the scheduler's) selects once and commits each batch, for
        ``TIME_BUDGET`` seconds at most, as the mail queue does; otherwise (a user's request, a
        test) one batch per call. The scheduler commits and calls again while some truly remain
        (reported through ``_notify_progress``). ``partners``: only the documents of these
        customers; ``document_models``: only these kinds (with ``document_ids``: only these
        documents); ``company_ids``: only these companies; ``commit_batches``: whether to commit
        each batch and go on (default: only in a run over all customers, outside a request)."""
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
        may_commit = kwargs.get("commit_batches")
        if may_commit is None:
            may_commit = (
                partners is None
                and kwargs.get("document_ids") is None
                and not request
                and not getattr(threading.current_thread(), "testing", False)
            )
        deadline = time.monotonic() + TIME_BUDGET
        batches = self._crm_dunning_batches(candidates, batch_size)
        total = sum(len(batch) for batch in batches)
        acted_ids, done, tried, retried = [], 0, 0, 0
        for batch in batches:
            events, retry = self._claim_and_act([row for rows in batch for row in rows])
            acted_ids += events.ids
            done, tried, retried = done + len(batch) - retry, tried + len(batch), retried + retry
            # the documents another worker has are left to the next call
            if not (may_commit and tried < total and events and time.monotonic() < deadline):
                break
            self.env.flush_all()
            # each batch for good, as the mail queue commits: a crash leaves the next ones to a rerun
            self.env.cr.commit()  # pylint: disable=invalid-commit
        self.env["ir.cron"]._notify_progress(done=done, remaining=total - tried + retried)
        return self.env["crm.dunning.event"].browse(acted_ids)

    @api.model
    def _crm_dunning_batches(self, candidates, batch_size):
        """``candidates`` cut in batches of at most ``batch_size`` documents, whole customers at a
        time (so that a customer gets one letter per run, not one per batch its documents fall
        in; a customer with more documents than a batch is split): ``[[[row of a document]]]``."""
        by_partner = defaultdict(lambda: defaultdict(list))
        for row in candidates:
            by_partner[row[3]][row[:2]].append(row)
        batches, batch = [], []
        for partner_id in sorted(by_partner):
            documents = list(by_partner[partner_id].values())
            if batch and len(batch) + len(documents) > batch_size:
                batches.append(batch)
                batch = []
            while len(documents) > batch_size:
                batches.append(documents[:batch_size])
                documents = documents[batch_size:]
            batch += documents
        return [*batches, batch] if batch else batches

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
        # what a reminder needs (a link to pay online), for the documents reminded now: an
        # activity needs nothing written
        levels = self.env["crm.dunning.level"].browse({row[1] for row in rows})
        reminding = set(levels.filtered(lambda level: level.action == "email_customer").ids)
        reminded = sorted({row[0] for row in rows if row[1] in reminding})
        prepare = self.env[model]._crm_dunning_prepare_sql(reminded) if reminded else None
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
        level among them; the activities of all events in one batch."""
        reminders, activities = defaultdict(list), []
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
                activities.append((event, document, level._activity_user(document)))
        self._schedule_activities(activities)
        self._remind(
            [
                (partner.with_company(company), channel, items)
                for (partner, company, channel, _model), items in reminders.items()
            ]
        )

    @api.model
    def _schedule_activities(self, activities):
        """Schedule the activities of ``activities`` ``[(event, document, user)]`` in one create
        (one activity per target record, level, user and note), as ``activity_schedule`` would
        but without an assignment email per activity: a run assigns hundreds at once, the users
        find them in their activities."""
        if not activities or self.env.context.get("mail_activity_automation_skip"):
            return
        today = fields.Date.context_today(self)
        types = {action: self.env.ref(xmlid) for action, xmlid in ACTIVITY_TYPES.items()}
        vals_by_key, users = {}, []
        for event, document, user in activities:
            level = event.level_id
            target = document._crm_dunning_activity_target()
            note = document._crm_dunning_activity_note() or ""
            key = (target._name, target.id, level.id, user.id, note)
            if key not in vals_by_key:
                activity_type = types[level.action]
                vals_by_key[key] = {
                    "activity_type_id": activity_type.id,
                    "summary": level.activity_summary or level.name,
                    "automated": True,
                    "note": note or activity_type.default_note,
                    "date_deadline": today,
                    "res_model_id": self.env["ir.model"]._get_id(target._name),
                    "res_id": target.id,
                    # what mail.activity computes after the create, one query per record: known here
                    "res_name": target.display_name,
                    "date_done": False,
                    "user_id": user.id,
                    "user_tz": user.tz,
                }
            users.append((event.id, user.id))
        self.env["mail.activity"].with_context(mail_activity_quick_update=True).create(list(vals_by_key.values()))
        self._write_events([event_id for event_id, _user in users], user_id=[user_id for _event, user_id in users])

    @api.model
    def _write_events(self, event_ids, **columns):
        """Set ``columns`` (column name: one value per event of ``event_ids``) in one statement."""
        if not event_ids:
            return
        names = list(columns)
        types = {"user_id": "int", "recipient_id": "int", "mail_message_id": "int", "state": "varchar", "error": "text"}
        self.env.execute_query(
            SQL(
                "UPDATE crm_dunning_event e SET %(sets)s, write_date = NOW() AT TIME ZONE 'UTC', write_uid = %(uid)s"
                " FROM unnest(%(ids)s::int[], %(arrays)s) AS v(id, %(names)s)"
                " WHERE e.id = v.id AND e.id = ANY(%(ids)s)",  # by the primary key, not a scan of all events
                sets=SQL(", ").join(SQL("%s = v.%s", SQL.identifier(name), SQL.identifier(name)) for name in names),
                uid=self.env.uid,
                ids=list(event_ids),
                arrays=SQL(", ").join(SQL("%s::%s[]", list(columns[name]), SQL(types[name])) for name in names),
                names=SQL(", ").join(SQL.identifier(name) for name in names),
            )
        )
        self.env["crm.dunning.event"].invalidate_model(names)

    @api.model
    def _remind(self, reminders):
        """Send ``reminders`` ``[(customer in its company, channel, [(event, document)])]``: each
        to the customer's accountant, else director, else the customer itself. The templates are
        rendered in one pass per template, language and company; the emails are queued in one
        batch (``mail.mail`` of a message on the customer's chatter, as the mass mailing of the
        composer does), the messengers' messages one by one. Each document's chatter says it."""
        Event = self.env["crm.dunning.event"]
        ids_by_model = defaultdict(list)
        for _partner, _channel, items in reminders:
            ids_by_model[items[0][1]._name] += [document.id for _e, document in items]
        prepared = []
        for partner, channel, items in reminders:
            events = Event.union(*[event for event, _d in items])
            model = items[0][1]._name
            documents = self.env[model].browse([doc.id for _e, doc in items]).with_prefetch(ids_by_model[model])
            firmest = max(events.level_id, key=lambda level: (level.offset_days, level.id))
            prepared.append((partner, channel, items, partner._crm_dunning_recipient(channel), firmest, documents))
        rendered = [None] * len(prepared)
        by_company = defaultdict(list)
        for index, (partner, *_rest) in enumerate(prepared):
            by_company[partner.env.company].append(index)
        for company, indexes in by_company.items():
            results = self.with_company(company)._render_reminders([prepared[i][3:] for i in indexes])
            for index, result in zip(indexes, results, strict=True):
                rendered[index] = result
        self._record_reminders(self._send_reminders(prepared, rendered))

    @api.model
    def _send_reminders(self, prepared, rendered):
        """Send the ``prepared`` reminders ``[(customer, channel, items, recipient, level,
        documents)]`` with their ``rendered`` (subject, body) or UserError: ``[(items, recipient,
        message id, or the error)]``."""
        emails, outcomes = [], []
        for (partner, channel, items, recipient, level, documents), result in zip(prepared, rendered, strict=True):
            if isinstance(result, UserError):
                outcomes.append((items, recipient, result))
            elif channel == "email":
                emails.append((partner, items, recipient, level, documents, result))
            else:
                try:
                    with self.env.cr.savepoint():
                        self.with_company(partner.env.company)._send_messenger(
                            partner, recipient, channel, level, documents, result
                        )
                except UserError as error:
                    outcomes.append((items, recipient, error))
                else:
                    outcomes.append((items, recipient, None))
        if emails:
            try:
                message_ids = self._queue_emails(emails)
            except UserError as error:  # no sender address: none can go
                outcomes += [(items, recipient, error) for _p, items, recipient, *_rest in emails]
            else:
                outcomes += [
                    (items, recipient, message_id)
                    for (_p, items, recipient, *_rest), message_id in zip(emails, message_ids, strict=True)
                ]
        return outcomes

    @api.model
    def _record_reminders(self, outcomes):
        """Write on the events what ``outcomes`` ``[(items, recipient, message id or error)]``
        say (recipient, message, failure), and note the reminders on the documents' chatters."""
        rows, reminded = [], defaultdict(list)
        for items, recipient, outcome in outcomes:
            failed = isinstance(outcome, UserError)
            if failed:
                _logger.info("Reminder to %s failed: %s", recipient.display_name, outcome)
            for event, document in items:
                rows.append((event.id, recipient.id, None if failed else outcome, str(outcome) if failed else None))
                if not failed:
                    reminded[document._name].append((document, event.level_id, recipient))
        self._write_events(
            [row[0] for row in rows],
            recipient_id=[row[1] for row in rows],
            mail_message_id=[row[2] for row in rows],
            state=["failed" if row[3] else "done" for row in rows],
            error=[row[3] for row in rows],
        )
        author_id, email_from = self.env["mail.thread"]._message_compute_author(raise_on_email=False)
        reply_to = self.env["mail.thread"]._notify_get_reply_to(default=email_from)[False]
        note = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        self._insert_messages(
            [
                {
                    "model": record._name,
                    "res_id": record.id,
                    "message_type": "notification",
                    "subtype_id": note,
                    "is_internal": True,
                    "author_id": author_id,
                    "email_from": email_from,
                    "reply_to": reply_to,
                    "body": body,
                }
                for model, entries in reminded.items()
                for record, body in self.env[model]._crm_dunning_notes(entries)
            ]
        )
        self.env.invalidate_all()

    def _render_reminder(self, recipient, level, documents):
        """Subject and HTML body of ``level``'s template for ``recipient``, in their language,
        with the greeting etiquette expects and the documents listed."""
        (result,) = self._render_reminders([(recipient, level, documents)])
        if isinstance(result, UserError):
            raise result
        return result

    def _render_reminders(self, reminders):
        """``[(subject, HTML body) or UserError]`` of ``reminders`` ``[(recipient, level,
        documents)]`` in the current company: each level's template in each recipient's language,
        rendered for all of its recipients in one QWeb pass (a template compiles once, not once
        per reminder), with the greeting etiquette expects and the documents listed."""
        results = [None] * len(reminders)
        by_template = defaultdict(list)
        for index, (_recipient, level, _documents) in enumerate(reminders):
            if level.mail_template_id:
                by_template[level.mail_template_id.with_env(self.env)].append(index)
            else:
                results[index] = UserError(_("The dunning level %(level)s has no message template.", level=level.name))
        for template, indexes in by_template.items():
            recipients = self.env["res.partner"].union(*[reminders[i][0] for i in indexes])
            if (template.lang or "").replace(" ", "") == "{{object.lang}}":  # the usual: no rendering needed
                langs = {recipient.id: recipient.lang for recipient in recipients}
            else:
                langs = template._render_lang(recipients.ids)
            by_lang = defaultdict(list)
            for index in indexes:
                recipient = reminders[index][0]
                by_lang[langs.get(recipient.id) or recipient.lang].append(index)
            for lang, lang_indexes in by_lang.items():
                values = self._reminder_values([reminders[i] for i in lang_indexes], lang)
                try:
                    bodies = self._render_qweb_batch(template.with_context(lang=lang), values)
                except UserError:  # one reminder breaks the template: render each alone to tell which
                    bodies = []
                    for value in values:
                        try:
                            bodies += self._render_qweb_batch(template.with_context(lang=lang), [value])
                        except UserError as error:
                            bodies.append(error)
                subjects = self._render_subjects(template, lang, values)
                for index, body, subject in zip(lang_indexes, bodies, subjects, strict=True):
                    results[index] = (
                        body
                        if isinstance(body, UserError)
                        else subject
                        if isinstance(subject, UserError)
                        else (subject, body)
                    )
        return results

    @api.model
    def _render_subjects(self, template, lang, values_list):
        """The subject of ``template`` for each of ``values_list`` (or the UserError): in one pass
        over the recipients when it names none of the reminder's own values (the usual
        ``... at {{ object.env.company.name }}``), else one by one."""
        recipients = self.env["res.partner"].union(*[values["object"] for values in values_list])
        subject = template.subject or ""
        if not any(key in subject for key in set().union(*values_list) - {"object", "company"}):
            # naming nothing of the recipient but its company (object.env.company): the same for all
            expressions = [expression for _text, expression, _default in parse_inline_template(subject) if expression]
            shared = all(re.fullmatch(r"\s*(object\.env\.company|company)\b[\w.]*\s*", e) for e in expressions)
            ids = recipients[:1].ids if shared else recipients.ids
            try:
                subjects = template._render_field(
                    "subject", ids, set_lang=lang, add_context={"company": self.env.company}
                )
            except UserError as error:
                return [error] * len(values_list)
            return [subjects[ids[0] if shared else values["object"].id] for values in values_list]
        results = []
        for values in values_list:
            recipient = values["object"]
            try:
                results.append(
                    template._render_field("subject", recipient.ids, set_lang=lang, add_context=values)[recipient.id]
                )
            except UserError as error:
                results.append(error)
        return results

    def _reminder_values(self, reminders, lang):
        """What the template of each of ``reminders`` ``[(recipient, level, documents)]`` renders
        with, in ``lang``: ``object`` (the recipient), ``greeting``, ``documents`` (see
        ``_crm_dunning_values``, computed for all the reminders' documents at once), ``invoices`` or
        ``lines``, ``level``, ``company``."""
        ids_by_model = defaultdict(set)
        for _recipient, _level, documents in reminders:
            ids_by_model[documents._name].update(documents.ids)
        lists = {
            model: self.env[model].browse(sorted(ids)).with_context(lang=lang)._crm_dunning_values()
            for model, ids in ids_by_model.items()
        }
        position = {(model, value["record"].id): n for model, values in lists.items() for n, value in enumerate(values)}
        return [
            {
                "object": recipient,
                "greeting": greeting(recipient.name, lang, is_company=recipient.is_company),
                "documents": [
                    lists[documents._name][position[(documents._name, doc_id)]]
                    for doc_id in sorted(documents.ids, key=lambda doc_id: position[(documents._name, doc_id)])
                ],
                "invoices": documents if documents._name == "account.move" else self.env["account.move"],
                "lines": documents if documents._name != "account.move" else documents.browse(),
                "level": level,
                "company": self.env.company,
            }
            for recipient, level, documents in reminders
        ]

    @api.model
    def _render_qweb_batch(self, template, values_list):
        """The HTML bodies of ``template`` for each of ``values_list``: the body inside one
        ``t-foreach`` over the values, rendered once and cut at a separator, then its local links
        made absolute as ``mail.template`` does."""
        if not values_list:
            return []
        separator = f"crm-dunning-{uuid.uuid4().hex}"
        keys = sorted(set().union(*values_list))
        source = Markup(
            '<t t-foreach="crm_dunning_values" t-as="crm_dunning_value"><t t-out="crm_dunning_separator"/>%s%s</t>'
        ) % (
            Markup("").join(Markup('<t t-set="%s" t-value="crm_dunning_value[%r]"/>') % (key, key) for key in keys),
            Markup(template.body_html or ""),
        )
        variables = dict(
            template._render_eval_context(), crm_dunning_values=values_list, crm_dunning_separator=separator
        )
        try:
            output = self.env["ir.qweb"]._render(html.fragment_fromstring(source, create_parent="div"), variables)
        except Exception as error:  # noqa: BLE001 - a broken template fails its reminders, not the run
            _logger.info("Failed to render the template %s", template.display_name, exc_info=True)
            raise UserError(str(error)) from error
        bodies = str(output)[len("<div>") : -len("</div>")].split(separator)[1:]
        base_url = self.get_base_url()
        return [Markup(template._replace_local_links(Markup(body), base_url)) for body in bodies]

    @api.model
    def _queue_emails(self, emails):
        """Queue one email per ``emails`` ``[(customer, items, recipient, level, documents,
        (subject, body))]``: a message on the customer's chatter addressed to the recipient, its
        ``mail.mail`` and the recipient's delivery status, as ``message_post`` would leave them
        (without the followers' notifications), each kind inserted in one statement. The ids of
        the messages."""
        Partner = self.env["res.partner"]
        author_id, email_from = Partner._message_compute_author()  # no sender address: a UserError
        # the body as a message stores it (sanitized as message_post's is)
        Message = self.env["mail.message"]
        emails = [
            (*email[:5], (email[5][0], Message._fields["body"].convert_to_cache(email[5][1], Message)))
            for email in emails
        ]
        reply_to = Partner.browse([email[0].id for email in emails])._notify_get_reply_to(default=email_from)
        comment = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
        message_ids = self._insert_messages(
            [
                {
                    "model": "res.partner",
                    "res_id": partner.id,
                    "record_name": partner.display_name,
                    "record_company_id": partner.env.company.id,
                    "message_type": "comment",
                    "subtype_id": comment,
                    "is_internal": False,
                    "author_id": author_id,
                    "email_from": email_from,
                    "reply_to": reply_to[partner.id],
                    "subject": subject,
                    "body": body,
                }
                for partner, _items, _recipient, _level, _documents, (subject, body) in emails
            ]
        )
        mail_ids = reserve_ids(self.env, "mail_mail", len(emails))
        self._insert_rows(
            "mail_mail",
            id=("int", mail_ids),
            mail_message_id=("int", message_ids),
            body_html=("text", self._layout_bodies(emails, author_id, comment)),
            state=("varchar", ["outgoing"] * len(emails)),
            is_notification=("bool", [True] * len(emails)),  # the chatter keeps the message once sent
            auto_delete=("bool", [bool(level.mail_template_id.auto_delete) for _p, _i, _r, level, *_rest in emails]),
        )
        recipients = [recipient.id for _p, _i, recipient, *_rest in emails]
        self._insert_rows(
            "mail_message_res_partner_rel", mail_message_id=("int", message_ids), res_partner_id=("int", recipients)
        )
        self._insert_rows(
            "mail_mail_res_partner_rel", mail_mail_id=("int", mail_ids), res_partner_id=("int", recipients)
        )
        count = len(emails)
        self._insert_rows(
            "mail_notification",
            mail_message_id=("int", message_ids),
            mail_mail_id=("int", mail_ids),
            res_partner_id=("int", recipients),
            author_id=("int", [author_id] * count),
            notification_type=("varchar", ["email"] * count),
            notification_status=("varchar", ["ready"] * count),
            is_read=("bool", [True] * count),
            audit=False,
        )
        # the documents' PDFs (when the level attaches them): created with the ORM, as files are
        links = []
        for (partner, _i, _r, level, documents, _rendered), message_id in zip(emails, message_ids, strict=True):
            files = documents._crm_dunning_attachments() if level.attach_pdf else []
            attachments = self._create_pdf_attachments(partner, files)
            links += [(message_id, attachment.id) for attachment in attachments]
        if links:
            self._insert_rows(
                "message_attachment_rel",
                message_id=("int", [link[0] for link in links]),
                attachment_id=("int", [link[1] for link in links]),
                audit=False,
            )
        return message_ids

    @api.model
    def _layout_bodies(self, emails, author_id, subtype_id):
        """The HTML each of ``emails`` is sent with, as ``message_post`` sends a message to a
        customer: its body inside the template's notification layout, in the recipient's
        language. A layout is rendered once per layout, company and language, with markers
        where the customer's name and the body go."""
        body_mark, name_mark, preview_mark = (
            f"crm-dunning-{part}-{uuid.uuid4().hex}" for part in ("body", "name", "preview")
        )
        layouts, bodies = {}, []
        for partner, _items, recipient, level, _documents, (_subject, body) in emails:
            key = (
                level.mail_template_id.email_layout_xmlid or "mail.mail_notification_layout",
                partner.sudo().company_id or partner.env.company,  # the company the layout shows
                recipient.lang or self.env.lang,
            )
            if key not in layouts:
                msg_vals = {
                    "body": Markup(body_mark),
                    "record_name": name_mark,
                    "model": "res.partner",
                    "res_id": partner.id,
                    "message_type": "comment",
                    "subtype_id": subtype_id,
                    "author_id": author_id,
                    "email_add_signature": True,
                    "email_layout_xmlid": key[0],
                    "tracking_value_ids": [],
                }
                layouts[key] = str(self._render_layout(partner.with_context(lang=key[2]), msg_vals, preview_mark))
            name = str(escape((partner.display_name or "").replace("/", "-")))
            preview = str(escape(textwrap.shorten(html_to_inner_content(body), 190)))  # as mail.message's
            bodies.append(layouts[key].replace(name_mark, name).replace(preview_mark, preview).replace(body_mark, body))
        return bodies

    @api.model
    def _render_layout(self, partner, msg_vals, preview):
        """The notification layout of a message of ``msg_vals`` (and ``preview``) on ``partner``'s
        chatter, in the language of its context, for a customer: the steps of
        ``mail.thread._notify_thread_by_email`` for the recipients group ``customer``."""
        message = self.env["mail.message"].sudo().new({**msg_vals, "preview": preview})
        description = partner._get_model_description("res.partner")
        groups = partner._notify_get_recipients_groups_fillup(
            partner._notify_get_recipients_groups(message, description, msg_vals=msg_vals),
            description,
            msg_vals=msg_vals,
        )
        customer = next(data for name, _match, data in groups if name == "customer")
        values = partner._notify_by_email_prepare_rendering_context(
            message, msg_vals=msg_vals, model_description=description, force_email_lang=partner.env.lang
        )
        return partner._notify_by_email_render_layout(message, customer, msg_vals=msg_vals, render_values=values)

    @api.model
    def _insert_rows(self, table, audit=None, **columns):
        """Insert rows into ``table`` in one statement: ``columns`` maps a column to ``(SQL type,
        [one value per row])``; the creation and write columns are set unless ``audit`` is False
        (the default: when the table has them, that is not a relation table)."""
        if audit is None:
            audit = not table.endswith("_rel")
        names = list(columns)
        extra = ["create_uid", "create_date", "write_uid", "write_date"] if audit else []
        self.env.execute_query(
            SQL(
                "INSERT INTO %(table)s (%(names)s) SELECT v.*%(audit)s FROM unnest(%(arrays)s) AS v",
                table=SQL.identifier(table),
                names=SQL(", ").join(SQL.identifier(name) for name in names + extra),
                audit=SQL(", %s, NOW() AT TIME ZONE 'UTC', %s, NOW() AT TIME ZONE 'UTC'", self.env.uid, self.env.uid)
                if audit
                else SQL(),
                arrays=SQL(", ").join(SQL("%s::%s[]", values, SQL(kind)) for kind, values in columns.values()),
            )
        )

    @api.model
    def _insert_messages(self, messages):
        """Insert chatter messages (dicts of ``mail.message`` values: model, res_id, body, ...) in
        one statement, as the batch log of ``mail.thread`` creates them but without a query per
        message. Their ids, in order."""
        if not messages:
            return []
        ids = reserve_ids(self.env, "mail_message", len(messages))
        now = fields.Datetime.now()
        columns = {
            "model": "varchar",
            "res_id": "int",
            "record_name": "varchar",
            "record_company_id": "int",
            "message_type": "varchar",
            "subtype_id": "int",
            "is_internal": "bool",
            "author_id": "int",
            "email_from": "varchar",
            "reply_to": "varchar",
            "subject": "varchar",
            "body": "text",
        }
        self._insert_rows(
            "mail_message",
            id=("int", ids),
            date=("timestamp", [now] * len(ids)),
            message_id=("varchar", [generate_tracking_message_id("crm-dunning") for _id in ids]),
            **{name: (kind, [message.get(name) for message in messages]) for name, kind in columns.items()},
        )
        return ids

    @api.model
    def _create_pdf_attachments(self, partner, files):
        """Attachments of the customer ``partner`` holding ``files`` ``[(name, content)]``."""
        if not files:
            return self.env["ir.attachment"]
        return (
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

    def _send_messenger(self, partner, recipient, channel, level, documents, rendered):
        """Send one reminder through a messenger (WhatsApp, Telegram): its text and the documents' PDFs."""
        _subject, body = rendered
        files = documents._crm_dunning_attachments() if level.attach_pdf else []
        attachments = self._create_pdf_attachments(partner, files)
        recipient.crm_send_message(channel, html2plaintext(body), attachment_ids=attachments.ids or None)

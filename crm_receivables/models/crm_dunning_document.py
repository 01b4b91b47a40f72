import ast

from odoo import api, models
from odoo.tools import SQL, format_date, get_lang

from odoo.addons.base.models.res_lang import intersperse

NBSP = "\N{NO-BREAK SPACE}"


class CrmDunningDocument(models.AbstractModel):
    """What the dunning engine needs from a document it chases (an invoice, an installment):
    an SQL source of the open documents with their due date, customer, company and policy; who
    is responsible; what a reminder says about it; what it attaches. ``crm.dunning.policy`` does
    the rest the same way for every kind."""

    _name = "crm.dunning.document"
    _description = "Dunnable Document"

    # first key of the transaction-level advisory lock of a document being dunned (second key:
    # its id); every cron that writes such a document takes the same lock (see _crm_try_lock)
    _crm_dunning_lock_key = None
    # the column of crm.dunning.event that points to this kind of document
    _crm_dunning_event_field = None

    @api.model
    def _crm_dunning_source_sql(self, days, partner_ids=None):
        """SQL of the open documents to remind, one row each: ``id``, ``partner_id`` (the
        commercial customer), ``company_id``, ``due_date`` (the day levels count from) and
        ``policy_id``. ``days`` is a relation ``d(company_id, today, default_policy_id)`` (each
        company's local date and default policy) to join on; ``partner_ids``: only these customers."""
        raise NotImplementedError

    @api.model
    def _crm_dunning_check_sql(self, candidates, days):
        """SQL condition on ``candidates`` (a relation of the documents due a level and not acted
        on yet: ``id``, ``partner_id``, ``company_id``, ``today``) that the source does not test
        because it costs more than what is left to do: checked on those rows only."""
        return SQL("TRUE")

    @api.model
    def _crm_dunning_partner_sql(self, partner, today):
        """Customers not to remind today: a promise to pay running, or the tag «Do not dun»."""
        do_not_dun = self.env.ref("crm_receivables.tag_do_not_dun", raise_if_not_found=False)
        return SQL(
            """(%(partner)s.crm_dunning_paused_until IS NULL OR %(partner)s.crm_dunning_paused_until < %(today)s)
               AND NOT EXISTS (SELECT 1 FROM res_partner_res_partner_category_rel tag
                                WHERE tag.partner_id = %(partner)s.id AND tag.category_id = %(tag)s)""",
            partner=partner,
            today=today,
            tag=do_not_dun.id if do_not_dun else 0,
        )

    @api.model
    def _crm_try_lock(self, ids):
        """Those of ``ids`` that no other transaction is dunning or changing right now
        (transaction-level advisory locks, released at commit or rollback). A concurrent worker
        skips them instead of waiting; unlike ``FOR UPDATE`` this never blocks users."""
        if not ids:
            return []
        rows = self.env.execute_query(
            SQL(
                "SELECT id FROM unnest(%s::int[]) AS id WHERE pg_try_advisory_xact_lock(%s, id) ORDER BY id",
                list(ids),
                self._crm_dunning_lock_key,
            )
        )
        return [row[0] for row in rows]

    @api.model
    def _crm_dunning_prepare_sql(self, ids):
        """SQL run with the claim of documents ``ids`` reminded now (not those getting only an
        activity), or None: whatever the reminder needs written on them, so that acting
        afterwards writes none of their rows."""
        return None

    def _crm_dunning_responsible(self):
        """The salesperson in charge of the document (``res.users``, may be empty)."""
        raise NotImplementedError

    def _crm_dunning_team(self):
        """The sales team of the document (``crm.team``, may be empty): its leader gets the
        supervisor's activities."""
        raise NotImplementedError

    def _crm_dunning_values(self):
        """What a reminder says about each document: a list of dicts with ``name``, ``date_due``,
        ``amount`` (the amount due, formatted), ``url`` (where to pay, or False) and ``record``."""
        raise NotImplementedError

    def _crm_formatters(self):
        """``format_date(date)`` and ``format_amount(amount, currency)`` in the context's language,
        as ``odoo.tools`` formats them but with the language read once and each value formatted
        once: a run formats tens of thousands of due dates and amounts."""
        lang = get_lang(self.env)
        grouping = ast.literal_eval(lang.grouping)
        dates, amounts = {}, {}

        def date_(value):
            if value not in dates:
                dates[value] = format_date(self.env, value, lang_code=lang.code)
            return dates[value]

        def amount_(value, currency):
            key = (value, currency.id)
            if key not in amounts:
                integer, point, decimals = (f"%.{currency.decimal_places}f" % currency.round(value)).partition(".")
                number = intersperse(integer, grouping, lang.thousands_sep or "")[0]
                number = (number + (lang.decimal_point + decimals if point else "")).replace(" ", NBSP)
                number = number.replace("-", "-\N{ZERO WIDTH NO-BREAK SPACE}")
                symbol = currency.symbol or ""
                amounts[key] = f"{symbol}{NBSP}{number}" if currency.position == "before" else f"{number}{NBSP}{symbol}"
            return amounts[key]

        return date_, amount_

    def _crm_dunning_attachments(self):
        """``[(file name, content)]``: the documents' PDFs a reminder carries."""
        return []

    def _crm_dunning_activity_target(self):
        """The record activities and chatter notes about the document are put on."""
        self.ensure_one()
        return self

    def _crm_dunning_activity_note(self):
        """The note of the activities about the document (or False)."""
        return False

    @api.model
    def _crm_dunning_notes(self, reminded):
        """The notes saying on the documents' chatters that they were reminded: ``reminded``
        ``[(document, level, recipient)]`` (all the reminders of a run) gives ``[(record, HTML
        body)]``, the record being the document or what carries its chatter."""
        return []

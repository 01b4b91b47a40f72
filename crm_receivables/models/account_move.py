import logging
import uuid

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.sql import create_index

_logger = logging.getLogger(__name__)
INVOICE_REPORT = "account.account_invoices"
PAID_STATES = ("paid", "in_payment")


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "crm.dunning.document"]
    _crm_dunning_lock_key = 0x43524D44  # 'CRMD'
    _crm_dunning_event_field = "move_id"

    crm_dunning_paused_until = fields.Date(
        string="Reminders Paused Until",
        copy=False,
        help="No reminder for this invoice until this date (promise to pay, deferral).",
    )
    crm_dunning_event_ids = fields.One2many("crm.dunning.event", "move_id", string="Reminders")
    crm_contract_id = fields.Many2one(
        "crm.contract",
        string="Contract",
        index="btree_not_null",
        check_company=True,
        domain="[('partner_id', '=', commercial_partner_id), ('state', 'in', ('active', 'expired'))]",
        help="The contract this invoice bills: its dunning policy wins over the customer's.",
    )

    crm_unusual_delay_date = fields.Date(
        string="Unusual Delay Flagged On",
        copy=False,
        readonly=True,
        help="Day the salesperson was warned that this invoice is later than the customer's habit.",
    )

    # B2B postpay: the customer agrees the invoice, returns the signed closing documents (act),
    # and may ask to pay later
    crm_postpay_state = fields.Selection(
        [("to_send", "Not Sent"), ("sent", "Sent"), ("agreed", "Agreed"), ("paid", "Paid")],
        string="Postpay Status",
        compute="_compute_crm_postpay_state",
        store=True,
        index=True,
        help="Sent to the customer, agreed by the customer, paid.",
    )
    crm_agreed_date = fields.Date(
        string="Agreed On", copy=False, tracking=True, help="Day the customer confirmed the invoice."
    )
    crm_act_received = fields.Boolean(
        string="Closing Documents Received",
        copy=False,
        tracking=True,
        help="The signed act (closing documents) came back from the customer.",
    )
    crm_act_date = fields.Date(string="Closing Documents Received On", copy=False)
    crm_deferral_date = fields.Date(
        string="Deferred To",
        copy=False,
        tracking=True,
        help="New expected payment date the customer asked for: no reminder until then, and reminder "
        "levels count from it afterwards.",
    )
    crm_deferral_reason = fields.Char(string="Deferral Reason", copy=False, tracking=True)

    crm_writeoff_id = fields.Many2one(
        "crm.bad.debt.writeoff", string="Written Off By", copy=False, readonly=True, index="btree_not_null"
    )

    def init(self):
        res = super().init()
        # the dunning's candidates: open customer invoices, by customer (a few thousand of hundreds of thousands)
        create_index(
            self.env.cr,
            "crm_account_move_dunning_open_idx",
            self._table,
            ["commercial_partner_id", "company_id"],
            where="move_type = 'out_invoice' AND state = 'posted' AND payment_state IN ('not_paid', 'partial')",
        )
        return res

    @api.model
    def _crm_kpi_tracked_fields(self):
        # a write-off changes the invoice's place in the payment history
        return super()._crm_kpi_tracked_fields() | {"crm_writeoff_id"}

    @api.model
    def _crm_payment_history_sql(self, move):
        """A bad debt written off was not paid: it stays out of the payment rating of the card
        and of the discipline history alike."""
        return SQL("%s AND %s.crm_writeoff_id IS NULL", super()._crm_payment_history_sql(move), move)

    @api.depends("state", "is_move_sent", "crm_agreed_date", "payment_state")
    def _compute_crm_postpay_state(self):
        for move in self:
            if move.payment_state in PAID_STATES:
                move.crm_postpay_state = "paid"
            elif move.crm_agreed_date:
                move.crm_postpay_state = "agreed"
            elif move.is_move_sent:
                move.crm_postpay_state = "sent"
            else:
                move.crm_postpay_state = "to_send"

    @api.model
    def _crm_payment_state_columns(self, move, payment_state):
        # the rule of _compute_crm_postpay_state above, in SQL (test_postpay_state_sql_follows_the_compute)
        return {
            **super()._crm_payment_state_columns(move, payment_state),
            "crm_postpay_state": SQL(
                """CASE WHEN %(state)s IN %(paid)s THEN 'paid'
                        WHEN %(move)s.crm_agreed_date IS NOT NULL THEN 'agreed'
                        WHEN %(move)s.is_move_sent THEN 'sent'
                        ELSE 'to_send' END""",
                state=payment_state,
                paid=PAID_STATES,
                move=move,
            ),
        }

    @api.constrains("crm_deferral_date", "crm_deferral_reason")
    def _check_crm_deferral(self):
        for move in self:
            if move.crm_deferral_date and not move.crm_deferral_reason:
                raise ValidationError(_("Say why the payment of %(name)s is deferred.", name=move.display_name))

    def action_crm_mark_agreed(self):
        self.filtered(lambda m: not m.crm_agreed_date).crm_agreed_date = fields.Date.context_today(self)
        return True

    def action_crm_mark_act_received(self):
        self.filtered(lambda m: not m.crm_act_received).write(
            {"crm_act_received": True, "crm_act_date": fields.Date.context_today(self)}
        )
        return True

    def action_crm_write_off(self):
        """A draft bad-debt write-off of these open invoices, for a manager to approve."""
        self.env["crm.bad.debt.writeoff"]._check_requester()
        self.check_access("read")
        invoices = self.filtered(
            lambda m: m.move_type == "out_invoice"
            and m.state == "posted"
            and m.payment_state in ("not_paid", "partial")
        )
        if not invoices or len(invoices.commercial_partner_id) > 1 or len(invoices.company_id) > 1:
            raise UserError(_("Choose open invoices of one customer and one company to write off."))
        return invoices.commercial_partner_id.with_company(invoices.company_id)._crm_writeoff_action(invoices)

    @api.onchange("partner_id")
    def _onchange_partner_id_crm_contract(self):
        if self.crm_contract_id and self.crm_contract_id.partner_id != self.commercial_partner_id:
            self.crm_contract_id = False

    def action_crm_send_reminder_now(self):
        """Run the dunning of these invoices now: what is due today, once."""
        self.env["crm.dunning.policy"]._crm_check_dunning_access()
        self.check_access("read")
        invoices = self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
        if invoices:
            self.env["crm.dunning.policy"].sudo()._cron_run_dunning(
                document_models=[self._name], document_ids=invoices.ids, company_ids=self.env.companies.ids
            )
        return True

    # ------------------------------------------------------------------ dunnable document
    @api.model
    def _crm_dunning_source_sql(self, days, partner_ids=None):
        """Posted customer invoices with something left to pay; the levels count from the due
        date, or from the deferral date when later. The policy is the contract's, else the
        customer's in the invoice's company, else the company's default."""
        return SQL(
            """
            SELECT m.id, m.commercial_partner_id AS partner_id, m.company_id,
                   GREATEST(m.invoice_date_due, m.crm_deferral_date) AS due_date,
                   COALESCE(k.crm_dunning_policy_id, (cp.crm_dunning_policy_id ->> m.company_id::text)::int,
                            d.default_policy_id) AS policy_id
              FROM account_move m
              JOIN res_partner cp ON cp.id = m.commercial_partner_id
              JOIN %(days)s ON d.company_id = m.company_id
              LEFT JOIN crm_contract k ON k.id = m.crm_contract_id
             WHERE m.move_type = 'out_invoice' AND m.state = 'posted'
               AND m.payment_state IN ('not_paid', 'partial') AND m.invoice_date_due IS NOT NULL
               AND (m.crm_dunning_paused_until IS NULL OR m.crm_dunning_paused_until < d.today)
               AND (m.crm_deferral_date IS NULL OR m.crm_deferral_date < d.today)
               AND %(partner_ok)s AND %(partners)s AND %(not_excluded)s
            """,
            days=days,
            partner_ok=self._crm_dunning_partner_sql(SQL.identifier("cp"), SQL("d.today")),
            partners=SQL("m.commercial_partner_id = ANY(%s)", partner_ids) if partner_ids is not None else SQL("TRUE"),
            not_excluded=self._crm_dunning_exclusion_sql(SQL.identifier("m")),
        )

    @api.model
    def _crm_dunning_check_sql(self, candidates, days):
        """Money already credited is not chased: the customer's open items in the company,
        unapplied credit notes and payments included, still owe something. Summed for the
        customers of the candidates only."""
        Partner = self.env["res.partner"]
        return SQL(
            """EXISTS (
                SELECT 1 FROM (%(balance)s) bal
                 WHERE bal.partner_id = %(candidates)s.partner_id AND bal.company_id = %(candidates)s.company_id
                   AND bal.debt > 0
                   AND bal.partner_id IN (SELECT partner_id FROM %(candidates)s))""",
            balance=Partner._crm_overdue_sql(Partner._crm_open_items_sql(None), fields.Date.context_today(self), True),
            candidates=candidates,
        )

    @api.model
    def _crm_dunning_exclusion_sql(self, move):
        """Invoices not chased by their own due date (crm_installments: those paid by installments)."""
        return SQL("TRUE")

    @api.model
    def _crm_dunning_prepare_sql(self, ids):
        """The portal access tokens of the "pay online" links, for the invoices without one."""
        return SQL(
            """UPDATE account_move m SET access_token = t.token
                 FROM unnest(%s::int[], %s::varchar[]) AS t(id, token)
                WHERE m.id = t.id AND m.access_token IS NULL""",
            list(ids),
            [str(uuid.uuid4()) for _id in ids],
        )

    def _crm_dunning_responsible(self):
        self.ensure_one()
        return self.invoice_user_id or self.commercial_partner_id.user_id

    def _crm_dunning_team(self):
        self.ensure_one()
        return self.team_id

    def _crm_dunning_values(self):
        format_date_, format_amount_ = self._crm_formatters()
        return [
            {
                "name": move.name,
                "date_due": format_date_(move.invoice_date_due),
                "amount": format_amount_(move.amount_residual, move.currency_id),
                "url": move.get_base_url() + move.get_portal_url(),
                "record": move,
            }
            for move in self.sorted(lambda m: (m.invoice_date_due, m.id))
        ]

    def _crm_dunning_attachments(self):
        """Each invoice's PDF: the one the customer was sent, else rendered now and kept as the
        invoice's PDF (an attachment of its PDF field, as stock Send does, without writing the
        invoice itself), so that the next reminder reuses it."""
        self._crm_generate_invoice_pdf()
        return [
            (move.invoice_pdf_report_id.name, move.invoice_pdf_report_id.raw)
            for move in self.sudo()
            if move.invoice_pdf_report_id
        ]

    def _crm_generate_invoice_pdf(self):
        missing = self.sudo().filtered(lambda m: not m.invoice_pdf_report_id)
        Report = self.env["ir.actions.report"].sudo()
        if not missing or Report.get_wkhtmltopdf_state() in ("install", "broken"):
            if missing:
                _logger.info("wkhtmltopdf is missing: reminders go without the PDF of %s", missing.mapped("name"))
            return
        for company, moves in missing.grouped("company_id").items():
            try:
                content, report_type = Report.with_company(company)._pre_render_qweb_pdf(
                    INVOICE_REPORT, res_ids=moves.ids
                )
                if report_type != "pdf":
                    continue
                content_by_id = Report._get_splitted_report(INVOICE_REPORT, content, report_type)
            except Exception:  # noqa: BLE001 - a printing failure must not stop the reminders
                _logger.warning("Reminders of %s go without their PDF", moves.mapped("name"), exc_info=True)
                continue
            attachments = (
                self.env["ir.attachment"]
                .sudo()
                .create(
                    [
                        {
                            "name": move._get_invoice_report_filename(),
                            "raw": content_by_id[move.id],
                            "mimetype": "application/pdf",
                            "res_model": move._name,
                            "res_id": move.id,
                            "res_field": "invoice_pdf_report_file",
                        }
                        for move in moves
                        if content_by_id.get(move.id)
                    ]
                )
            )
            _logger.info("Invoice PDFs kept for the reminders: %s", attachments.mapped("name"))
            moves.invalidate_recordset(["invoice_pdf_report_id", "invoice_pdf_report_file"])

    @api.model
    def _crm_dunning_notes(self, reminded):
        return [
            (
                move,
                Markup("%s")
                % self.env._(
                    "Reminder sent to %(recipient)s: %(level)s", recipient=recipient.display_name, level=level.name
                ),
            )
            for move, level, recipient in reminded
        ]

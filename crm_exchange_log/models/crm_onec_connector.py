import logging
import uuid
from datetime import datetime

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare

from ..services.enterprise_data import build_message, parse_message
from ..services.onec_client import OneCClient, OneCError

_logger = logging.getLogger(__name__)

PARAM = "crm_exchange_log.%s"
FILE_NAMESPACE = uuid.UUID("5b0d8c1e-7a43-4f57-9a8e-0c1e5f1f2a10")


class CrmOnecConnector(models.AbstractModel):
    """Glue between Odoo documents and 1C's EnterpriseDataExchange_1_0_1_1 web service: maps
    counterparties and invoices to EnterpriseData, applies payments coming back, and journals
    every call."""

    _name = "crm.onec.connector"
    _description = "1C Connector"

    # ------------------------------------------------------------------ settings
    @api.model
    def _param(self, key, default=None):
        return self.env["ir.config_parameter"].sudo().get_param(PARAM % key, default)

    @api.model
    def _get_system(self):
        system = self.env["crm.exchange.system"]._get_by_code("onec")
        if not system:
            raise UserError(_("No exchange system with the code 'onec' is configured."))
        return system

    @api.model
    def _get_client(self):
        return OneCClient(
            url=self._param("onec_wsdl_url"),
            username=self._param("onec_username"),
            password=self._param("onec_password"),
            timeout=float(self._param("onec_timeout") or 30),
            exchange_plan=self._param("onec_exchange_plan") or "СинхронизацияДанныхЧерезУниверсальныйФормат",
            peer_code=self._param("onec_peer_code"),
            own_peer_code=self._param("onec_own_peer_code"),
            part_size_kb=int(self._param("onec_part_size") or 1024),
            poll_interval=float(self._param("onec_poll_interval") or 1.0),
        )

    @api.model
    def _auto_push_enabled(self):
        return (
            bool(self._param("onec_auto_push"))
            and bool(self._param("onec_wsdl_url"))
            and bool(self.env["crm.exchange.system"]._get_by_code("onec"))
        )

    # ------------------------------------------------------------------ mapping
    @api.model
    def _partner_values(self, partner):
        partner = partner.commercial_partner_id
        if not partner.crm_onec_ref:
            partner.sudo().crm_onec_ref = str(uuid.uuid4())
        return {
            "ref": partner.crm_onec_ref,
            "name": partner.name,
            "full_name": partner.name,
            "inn": partner.crm_inn or partner.crm_bin or partner.crm_iin or partner.vat or False,
            "kpp": partner.crm_kpp,
            "is_company": partner.is_company,
            "legal_address": partner.crm_legal_address or partner._display_address(without_company=True),
            "phone": partner.phone,
            "email": partner.email,
            "bank_accounts": [
                {"number": bank.acc_number, "bic": bank.bank_id.bic, "bank": bank.bank_id.name}
                for bank in partner.bank_ids
            ],
            "contacts": [
                {
                    "name": contact.name,
                    "function": contact.function,
                    "phone": contact.phone or contact.mobile,
                    "email": contact.email,
                }
                for contact in partner.child_ids.filtered(lambda child: child.type == "contact")
            ],
        }

    @api.model
    def _invoice_values(self, move):
        if not move.crm_onec_ref:
            move.sudo().crm_onec_ref = str(uuid.uuid4())
        contract = (
            move.partner_id.commercial_partner_id.crm_contract_ids.filtered(
                lambda contract: contract.state == "active"
            )[:1]
            if "crm_contract_ids" in move.partner_id._fields
            else False
        )
        lines = []
        for line in move.invoice_line_ids.filtered(lambda line: line.display_type == "product"):
            taxes = line.tax_ids.filtered(lambda tax: tax.amount_type == "percent")
            lines.append(
                {
                    "name": line.name or line.product_id.display_name,
                    "quantity": line.quantity,
                    "price_unit": line.price_unit,
                    "amount": line.price_total,
                    "vat_rate": f"НДС{int(taxes[0].amount)}" if taxes else "БезНДС",
                    "amount_tax": move.currency_id.round(line.price_total - line.price_subtotal),
                }
            )
        return {
            "ref": move.crm_onec_ref,
            "date": fields.Date.to_string(move.invoice_date),
            "number": move.name,
            "partner": self._partner_values(move.partner_id),
            "currency": move.currency_id.name,
            "amount_total": move.amount_total,
            "amount_tax": move.amount_tax,
            "date_due": fields.Date.to_string(move.invoice_date_due),
            "contract": contract.name if contract else False,
            "lines": lines,
        }

    @api.model
    def _message(self, message_no, objects):
        return build_message(
            exchange_plan=self._param("onec_exchange_plan") or "СинхронизацияДанныхЧерезУниверсальныйФормат",
            sender=self._param("onec_own_peer_code"),
            receiver=self._param("onec_peer_code"),
            message_no=message_no,
            received_no=int(self._param("onec_received_no") or 0),
            objects=objects,
            created=fields.Datetime.now().isoformat(),
        )

    @api.model
    def _objects(self, record):
        if record._name == "res.partner":
            return [("partner", self._partner_values(record))]
        return [("partner", self._partner_values(record.partner_id)), ("invoice", self._invoice_values(record))]

    # ------------------------------------------------------------------ outgoing
    @api.model
    def _enqueue_push(self, records, operation):
        """Journal one outgoing exchange per record and run it as a job on the 1C channel."""
        system = self._get_system()
        Log = self.env["crm.exchange.log"].sudo()
        logs = Log.browse()
        for record in records:
            message_no = self.env["ir.sequence"].sudo().next_by_code("crm_exchange_log.onec_message") or "1"
            key = f"onec:{int(message_no)}"
            try:
                request = self._message(int(message_no), self._objects(record)).decode("utf-8")
            except Exception as error:  # noqa: BLE001 - a mapping error is journaled too
                logs |= Log._journal(
                    system,
                    "out",
                    operation,
                    state="failed",
                    record=record,
                    error=Log._format_error(error),
                    idempotency_key=key,
                )
                continue
            logs |= Log._enqueue(system, operation, record, "_crm_onec_push", request=request, idempotency_key=key)
        return logs.sudo(False)

    @api.model
    def _action_push(self, records, operation):
        logs = self._enqueue_push(records, operation).sudo()
        failed = logs.filtered(lambda log: log.state == "failed")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning" if failed else "success",
                "title": _("1C"),
                "message": _("Sending to 1C failed: %(error)s", error=failed[0].error_message)
                if failed
                else _("%(count)s document(s) queued for 1C.", count=len(logs)),
                "sticky": bool(failed),
            },
        }

    @api.model
    def _send(self, record, log):
        """Job handler: send the record's message with the message number of the log (reused on
        retries, so 1C applies it once)."""
        message_no = int((log.idempotency_key or "onec:0").split(":")[1])
        message = self._message(message_no, self._objects(record))
        file_id = str(uuid.uuid5(FILE_NAMESPACE, log.idempotency_key))
        result = self._get_client().put_message(file_id, message)
        return {"message_no": message_no, **result}

    @api.model
    def push_partner(self, partner):
        """Send a counterparty to 1C now (one attempt, journaled); returns the log."""
        return self.with_context(queue_job__no_delay=True)._enqueue_push(partner, "push_partner")

    @api.model
    def push_invoice(self, move):
        """Send a customer invoice (with its counterparty) to 1C now; returns the log."""
        return self.with_context(queue_job__no_delay=True)._enqueue_push(move, "push_invoice")

    @api.model
    def ping(self):
        system = self._get_system()
        with self.env["crm.exchange.log"]._track(system, "out", "ping", reraise=False) as exchange:
            client = self._get_client()
            client.ping()
            client.test_connection()
            exchange.response = {"ping": True, "test_connection": True}
        return exchange.log

    # ------------------------------------------------------------------ incoming
    @api.model
    def pull_payments(self, since=None):
        """Download what 1C prepared for us, apply its incoming payments to our invoices (each
        once: the message number and the payment's reference are remembered), confirm the file."""
        system = self._get_system()
        Log = self.env["crm.exchange.log"]
        since = fields.Datetime.to_datetime(since) if since else None
        with Log._track(system, "in", "pull_payments", request={"since": str(since or "")}, reraise=False) as exchange:
            client = self._get_client()
            file_id, message = client.get_message()
            if file_id:
                exchange.response = self._apply_message(system, client, file_id, message, since, exchange)
            else:
                exchange.response = {"file": None}
        return exchange.log

    @api.model
    def _apply_message(self, system, client, file_id, message, since, exchange):
        header, payments, statuses = parse_message(message)
        received_no = int(self._param("onec_received_no") or 0)
        applied = []
        if header["message_no"] and header["message_no"] <= received_no:
            response = {"header": header, "skipped": "message already applied"}
        else:
            for payment in payments:
                applied.append(self._apply_payment(system, payment, since, exchange))
            noted = [self._apply_status(system, status, exchange) for status in statuses]
            if header["message_no"]:
                self.env["ir.config_parameter"].sudo().set_param(PARAM % "onec_received_no", str(header["message_no"]))
            response = {"header": header, "payments": applied, "statuses": noted}
        client.confirm(file_id)
        return response

    @api.model
    def _apply_payment(self, system, payment, since, exchange):
        Log = self.env["crm.exchange.log"]
        Payment = self.env["account.payment"].sudo()
        if payment["ref"] and Payment.search_count([("crm_onec_ref", "=", payment["ref"])], limit=1):
            return {"ref": payment["ref"], "result": "duplicate"}
        date = fields.Date.to_date((payment["date"] or "")[:10]) or fields.Date.context_today(self)
        if since and datetime.combine(date, datetime.min.time()) < since:
            return {"ref": payment["ref"], "result": "before since"}
        invoice = (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("name", "=", payment["invoice_number"]),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                ],
                limit=1,
            )
        )
        correlation = exchange.vals["correlation_id"]
        if not invoice:
            Log._journal(
                system,
                "in",
                "apply_payment",
                state="failed",
                request=payment,
                correlation_id=correlation,
                error=_(
                    "No posted invoice %(number)s for the payment %(payment)s from 1C",
                    number=payment["invoice_number"],
                    payment=payment["number"],
                ),
            )
            return {"ref": payment["ref"], "result": "no invoice"}
        amount = min(payment["amount"], invoice.amount_residual) if invoice.amount_residual else payment["amount"]
        if (
            invoice.payment_state in ("paid", "in_payment")
            or float_compare(amount, 0, precision_rounding=invoice.currency_id.rounding) <= 0
        ):
            Log._journal(
                system,
                "in",
                "apply_payment",
                state="done",
                record=invoice,
                request=payment,
                correlation_id=correlation,
                response={"result": "already paid"},
            )
            return {"ref": payment["ref"], "result": "already paid"}
        wizard = (
            self.env["account.payment.register"]
            .sudo()
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"payment_date": date, "amount": amount, "communication": payment["number"]})
        )
        payments = wizard._create_payments()
        payments.crm_onec_ref = payment["ref"]
        Log._journal(
            system,
            "in",
            "apply_payment",
            state="done",
            record=invoice,
            request=payment,
            correlation_id=correlation,
            response={"payment": payments[:1].name, "amount": amount},
        )
        return {"ref": payment["ref"], "result": "applied", "invoice": invoice.name}

    @api.model
    def _apply_status(self, system, status, exchange):
        """An invoice status reported by 1C: noted in the invoice's chatter and journaled."""
        invoice = (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("name", "=", status["number"]),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                ],
                limit=1,
            )
        )
        Log = self.env["crm.exchange.log"]
        correlation = exchange.vals["correlation_id"]
        if not invoice:
            Log._journal(
                system,
                "in",
                "invoice_status",
                state="failed",
                request=status,
                correlation_id=correlation,
                error=_("No invoice %(number)s for the status reported by 1C", number=status["number"]),
            )
            return {"number": status["number"], "result": "no invoice"}
        invoice.message_post(body=_("Status in 1C: %(status)s", status=status["status"]), subtype_xmlid="mail.mt_note")
        Log._journal(
            system, "in", "invoice_status", state="done", record=invoice, request=status, correlation_id=correlation
        )
        return {"number": status["number"], "result": "noted", "status": status["status"]}

    @api.model
    def _cron_pull(self, date_ref=None):
        if not self._param("onec_wsdl_url"):
            return None
        since = self._param("onec_last_pull")
        log = self.pull_payments(since=since)
        if log.state == "done":
            self.env["ir.config_parameter"].sudo().set_param(
                PARAM % "onec_last_pull", fields.Datetime.to_string(date_ref or fields.Datetime.now())
            )
        return log

    @api.model
    def _is_onec_error(self, error):
        return isinstance(error, OneCError)

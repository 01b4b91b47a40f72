import io
import json
import logging
import uuid
from collections import Counter
from contextlib import closing
from decimal import Decimal

import psycopg2
from lxml import etree

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, float_compare

from ..services import enterprise_data as ed
from ..services.onec_client import OneCClient, OneCError
from ..services.read_ahead import read_ahead
from ..services.safe_xml import UnsafeContentError, open_zip_member, parse_xml

_logger = logging.getLogger(__name__)

PARAM = "crm_exchange_log.%s"
FILE_NAMESPACE = uuid.UUID("5b0d8c1e-7a43-4f57-9a8e-0c1e5f1f2a10")
INTEGRATOR_GROUPS = ("crm_exchange_log.group_exchange_integrator", "base.group_system")
#: operations of the journal for one object received from 1C (a failed one is retried from its payload)
OBJECT_OPERATIONS = {
    ed.PAYMENT: "onec_payment",
    ed.SALE: "onec_sale",
    ed.SALE_RETURN: "onec_sale",
    ed.COUNTERPARTY: "onec_counterparty",
    ed.DELETION: "onec_deletion",
}
#: units of measure by the OKEI code 1C's classifier uses (Odoo's xml id -> code, short name)
OKEI_UNITS = {
    "uom.product_uom_unit": ("796", "шт"),
    "uom.product_uom_kgm": ("166", "кг"),
    "uom.product_uom_gram": ("163", "г"),
    "uom.product_uom_ton": ("168", "т"),
    "uom.product_uom_meter": ("006", "м"),
    "uom.product_uom_km": ("008", "км"),
    "uom.product_uom_litre": ("112", "л"),
    "uom.product_uom_hour": ("356", "ч"),
    "uom.product_uom_day": ("359", "сут"),
}
ONEC_JOURNAL_CODE = "1C"
OPEN_RECEIVABLE = [
    ("parent_state", "=", "posted"),
    ("account_type", "=", "asset_receivable"),
    ("reconciled", "=", False),
]
CACHED, CACHE_OBJECTS = "cached", 2000  # the ORM cache is emptied after so many objects of a file
BATCH_SIZE = 500  # consecutive sales (or payments) of 1C created and posted together
BATCHED = {ed.SALE: "sale", ed.SALE_RETURN: "sale", ed.PAYMENT: "payment"}
PAYLOAD_LIMIT = 1024 * 1024  # a message from 1C up to this size is kept whole with its exchange


class _Deferred(list):
    """Followers deferred by a chunk (a list that can sit in a context: hashed by identity)."""

    __hash__ = object.__hash__


class _BatchRefused(Exception):
    """A batch of documents from 1C cannot go the fast way (it is applied object by object)."""


class CrmOnecConnector(models.AbstractModel):
    """Glue between Odoo documents and 1C's EnterpriseDataExchange_1_0_1_1 web service: maps
    counterparties, bank accounts, contracts, invoices and credit notes to EnterpriseData 1.8,
    applies what 1C sends (payments, sales, returns, counterparties) object by object, and
    journals every call and every object."""

    _name = "crm.onec.connector"
    _description = "1C Connector"

    # ------------------------------------------------------------------ settings and access
    @api.model
    def _param(self, key, default=None):
        return self.env["ir.config_parameter"].sudo().get_param(PARAM % key, default)

    @api.model
    def _check_integrator(self):
        """Exchanges with 1C are run by integrators (and administrators) only, whatever the caller."""
        if self.env.su or any(self.env.user.has_group(group) for group in INTEGRATOR_GROUPS):
            return
        raise AccessError(_("Only integrators can exchange data with 1C."))

    @api.model
    def _get_system(self):
        system = self.env["crm.exchange.system"]._get_by_code("onec")
        if not system:
            raise UserError(_("No exchange system with the code 'onec' is configured."))
        return system

    @api.model
    def _format_versions(self, system):
        """The versions of EnterpriseData read from ``system``: the one it is configured with, when
        the suite can read it (else a clear error, journaled with the exchange)."""
        version = system.format_version or ed.FORMAT_VERSION
        if version not in ed.SUPPORTED_VERSIONS:
            raise UserError(
                _(
                    "The exchange system %(system)s is set to EnterpriseData %(version)s, which this suite "
                    "cannot read: it reads %(versions)s.",
                    system=system.display_name,
                    version=version,
                    versions=", ".join(ed.SUPPORTED_VERSIONS),
                )
            )
        return (version,)

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

    # ------------------------------------------------------------------ mapping out
    @api.model
    def _ensure_ref(self, record):
        if not record.crm_onec_ref:
            record.sudo().crm_onec_ref = str(uuid.uuid4())
        return record.crm_onec_ref

    @api.model
    def _legal_id(self, partner):
        """INN (Russia) or BIN/IIN (Kazakhstan): what 1C keeps in ИНН (12 characters at most)."""
        value = partner.crm_inn or partner.crm_bin or partner.crm_iin or False
        return value if value and len(value) <= 12 else False

    @api.model
    def _partner_values(self, partner):
        partner = partner.commercial_partner_id
        contacts = [
            ("ЮридическийАдрес", partner.crm_legal_address or partner._display_address(without_company=True)),
            ("Телефон", partner.phone or partner.mobile),
            ("АдресЭлектроннойПочты", partner.email),
        ]
        return {
            "ref": self._ensure_ref(partner),
            "name": partner.name,
            "full_name": partner.name,
            "inn": self._legal_id(partner),
            "kpp": partner.crm_kpp if partner.crm_kpp and len(partner.crm_kpp) <= 9 else False,
            "is_company": partner.is_company,
            "contacts": [(kind, (value or "").strip()) for kind, value in contacts],
        }

    @api.model
    def _organization_values(self, company):
        return {
            "name": company.name,
            "full_name": company.partner_id.name,
            "inn": self._legal_id(company.partner_id),
        }

    @api.model
    def _currency_values(self, currency):
        return {"code": currency.iso_numeric or False, "name": currency.name}

    @api.model
    def _bank_account_values(self, bank):
        partner = bank.partner_id.commercial_partner_id
        return {
            "ref": ed.ref_of(self.env.cr.dbname, "res.partner.bank", bank.id),
            "number": bank.acc_number,
            "bic": bank.bank_id.bic if bank.bank_id.bic and len(bank.bank_id.bic) <= 9 else False,
            "bank": bank.bank_id.name,
            "currency": self._currency_values(bank.currency_id or self.env.company.currency_id),
            "name": f"{bank.acc_number}, {bank.bank_id.name}" if bank.bank_id else bank.acc_number,
            "owner": partner,
        }

    @api.model
    def _contract_values(self, contract):
        return {
            "ref": ed.ref_of(self.env.cr.dbname, "crm.contract", contract.id),
            "number": contract.name,
            "name": contract.name,
            "date": contract.date_start,
            "date_end": contract.date_end,
        }

    @api.model
    def _contract_of(self, move):
        partner = move.partner_id.commercial_partner_id
        if "crm_contract_ids" not in partner._fields:
            return self.env["crm.contract"] if "crm.contract" in self.env else None
        return partner.sudo().crm_contract_ids.filtered(
            lambda contract: contract.state == "active"
            and (not contract.date_start or not move.invoice_date or contract.date_start <= move.invoice_date)
        )[:1]

    @api.model
    def _uom_values(self, uom):
        if not uom:
            return OKEI_UNITS["uom.product_uom_unit"]
        return OKEI_UNITS.get(uom.get_external_id().get(uom.id), (False, uom.name))

    @api.model
    def _invoice_values(self, move):
        """What 1C needs of a posted invoice or credit note; ``unsupported_vat`` lists the rates the
        format's СтавкиНДС lacks (sent as the VAT amount only)."""
        currency = move.currency_id
        lines, unsupported = [], set()
        price_include = any(move.invoice_line_ids.tax_ids.mapped("price_include"))
        for line in move.invoice_line_ids.filtered(lambda line: line.display_type == "product"):
            taxes = line.tax_ids.filtered(lambda tax: tax.amount_type == "percent")
            rate = Decimal(str(taxes[0].amount)) if taxes else None
            if rate is not None and ed.decimal(rate) not in ed.VAT_RATES:
                unsupported.add(f"{taxes[0].amount:g}%")
            amount = line.price_total if price_include else line.price_subtotal
            uom_code, uom_name = self._uom_values(line.product_uom_id)
            quantity = line.quantity or 0.0
            lines.append(
                {
                    "name": (line.product_id.display_name or line.name or "-").strip() or "-",
                    "description": line.name
                    if line.product_id and line.name != line.product_id.display_name
                    else False,
                    "product_ref": False,
                    "service": line.product_id.type == "service",
                    "quantity": quantity,
                    "amount": currency.round(amount),
                    "price": currency.round(amount / quantity) if quantity else currency.round(amount),
                    "vat_rate": rate,
                    "amount_tax": currency.round(line.price_total - line.price_subtotal),
                    "uom_code": uom_code,
                    "uom_name": uom_name,
                }
            )
        contract = self._contract_of(move)
        origin = move.reversed_entry_id if move.move_type == "out_refund" else False
        return {
            "ref": self._ensure_ref(move),
            "date": move.invoice_date,
            "number": move.name,
            "organization": self._organization_values(move.company_id),
            "partner": self._partner_values(move.partner_id),
            "currency": self._currency_values(currency),
            "amount_total": currency.round(move.amount_total),
            "price_include": price_include,
            "contract": self._contract_values(contract) if contract else False,
            "comment": move.ref or False,
            "origin": {"ref": self._ensure_ref(origin), "date": origin.invoice_date, "number": origin.name}
            if origin
            else False,
            "lines": lines,
            "unsupported_vat": sorted(unsupported),
        }

    @api.model
    def _check_pushable(self, records):
        """Only counterparties and posted customer invoices / credit notes go to 1C."""
        if records._name != "account.move":
            return
        for move in records:
            if move.move_type not in ("out_invoice", "out_refund"):
                raise UserError(
                    _(
                        "%(name)s is not a customer invoice or credit note: it is not sent to 1C.",
                        name=move.display_name,
                    )
                )
            if move.state != "posted":
                raise UserError(
                    _("%(name)s is not posted: only posted documents are sent to 1C.", name=move.display_name)
                )
            if move._crm_is_from_onec():
                raise UserError(_("%(name)s was made in 1C: it is not sent back.", name=move.display_name))

    @api.model
    def _objects(self, record):
        """The EnterpriseData objects of a record, each checked against the format."""
        try:
            if record._name == "res.partner":
                partner = record.commercial_partner_id
                values = self._partner_values(partner)
                objects = [ed.counterparty(values)]
                for bank in partner.bank_ids:
                    objects.append(ed.bank_account(self._bank_account_values(bank), values))
                return objects, {}
            self._check_pushable(record)
            values = self._invoice_values(record)
            objects = [ed.counterparty(values["partner"])]
            if values["contract"]:
                objects.append(ed.contract(values["contract"], values["organization"], values["partner"]))
            build = ed.sale if record.move_type == "out_invoice" else ed.sale_return
            objects.append(build(values))
            notes = {"vat_rates_sent_as_amount_only": values["unsupported_vat"]} if values["unsupported_vat"] else {}
            return objects, notes
        except ed.FormatError as error:
            raise UserError(
                _("%(name)s cannot be written in 1C's format: %(error)s", name=record.display_name, error=error)
            ) from error

    @api.model
    def _message(self, message_no, objects):
        return ed.build_message(
            {
                "exchange_plan": self._param("onec_exchange_plan") or "СинхронизацияДанныхЧерезУниверсальныйФормат",
                "from": self._param("onec_own_peer_code") or "",
                "to": self._param("onec_peer_code"),
                "message_no": message_no,
                "received_no": int(self._param("onec_received_no") or 0),
                "created": fields.Datetime.now(),
                # what the suite can read: 1C answers in one of them
                "versions": list(ed.SUPPORTED_VERSIONS),
            },
            objects,
        )

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
                objects, _notes = self._objects(record)
                request = self._message(int(message_no), objects).decode("utf-8")
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
        self._check_integrator()
        records.check_access("write")  # the documents of the user's companies only
        self._check_pushable(records)
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
        objects, notes = self._objects(record)
        message = self._message(message_no, objects)
        file_id = str(uuid.uuid5(FILE_NAMESPACE, log.idempotency_key))
        result = self._get_client().put_message(file_id, message)
        return {"message_no": message_no, **result, **notes}

    @api.model
    def push_partner(self, partner):
        """Send a counterparty to 1C now (one attempt, journaled); returns the log."""
        self._check_integrator()
        return self.with_context(queue_job__no_delay=True)._enqueue_push(partner, "push_partner")

    @api.model
    def push_invoice(self, move):
        """Send a posted customer invoice or credit note (with its counterparty) to 1C now."""
        self._check_integrator()
        self._check_pushable(move)
        return self.with_context(queue_job__no_delay=True)._enqueue_push(move, "push_invoice")

    @api.model
    def ping(self):
        self._check_integrator()
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
        """Download what 1C prepared (payments, sales, returns, counterparties), apply each object
        in its own savepoint, journal each, and confirm the receipt once every object is applied
        or journaled as failed. ``since`` is ignored: 1C sends what it has not seen confirmed."""
        self._check_integrator()
        return self._pull()

    @api.model
    def _pull(self):
        """One file from 1C: downloaded, applied object by object, then confirmed; journaled."""
        system = self._get_system()
        Log = self.env["crm.exchange.log"]
        with Log._track(system, "in", "pull_payments", reraise=False) as exchange:
            client = self._get_client()
            file_id, spool = client.get_message()
            if not file_id:
                exchange.response = {"file": None}
            else:
                with spool:
                    try:
                        stream, size = open_zip_member(spool)
                    except UnsafeContentError as error:
                        raise OneCError(f"1C's file {file_id} is refused: {error}") from error
                    with stream:
                        if size <= PAYLOAD_LIMIT:
                            # the message is kept with the exchange (a failure can be examined)
                            data = stream.read(PAYLOAD_LIMIT + 1)
                            exchange.vals["request_payload"] = data.decode("utf-8", errors="replace")
                            stream = io.BytesIO(data)
                        else:
                            exchange.vals["request_payload"] = {"file_id": file_id, "bytes": size}
                        header, result = self._apply_message(system, stream, exchange)
                result["confirmed"] = self._confirm_receipt(system, file_id, header)
                exchange.response = result
        return exchange.log

    @api.model
    def action_initial_sync(self, max_files=1000):
        """First load of history: pull the files 1C prepares (each in parts, read as a stream, each
        object applied once by its reference) until 1C has nothing more; every file is journaled,
        so the journal shows the progress, and a load stopped half-way resumes where 1C still has
        unconfirmed objects, without duplicates."""
        self._check_integrator()
        logs = self.env["crm.exchange.log"]
        connector = self.with_context(crm_onec_commit_steps=True)
        for _number in range(max_files):
            log = connector._pull()
            logs |= log
            # the file is committed, then confirmed to 1C, before the next one is asked for
            connector._commit_step()
            if log.state != "done" or not self._pulled_a_file(log):
                break
        return logs

    @api.model
    def _pulled_a_file(self, log):
        try:
            return json.loads(log.sudo().response_payload or "{}").get("file", True) is not None
        except ValueError:
            return True

    @api.model
    def _confirm_receipt(self, system, file_id, header):
        """Tell 1C the file is received (``ConfirmGettingFile``) and applied (a message without
        objects whose ReceivedNo lets SSL clear the changes it registered up to it), once the
        transaction that applied it is committed: what 1C clears is never lost to a rollback.
        ReceivedNo is remembered with the data and sent in every later message as well. Returns
        the message number confirmed."""
        number = header.get("message_no") or 0
        params = self.env["ir.config_parameter"].sudo()
        if number > int(params.get_param(PARAM % "onec_received_no") or 0):
            params.set_param(PARAM % "onec_received_no", str(number))
        receipt_no = 0
        if number:
            receipt_no = int(self.env["ir.sequence"].sudo().next_by_code("crm_exchange_log.onec_message") or "1")
        connector = self.sudo()

        def confirm():
            # after the commit, on the same cursor: the confirmation is journaled and committed in turn
            connector._send_confirmation(system, file_id, receipt_no)
            connector.env.cr.commit()  # pylint: disable=invalid-commit

        self.env.cr.postcommit.add(confirm)
        return number or False

    @api.model
    def _send_confirmation(self, system, file_id, receipt_no):
        """After the commit: the file confirmed and the receipt sent, journaled; a failure leaves 1C
        sending the same objects again, applied once by their reference."""
        with self.env["crm.exchange.log"]._track(
            system, "out", "confirm_receipt", request={"file_id": file_id, "receipt_no": receipt_no}, reraise=False
        ) as exchange:
            client = self._get_client()
            client.confirm(file_id)
            if receipt_no:
                client.put_message(
                    str(uuid.uuid5(FILE_NAMESPACE, f"receipt:{receipt_no}")), self._message(receipt_no, [])
                )
            exchange.response = {"confirmed": file_id, "receipt_no": receipt_no}

    @api.model
    def _commit_step(self):
        """A job's first load commits what it applied so far: the journal shows it at once, and a
        crash (or the worker's time limit) loses only the step in progress, which 1C sends again
        since its file is not confirmed (and what was applied is recognised by its reference)."""
        if self.env.context.get("crm_onec_commit_steps"):
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _apply_message(self, system, stream, exchange):
        """Apply a message read from ``stream`` (or bytes) object by object: (header, summary).
        Consecutive sales and returns are applied in batches (one create and one posting for a
        batch, see :meth:`_apply_sales_batch`); a batch that fails is applied object by object. The
        objects are parsed and read in a thread, up to two batches ahead (see :func:`read_ahead`)."""
        items = read_ahead(
            ed.iter_read(
                io.BytesIO(stream) if isinstance(stream, bytes) else stream, versions=self._format_versions(system)
            ),
            limit=2 * BATCH_SIZE,
        )
        with closing(items):
            header = next(items)[1]
            return header, {"header": header, **self._apply_objects(system, items, exchange)}

    @api.model
    def _apply_objects(self, system, items, exchange):
        """Apply the objects ``items`` (type name, element, values read) of a message: the summary."""
        results = Counter()
        unmapped = Counter()
        batch = []
        for kind, node, values in items:
            operation = OBJECT_OPERATIONS.get(kind)
            if not operation:
                unmapped[kind] += 1
                continue
            group = BATCHED.get(kind)
            if batch and (group != BATCHED[batch[0][0]] or len(batch) >= BATCH_SIZE):
                # in the order 1C wrote them: a payment comes after the sale it settles
                self._apply_batch(system, batch, exchange, results)
                self._commit_step()
                batch = []
            if group:
                batch.append((kind, node, values))
            else:
                self._apply_and_journal(system, kind, node, exchange, results)
        self._apply_batch(system, batch, exchange, results)
        result = {"applied": results.get("done", 0), "failed": results.get("failed", 0)}
        if unmapped:
            result["not_mapped"] = dict(unmapped)
        return result

    @api.model
    def _apply_and_journal(self, system, kind, node, exchange, results, journal=None):
        """Apply one object and journal it; ``journal``: a list that gathers the entries of the
        applied objects for :meth:`_write_journal` (a failure is journaled at once, after them, so
        that the journal keeps 1C's order)."""
        payload = etree.tostring(node, encoding="unicode")
        state, record, response, error = self._apply_object(system, kind, node)
        results[state] += 1
        Log = self.env["crm.exchange.log"]
        entry = {
            "state": state,
            "record": record or None,
            "request": payload,
            "response": response,
            "error": error,
            "correlation_id": exchange.vals["correlation_id"],
        }
        if journal is None or state == "failed":
            self._write_journal(journal)
            Log._journal(system, "in", OBJECT_OPERATIONS[kind], **entry)
        else:
            journal.append(Log._journal_vals(system, "in", OBJECT_OPERATIONS[kind], **entry))

    @api.model
    def _write_journal(self, journal):
        """Create the gathered entries together (one INSERT instead of one per object)."""
        if journal:
            vals_list, journal[:] = list(journal), []
            self.env["crm.exchange.log"].sudo()._create_journal_rows(vals_list)

    @api.model
    def _apply_batch(self, system, batch, exchange, results):
        if not batch:
            return
        # what is written stays in the transaction, not in the cache: memory does not grow with the file
        results[CACHED] += len(batch)
        if results[CACHED] >= CACHE_OBJECTS:
            self.env.flush_all()
            self.env.invalidate_all()
            results[CACHED] = 0
        if len(batch) > 1:
            company = system.company_id or self.env.company
            connector = self.with_context(tracking_disable=True, mail_create_nolog=True, mail_notrack=True)
            try:
                with self.env.cr.savepoint():
                    nodes = [node for _kind, node, _values in batch]
                    # what the reading thread could read (each object is read again if not)
                    read = [values for _kind, _node, values in batch]
                    read = read if all(read) else None
                    if BATCHED[batch[0][0]] == "payment":
                        applied = connector._apply_payments_batch(company, nodes, read)
                    else:
                        applied = [
                            (move, {"move": move.name, "result": "created", "amount": move.amount_total})
                            for move in connector._apply_sales_batch(company, nodes, read)
                        ]
            except psycopg2.OperationalError:
                raise
            except Exception as error:  # noqa: BLE001 - the batch is applied again object by object
                _logger.info("A batch of %s objects from 1C is applied object by object: %s", len(batch), error)
            else:
                Log = self.env["crm.exchange.log"]
                vals_list = []
                for (kind, node, _values), (record, response) in zip(batch, applied, strict=True):
                    vals = Log._prepare_log_vals(
                        system,
                        "in",
                        OBJECT_OPERATIONS[kind],
                        record=record,
                        request=etree.tostring(node, encoding="unicode"),
                        response=response,
                        correlation_id=exchange.vals["correlation_id"],
                    )
                    vals.update(state="done", attempt_count=1, date_done=fields.Datetime.now())
                    vals_list.append(vals)
                Log.sudo()._create_journal_rows(vals_list)
                results["done"] += len(batch)
                return
        journal = []
        for kind, node, _values in batch:
            self._apply_and_journal(system, kind, node, exchange, results, journal)
        self._write_journal(journal)

    @api.model
    def _apply_sales_batch(self, company, nodes, documents=None):
        """New sales and returns of 1C created with one ``create`` and posted together; raises when
        any of them is not new or not exact (the caller then applies them one by one)."""
        documents = documents or [ed.read_sale(node) for node in nodes]
        refs = [values["ref"] for values in documents]
        Move = self.env["account.move"].sudo().with_company(company)
        if not all(refs) or len(set(refs)) != len(refs):
            raise _BatchRefused("documents without a reference or twice the same")
        if Move.search_count([("crm_onec_ref", "in", refs), ("company_id", "=", company.id)], limit=1):
            raise _BatchRefused("documents already mirrored")
        journal = self._onec_journal(company)
        currencies, vals_list = {}, []
        partners = self._find_partners([values["partner"] for values in documents], company, create=True)
        for values, partner in zip(documents, partners, strict=True):
            key = (values["currency"]["code"], values["currency"]["name"])
            currency = currencies.get(key) or currencies.setdefault(key, self._find_currency(values["currency"]))
            vals_list.append(
                {
                    **self._sale_vals(values, currency, partner),
                    "journal_id": journal.id,
                    "company_id": company.id,
                    "crm_onec_ref": values["ref"],
                }
            )
        if not self.env["account.analytic.distribution.model"].sudo().search_count([], limit=1):
            # no analytic distribution model: nothing to look up line by line
            for vals in vals_list:
                for command in vals["invoice_line_ids"]:
                    command[2]["analytic_distribution"] = False
        # the set-based writer stores what create + action_post would (None: the ORM does it;
        # the context key crm_onec_orm_sales forces the ORM)
        moves = None
        if not self.env.context.get("crm_onec_orm_sales"):
            moves = self.env["crm.onec.sale.writer"]._write(company, journal, vals_list)
        if moves is None:
            deferred = _Deferred()
            moves = Move.with_context(crm_onec_deferred_followers=deferred).create(vals_list)
            moves.with_context(crm_onec_deferred_followers=deferred).action_post()
            self._subscribe_deferred(deferred)
        for move, values in zip(moves, documents, strict=True):
            if values["amount_total"] is not None and float_compare(
                move.amount_total, float(values["amount_total"]), precision_rounding=move.currency_id.rounding
            ):
                raise _BatchRefused(f"{values['number']} does not add up")
        return moves

    @api.model
    def _subscribe_deferred(self, pairs):
        """The customers follow their documents, as ``account.move._post`` subscribes them one by
        one (default subtypes, external ones for portal and public partners): a chunk at once, with
        one INSERT of the followers and one of their subtypes (``mail.followers.create`` stores
        nothing else: the followers have no log columns)."""
        if not pairs:
            return
        pairs = list(dict.fromkeys(pairs))
        partner_ids = sorted({partner_id for _move_id, partner_id in pairs})
        Followers = self.env["mail.followers"].sudo()
        existing = {
            (res_id, partner_id)
            for _id, res_id, partner_id, *_rest in Followers._get_subscription_data(
                [("account.move", sorted({move_id for move_id, _partner_id in pairs}))], partner_ids
            )
        }
        pairs = [pair for pair in pairs if pair not in existing]
        if not pairs:
            return
        subtypes, _internal, external = self.env["mail.message.subtype"].default_subtypes("account.move")
        shared = set(
            self.env["res.partner"].sudo().search([("id", "in", partner_ids), ("partner_share", "=", True)]).ids
        )
        move_ids, follower_partner_ids = zip(*pairs, strict=True)
        followed = self.env.execute_query(
            SQL(
                """INSERT INTO mail_followers (res_model, res_id, partner_id)
                   SELECT 'account.move', v.res_id, v.partner_id
                     FROM unnest(%s::int[], %s::int[]) AS v(res_id, partner_id)
                   RETURNING id, res_id, partner_id""",
                list(move_ids),
                list(follower_partner_ids),
            )
        )
        links = [
            (follower_id, subtype_id)
            for follower_id, _move_id, partner_id in followed
            for subtype_id in (external if partner_id in shared else subtypes).ids
        ]
        if links:
            relation = Followers._fields["subtype_ids"]
            self.env.cr.execute(
                SQL(
                    "INSERT INTO %s (%s, %s) SELECT * FROM unnest(%s::int[], %s::int[])",
                    SQL.identifier(relation.relation),
                    SQL.identifier(relation.column1),
                    SQL.identifier(relation.column2),
                    [follower_id for follower_id, _subtype_id in links],
                    [subtype_id for _follower_id, subtype_id in links],
                )
            )
        # what create() changes in memory: the documents' followers (and what depends on them:
        # message_partner_ids, message_is_follower) read again
        moves = self.env["account.move"].browse(sorted(set(move_ids)))
        moves.invalidate_recordset(["message_follower_ids"])
        moves.modified(["message_follower_ids"])

    @api.model
    def _apply_object(self, system, kind, node):
        """Apply one object in its own savepoint: (state, record, response, error)."""
        handler = {
            ed.PAYMENT: self._apply_payment,
            ed.SALE: self._apply_sale,
            ed.SALE_RETURN: self._apply_sale,
            ed.COUNTERPARTY: self._apply_counterparty,
            ed.DELETION: self._apply_deletion,
        }[kind]
        company = system.company_id or self.env.company
        # mirrors of 1C's objects: no chatter messages of creation or tracking (the journal has them)
        handler = getattr(
            self.with_context(tracking_disable=True, mail_create_nolog=True, mail_notrack=True), handler.__name__
        )
        try:
            with self.env.cr.savepoint():
                record, response = handler(company, node)
        except psycopg2.OperationalError:
            raise  # serialization failures and lost connections: the whole pull is retried
        except Exception as error:  # noqa: BLE001 - one bad object is journaled, the others go on
            return "failed", None, None, self.env["crm.exchange.log"]._format_error(error)
        return "done", record, response, None

    @api.model
    def _retry_object(self, log):
        """Apply again an object of 1C whose application failed (its payload is in the journal)."""
        node = parse_xml(log.request_payload or "")
        kind = etree.QName(node).localname
        if kind not in OBJECT_OPERATIONS:
            raise UserError(_("This exchange cannot be applied again: it is not an object of 1C."))
        state, record, response, error = self._apply_object(log.system_id, kind, node)
        vals = {
            "state": state,
            "error_message": error or False,
            "attempt_count": log.attempt_count + 1,
            "date_done": fields.Datetime.now(),
        }
        if record:
            vals.update(res_model=record._name, res_id=record.id)
        if response is not None:
            vals["response_payload"] = response
        log.sudo().write(vals)
        return state

    # ------------------------------------------------------------------ applying objects
    @api.model
    def _find_currency(self, values):
        Currency = self.env["res.currency"].with_context(active_test=False).sudo()
        currency = Currency.browse()
        if values.get("code") and values["code"].isdigit():
            currency = Currency.search([("iso_numeric", "=", int(values["code"]))], limit=1)
        if not currency and values.get("name"):
            currency = Currency.search([("name", "=", values["name"])], limit=1)
        if not currency:
            raise UserError(
                _("Unknown currency %(code)s %(name)s", code=values.get("code") or "", name=values.get("name") or "")
            )
        return currency

    @api.model
    def _find_partner(self, values, company, create=False):
        """The commercial partner of a counterparty of 1C: by its reference, then by INN/BIN (and
        KPP when given); created when unknown and ``create``."""
        return self._find_partners([values], company, create=create)[0]

    @api.model
    def _find_partners(self, values_list, company, create=False):
        """:meth:`_find_partner` of each of ``values_list`` (counterparties as 1C writes them),
        looked up together: one search by reference, one by INN/BIN, one creation of the unknown
        ones (a counterparty named twice is created once)."""
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        company_domain = [("company_id", "in", (company.id, False))]
        refs = sorted({values["ref"] for values in values_list if values and values.get("ref")})
        by_ref = {}
        for partner in Partner.search([("crm_onec_ref", "in", refs), *company_domain]) if refs else ():
            by_ref.setdefault(partner.crm_onec_ref, partner)  # the first in search order, as limit=1
        inns = sorted({values["inn"] for values in values_list if values and values.get("inn")})
        by_inn = []
        if inns:
            by_inn = Partner.search(
                [
                    "|",
                    "|",
                    ("crm_bin", "in", inns),
                    ("crm_iin", "in", inns),
                    ("crm_inn", "in", inns),
                    ("parent_id", "=", False),
                    *company_domain,
                ]
            )
        found, missing = [], {}
        for values in values_list:
            partner = Partner.browse()
            if values and values.get("ref"):
                partner = by_ref.get(values["ref"], partner)
            inn = values and values.get("inn")
            if values and not partner and inn:
                kpp = values.get("kpp")
                partner = next(
                    (
                        candidate
                        for candidate in by_inn
                        if inn in (candidate.crm_bin, candidate.crm_iin, candidate.crm_inn)
                        and (not kpp or candidate.crm_kpp in (kpp, False))
                    ),
                    partner,
                )
            if partner:
                partner = partner.commercial_partner_id
                if values.get("ref") and not partner.crm_onec_ref:
                    partner.crm_onec_ref = values["ref"]
            elif values and create:
                if not values.get("name"):
                    raise UserError(_("The counterparty of 1C has no name"))
                key = (values.get("ref"), inn, values.get("kpp")) if values.get("ref") or inn else len(missing)
                missing.setdefault(key, values)
                partner = key
            found.append(partner)
        if missing:
            created = dict(
                zip(missing, Partner.create([self._partner_create_vals(v) for v in missing.values()]), strict=True)
            )
            found = [created[item] if not isinstance(item, models.BaseModel) else item for item in found]
        return found

    @api.model
    def _partner_create_vals(self, values):
        inn = values.get("inn")
        vals = {
            "name": values["name"],
            "is_company": values.get("is_company", True),
            "crm_onec_ref": values.get("ref") or False,
            "customer_rank": 1,
        }
        if inn and inn.isdigit() and len(inn) == 12:
            vals["crm_bin" if values.get("is_company", True) else "crm_iin"] = inn
        elif inn and inn.isdigit() and len(inn) == 10:
            vals["crm_inn"] = inn
            vals["crm_kpp"] = values.get("kpp") or False
        return vals

    @api.model
    def _apply_counterparty(self, company, node):
        values = ed.read_counterparty(node)
        partner = self._find_partner(values, company, create=True)
        return partner, {"partner": partner.id, "name": partner.name}

    @api.model
    def _apply_deletion(self, company, node):
        """A document deleted or unposted in 1C: its mirror (a sale or return made in 1C) is
        cancelled, a payment from 1C is cancelled (its reconciliations undone); anything else is
        left as it is. EnterpriseData has no posting flag: SSL sends a document that no longer
        passes the node's registration filter (unposted) as УдалениеОбъекта, and the whole
        document again once it is posted again (then the mirror is restored)."""
        kind, ref = ed.read_deletion(node)
        if kind in ("РеализацияТоваровУслугСсылка", "ВозвратТоваровОтПокупателяСсылка"):
            move = (
                self.env["account.move"]
                .sudo()
                .search([("crm_onec_ref", "=", ref), ("company_id", "=", company.id)], limit=1)
            )
            if not move or not move._crm_is_from_onec():
                return move or None, {"result": "not a document made in 1C", "ref": ref}
            if move.state != "cancel":
                if move.state == "posted":
                    move.button_draft()
                move.button_cancel()
            return move, {"move": move.name, "result": "cancelled"}
        if kind == "ПБДСРасчетыСКонтрагентамиСсылка":
            payments = self._onec_payments(company, ref)
            for payment in payments.filtered(lambda payment: payment.state != "canceled"):
                payment.action_draft()
                payment.action_cancel()
            return payments[:1] or None, {"payments": payments.mapped("name"), "result": "cancelled"}
        return None, {"result": "not mirrored", "kind": kind}

    @api.model
    def _onec_journal(self, company):
        """The sale journal of code 1C of the company (created on first use): documents made in 1C."""
        Journal = self.env["account.journal"].sudo()
        journal = Journal.search([("code", "=", ONEC_JOURNAL_CODE), ("company_id", "=", company.id)], limit=1)
        if journal:
            return journal
        sale = Journal.search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
        return Journal.create(
            {
                "name": _("Sales from 1C"),
                "code": ONEC_JOURNAL_CODE,
                "type": "sale",
                "company_id": company.id,
                "default_account_id": sale.default_account_id.id,
            }
        )

    @api.model
    def _sale_lines(self, values, currency):
        """Invoice lines that add up exactly to 1C's amounts (tax included, as 1C counted it)."""
        commands = []
        digits = self.env["decimal.precision"].precision_get("Product Price")
        for line in values["lines"]:
            total = line["amount"] + (Decimal(0) if values["price_include"] else line["amount_tax"])
            quantity = line["quantity"] or Decimal(0)
            price = round(total / quantity, digits) if quantity else total
            if not quantity or float_compare(
                float(price * quantity), float(total), precision_rounding=currency.rounding
            ):
                name = f"{line['name']} ({quantity:f})" if quantity not in (0, 1) else line["name"]
                quantity, price = Decimal(1), total
            else:
                name = line["name"]
            commands.append(
                fields.Command.create(
                    {"name": name or "-", "quantity": float(quantity), "price_unit": float(price), "tax_ids": False}
                )
            )
        return commands

    @api.model
    def _sale_vals(self, values, currency, partner):
        return {
            "move_type": "out_refund" if values["kind"] == "return" else "out_invoice",
            "partner_id": partner.id,
            "invoice_date": values["date"].date(),
            "date": values["date"].date(),
            "currency_id": currency.id,
            "ref": values["number"],
            "payment_reference": values["number"],
            "invoice_line_ids": self._sale_lines(values, currency),
        }

    @api.model
    def _apply_sale(self, company, node):
        """A sale (or return) made in 1C: a posted customer invoice (credit note) in the 1C journal,
        the same one whenever 1C sends it again (by its reference)."""
        values = ed.read_sale(node)
        if not values["ref"]:
            raise UserError(_("The document %(number)s of 1C has no reference", number=values["number"]))
        Move = self.env["account.move"].sudo().with_company(company)
        currency = self._find_currency(values["currency"])
        partner = self._find_partner(values["partner"], company, create=True)
        move_type = "out_refund" if values["kind"] == "return" else "out_invoice"
        vals = self._sale_vals(values, currency, partner)
        existing = Move.search([("crm_onec_ref", "=", values["ref"]), ("company_id", "=", company.id)], limit=1)
        if existing:
            if existing.move_type != move_type:
                raise UserError(_("The reference %(ref)s of 1C belongs to another document", ref=values["ref"]))
            if (
                existing.state == "posted"
                and existing.partner_id == partner
                and existing.currency_id == currency
                and existing.invoice_date == vals["invoice_date"]
                and float_compare(
                    existing.amount_total, float(values["amount_total"] or 0), precision_rounding=currency.rounding
                )
                == 0
            ):
                return existing, {"move": existing.name, "result": "unchanged"}
            # unposted in 1C (sent as УдалениеОбъекта, the mirror was cancelled) and posted again: restored
            result = "restored" if existing.state == "cancel" else "updated"
            if existing.state != "draft":
                existing.button_draft()
            existing.invoice_line_ids.unlink()
            existing.write(vals)
            existing.action_post()
            self._check_sale_total(existing, values)
            response = {"move": existing.name, "result": result, "amount": existing.amount_total}
            rematched = self._rematch_payments(existing)
            if rematched:
                response["payments"] = rematched
            return existing, response
        journal = self._onec_journal(company)
        move = Move.create({**vals, "journal_id": journal.id, "company_id": company.id, "crm_onec_ref": values["ref"]})
        move.action_post()
        self._check_sale_total(move, values)
        return move, {"move": move.name, "result": "created", "amount": move.amount_total}

    @api.model
    def _rematch_payments(self, move):
        """Reconcile ``move`` (a mirror posted again: resetting it undid its matching) with the
        payments from 1C that name it and are still open, oldest first: their names."""
        if move.move_type != "out_invoice":
            return []
        payments = (
            self.env["account.payment"]
            .sudo()
            .search(
                [("crm_onec_document_id", "=", move.id), ("state", "in", ("in_process", "paid"))],
                order="date, id",
            )
            .filtered(lambda payment: payment.move_id.line_ids.filtered_domain(OPEN_RECEIVABLE))
        )
        open_lines = move.line_ids.filtered_domain(OPEN_RECEIVABLE)
        if not payments or not open_lines:
            return []
        self._reconcile_payments(payments, [(move, open_lines)] * len(payments))
        return payments.mapped("name")

    @api.model
    def _check_sale_total(self, move, values):
        if values["amount_total"] is not None and float_compare(
            move.amount_total, float(values["amount_total"]), precision_rounding=move.currency_id.rounding
        ):
            raise UserError(
                _(
                    "The document %(number)s of 1C totals %(total)s but its lines add up to %(lines)s",
                    number=values["number"],
                    total=values["amount_total"],
                    lines=move.amount_total,
                )
            )

    @api.model
    def _find_document(self, document, company, partner):
        """The posted customer invoice or credit note a payment row names: by 1C's reference, then
        by its number (the name of a document pushed from Odoo), within the company."""
        Move = self.env["account.move"].sudo()
        domain = [
            ("company_id", "=", company.id),
            ("state", "=", "posted"),
            ("move_type", "in", ("out_invoice", "out_refund")),
        ]
        move = Move.browse()
        if document.get("ref"):
            move = Move.search([*domain, ("crm_onec_ref", "=", document["ref"])], limit=1)
        if not move and document.get("number"):
            number_domain = [*domain, "|", ("name", "=", document["number"]), ("ref", "=", document["number"])]
            if partner:
                number_domain.append(("commercial_partner_id", "=", partner.id))
            moves = Move.search(number_domain, limit=2)
            if len(moves) > 1:
                raise UserError(_("Several documents have the number %(number)s", number=document["number"]))
            move = moves
        return move

    @api.model
    def _check_same_counterparty(self, values, move):
        inn = (values.get("partner") or {}).get("inn")
        partner = move.commercial_partner_id
        own = {partner.crm_bin, partner.crm_iin, partner.crm_inn} - {False, None, ""}
        if inn and own and inn not in own:
            raise UserError(
                _(
                    "The payment %(number)s is from INN/BIN %(inn)s but %(move)s belongs to %(partner)s",
                    number=values["number"],
                    inn=inn,
                    move=move.name,
                    partner=partner.display_name,
                )
            )

    @api.model
    def _apply_payment(self, company, node):
        """A customer's payment from 1C: one payment per row, reconciled with the document the row
        names (same company, same currency, same counterparty); what exceeds the document's
        residual, or a row without a document, stays as the customer's outstanding credit."""
        values = ed.read_payment(node)
        if values["kind"] != "СПокупателем":
            return None, {"result": "not a customer payment", "kind": values["kind"]}
        if not values["ref"]:
            raise UserError(_("The payment %(number)s of 1C has no reference", number=values["number"]))
        Payment = self.env["account.payment"].sudo().with_company(company)
        existing = self._onec_payments(company, values["ref"])
        if existing.filtered(lambda payment: payment.state != "canceled"):
            return existing[:1], {"payment": existing[:1].name, "result": "already applied"}
        vals_list, targets = self._prepare_payment(company, values)
        if existing:
            # unposted in 1C (its mirror was cancelled) and posted again: the same payments restored
            restored = existing[: len(vals_list)]
            restored.action_draft()
            for payment, vals in zip(restored, vals_list, strict=False):
                payment.write({key: value for key, value in vals.items() if key not in ("crm_onec_ref", "company_id")})
            created = restored | Payment.create(vals_list[len(restored) :])
        else:
            created = Payment.create(vals_list)
        created.action_post()
        response = self._reconcile_payments(created, targets)
        if existing:
            response["result"] = "restored"
        return created[:1], response

    @api.model
    def _onec_payments(self, company, ref):
        """The payments mirroring one payment of 1C (one per row: ``ref``, ``ref/2``, ...), in row order."""
        payments = (
            self.env["account.payment"]
            .sudo()
            .with_company(company)
            .search(
                [
                    "|",
                    ("crm_onec_ref", "=", ref),
                    ("crm_onec_ref", "=like", f"{ref}/%"),
                    ("company_id", "=", company.id),
                ]
            )
        )
        return payments.sorted(lambda payment: int(payment.crm_onec_ref.partition("/")[2] or 1))

    @api.model
    def _prepare_payment(self, company, values, cache=None):
        """(vals of the payments of each row, [(document, its open receivable lines)]), or a
        UserError saying why the payment cannot be applied. ``cache``: what a batch already found
        (currencies, payers, the bank journal, its documents by reference)."""
        cache = {} if cache is None else cache
        if (
            not values["amount"]
            or values["amount"] <= 0
            or any(row["amount"] is None or row["amount"] <= 0 for row in values["rows"])
        ):
            raise UserError(_("The payment %(number)s of 1C has no positive amount", number=values["number"]))
        currency_key = ("currency", values["currency"]["code"], values["currency"]["name"])
        if currency_key not in cache:
            cache[currency_key] = self._find_currency(values["currency"])
        currency = cache[currency_key]
        payer = values["partner"] or {}
        partner_key = ("partner", payer.get("ref"), payer.get("inn"), payer.get("kpp"))
        if partner_key not in cache:
            cache[partner_key] = self._find_partner(values["partner"], company)
        partner = cache[partner_key]
        rows = values["rows"] or [{"amount": values["amount"], "document": None}]
        documents = []
        for row in rows:
            move = None
            if row.get("document"):
                move = cache.get(("document", row["document"].get("ref"))) or self._find_document(
                    row["document"], company, partner
                )
            if row.get("document") and not move:
                raise UserError(
                    _(
                        "No posted document %(number)s of %(company)s for the payment %(payment)s from 1C",
                        number=row["document"].get("number") or row["document"].get("ref"),
                        company=company.name,
                        payment=values["number"],
                    )
                )
            if move:
                if move.currency_id != currency:
                    raise UserError(
                        _(
                            "The payment %(number)s is in %(currency)s but %(move)s is in %(move_currency)s",
                            number=values["number"],
                            currency=currency.name,
                            move=move.name,
                            move_currency=move.currency_id.name,
                        )
                    )
                self._check_same_counterparty(values, move)
                partner = partner or move.commercial_partner_id
                if move.commercial_partner_id != partner:
                    raise UserError(
                        _(
                            "%(move)s does not belong to the payer of %(number)s",
                            move=move.name,
                            number=values["number"],
                        )
                    )
            documents.append((row, move))
        if not partner:
            raise UserError(_("The payer of %(number)s is unknown", number=values["number"]))
        if "journal" not in cache:
            cache["journal"] = self._bank_journal(company)
        journal = cache["journal"]
        # one payment per row, created and posted together, then each reconciled with its document
        # (as account.payment.register does, without the wizard)
        vals_list, targets = [], []
        for index, (row, move) in enumerate(documents, start=1):
            open_lines = (
                move.line_ids.filtered_domain(OPEN_RECEIVABLE) if move and move.move_type == "out_invoice" else None
            )
            vals_list.append(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": partner.id,
                    "amount": float(row["amount"]),
                    "currency_id": currency.id,
                    "date": values["date"].date(),
                    "journal_id": journal.id,
                    "company_id": company.id,
                    "memo": values["number"],
                    "crm_onec_ref": values["ref"] if index == 1 else f"{values['ref']}/{index}",
                    "crm_onec_document_id": move.id if move else False,
                    **({"destination_account_id": open_lines[0].account_id.id} if open_lines else {}),
                }
            )
            targets.append((move, open_lines))
        return vals_list, targets

    @api.model
    def _bank_journal(self, company):
        journal = (
            self.env["account.journal"].sudo().search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
        )
        if not journal:
            raise UserError(_("%(company)s has no bank journal for the payments from 1C", company=company.name))
        return journal

    @api.model
    def _reconcile_payments(self, created, targets):
        """Reconcile the posted payments of one payment of 1C with their documents: the response."""
        plan = self._reconciliation_plan(created, targets)
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)
        return self._payment_response(created, targets)

    @api.model
    def _reconciliation_plan(self, created, targets):
        """The journal items to reconcile together, payment by payment (see ``_reconcile_plan``)."""
        plan = []
        for payment, (_move, open_lines) in zip(created, targets, strict=True):
            if open_lines:
                lines = payment.move_id.line_ids.filtered_domain(OPEN_RECEIVABLE)
                plan.append(
                    (lines + open_lines).filtered(lambda line, account=lines.account_id: line.account_id in account)
                )
        return plan

    @api.model
    def _payment_response(self, created, targets, open_credits=None):
        """The answer journaled for the payments ``created`` from one payment of 1C;
        ``open_credits``: :meth:`_open_credits` of a batch holding them (read when not given)."""
        applied = [
            {"move": move.name, "amount": payment.amount}
            for payment, (move, open_lines) in zip(created, targets, strict=True)
            if open_lines
        ]
        if open_credits is None:
            open_credits = self._open_credits(created)
        # what the documents could not take stays open on the customer's account
        open_credit = sum(open_credits.get(payment.id, 0.0) for payment in created)
        return {
            "payments": created.mapped("name"),
            "applied": applied,
            "unapplied": created.currency_id[:1].round(-open_credit) if open_credit else 0.0,
        }

    @api.model
    def _open_credits(self, payments):
        """{payment id: what its receivable items keep open (in the payment's currency)}, in one
        query for a whole batch."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """SELECT p.id, SUM(l.amount_residual_currency)
                     FROM account_payment p
                     JOIN account_move_line l ON l.move_id = p.move_id
                     JOIN account_account a ON a.id = l.account_id
                    WHERE p.id = ANY(%s) AND a.account_type = 'asset_receivable' AND NOT l.reconciled
                    GROUP BY p.id""",
                payments.ids,
            )
        )
        return {payment_id: float(amount) for payment_id, amount in rows}

    @api.model
    def _apply_payments_batch(self, company, nodes, payments=None):
        """New customer payments of 1C created with one ``create``, posted together, then each
        reconciled; raises when any of them cannot go that way (the caller then applies them one
        by one): [(first payment, response)]."""
        payments = payments or [ed.read_payment(node) for node in nodes]
        refs = [values["ref"] for values in payments]
        if not all(refs) or len(set(refs)) != len(refs) or any(v["kind"] != "СПокупателем" for v in payments):
            raise _BatchRefused("payments without a reference, twice the same or not from customers")
        Payment = self.env["account.payment"].sudo().with_company(company)
        if Payment.search_count([("crm_onec_ref", "in", refs), ("company_id", "=", company.id)], limit=1):
            raise _BatchRefused("payments already applied")
        # the payers, found together, and the documents they settle, read at once (by 1C's
        # reference), with their journal items
        payers = [values["partner"] or {} for values in payments]
        cache = {
            ("partner", payer.get("ref"), payer.get("inn"), payer.get("kpp")): partner
            for payer, partner in zip(payers, self._find_partners(payers, company), strict=True)
        }
        documents = {
            row["document"]["ref"]
            for values in payments
            for row in values["rows"]
            if (row["document"] or {}).get("ref")
        }
        if documents:
            moves = (
                self.env["account.move"]
                .sudo()
                .search(
                    [
                        ("crm_onec_ref", "in", sorted(documents)),
                        ("company_id", "=", company.id),
                        ("state", "=", "posted"),
                        ("move_type", "in", ("out_invoice", "out_refund")),
                    ]
                )
            )
            # of their journal items, only what _prepare_payment and the writer read
            moves.line_ids.fetch(["parent_state", "reconciled", "account_id", "currency_id"])
            cache.update({("document", move.crm_onec_ref): move for move in moves})
        vals_list, groups = [], []
        for values in payments:
            try:
                vals, targets = self._prepare_payment(company, values, cache)
            except UserError as error:
                raise _BatchRefused(str(error)) from error
            groups.append((len(vals_list), len(vals), targets))
            vals_list += vals
        # a set-based writer of the same rows when it reproduces them exactly (the ORM otherwise,
        # or when the context key crm_onec_orm_payments asks for it)
        written = None
        if not self.env.context.get("crm_onec_orm_payments"):
            written = (
                self.env["crm.onec.payment.writer"]
                .sudo()
                .with_company(company)
                ._write_payments(
                    company, cache["journal"], vals_list, [target for *_range, targets in groups for target in targets]
                )
            )
        if written:
            created, pairs = written
            self._subscribe_deferred(pairs)
        else:
            deferred = _Deferred()
            created = Payment.with_context(crm_onec_deferred_followers=deferred).create(vals_list)
            created.with_context(crm_onec_deferred_followers=deferred).action_post()
            self._subscribe_deferred(deferred)
            # all reconciled in one plan (one creation of partials, one recomputation), then answered
            plan = []
            for start, count, targets in groups:
                plan += self._reconciliation_plan(created[start : start + count], targets)
            if plan:
                self.env["account.move.line"]._reconcile_plan(plan)
        credits = self._open_credits(created)
        # what the answers name, read together (the writers emptied the cache)
        self.env["account.move"].union(
            *(move for _start, _count, targets in groups for move, _lines in targets if move)
        ).mapped("name")
        created.mapped("amount")
        return [
            (
                created[start : start + count][:1],
                self._payment_response(created[start : start + count], targets, credits),
            )
            for start, count, targets in groups
        ]

    # ------------------------------------------------------------------ cron
    @api.model
    def _cron_pull(self, date_ref=None):
        if not self._param("onec_wsdl_url"):
            return None
        log = self.with_context(crm_onec_commit_steps=True)._pull()
        if log.state == "done":
            self.env["ir.config_parameter"].sudo().set_param(
                PARAM % "onec_last_pull", fields.Datetime.to_string(date_ref or fields.Datetime.now())
            )
        return log

    @api.model
    def _is_onec_error(self, error):
        return isinstance(error, OneCError)

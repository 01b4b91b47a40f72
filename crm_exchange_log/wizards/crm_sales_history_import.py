import base64
from datetime import datetime, time

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare

from odoo.addons.crm_single_truth.tools.legal_id import (
    is_valid_inn,
    is_valid_kz_bin,
    is_valid_kz_iin,
)

from ..models.crm_onec_connector import INTEGRATOR_GROUPS
from ..services import sales_history as sh

REQUIRED_FIELDS = ("number", "date", "amount")


class CrmSalesHistoryImport(models.TransientModel):
    """Sales history from elsewhere: a spreadsheet of documents (customer, INN/BIN, number, date,
    amount, currency, paid amount and date) checked row by row, then mirrored as posted customer
    invoices in the history journal of 1C with their payments reconciled, once per document
    (importing the same file again changes nothing)."""

    _name = "crm.sales.history.import"
    _description = "Import Sales History"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    data = fields.Binary(string="File", required=True, attachment=False)
    filename = fields.Char()
    column_ids = fields.One2many("crm.sales.history.import.column", "wizard_id", string="Columns")
    state = fields.Selection(
        [("upload", "Upload"), ("map", "Columns"), ("done", "Done")], default="upload", required=True
    )
    row_count = fields.Integer(string="Rows", readonly=True)
    error_count = fields.Integer(string="Bad Rows", readonly=True)
    report = fields.Text(readonly=True)

    # ------------------------------------------------------------------ access
    def _check_importer(self):
        """Only integrators and administrators import history, whatever the caller."""
        if self.env.su:
            return
        if not any(self.env.user.has_group(group) for group in INTEGRATOR_GROUPS):
            raise AccessError(_("Only integrators can import sales history."))
        if self.company_id - self.env.user.company_ids:
            raise AccessError(_("You can import sales history only into your companies."))

    # ------------------------------------------------------------------ reading
    def _read_sheet(self):
        self.ensure_one()
        try:
            return sh.read_sheet(base64.b64decode(self.data or b""), self.filename)
        except sh.SheetError as error:
            raise UserError(_("The file cannot be read: %(error)s", error=error)) from error

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": _("Import Sales History"),
        }

    def action_read_columns(self):
        """Read the header row and guess what each column holds (editable before the dry run)."""
        self._check_importer()
        self.ensure_one()
        headers, rows = self._read_sheet()
        mapping = sh.guess_mapping(headers)
        self.column_ids.unlink()
        self.write(
            {
                "column_ids": [
                    fields.Command.create({"column_index": index, "header": header, "field": mapping.get(index)})
                    for index, header in enumerate(headers)
                ],
                "row_count": len(rows),
                "state": "map",
                "report": False,
            }
        )
        return self._reopen()

    # ------------------------------------------------------------------ checking
    @api.model
    def _legal_id_field(self, value):
        """The partner field an INN/BIN/IIN belongs to, or False when its checksum is wrong."""
        if value.isascii() and value.isdigit() and len(value) == 10:
            return "crm_inn" if is_valid_inn(value) else False
        if value.isascii() and value.isdigit() and len(value) == 12:
            if is_valid_kz_bin(value):
                return "crm_bin"
            if is_valid_kz_iin(value, fields.Date.context_today(self)):
                return "crm_iin"
            return "crm_inn" if is_valid_inn(value) else False
        return False

    def _find_customer(self, name, legal_id):
        """The customer of a row: by INN/BIN, else by name (commercial partners of the company)."""
        connector = self.env["crm.onec.connector"]
        if legal_id:
            return connector._find_partner({"inn": legal_id}, self.company_id)
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        return Partner.search(
            [("name", "=", name), ("parent_id", "=", False), ("company_id", "in", (self.company_id.id, False))],
            order="id",
            limit=1,
        )

    def _check_mapping(self):
        """{column index: field} of the columns, or a UserError saying what is missing."""
        mapping = {column.column_index: column.field for column in self.column_ids if column.field}
        held = set(mapping.values())
        labels = dict(self.env["crm.sales.history.import.column"]._fields["field"]._description_selection(self.env))
        missing = [labels[field] for field in REQUIRED_FIELDS if field not in held]
        if not held & {"name", "legal_id"}:
            missing.append(_("Customer Name or INN/BIN"))
        if missing:
            raise UserError(_("Say which column holds: %(fields)s", fields=", ".join(missing)))
        if len(held) != len(mapping):
            raise UserError(_("Two columns hold the same value: each value belongs to one column."))
        return mapping

    def _check_customer(self, values, reasons):
        name = sh._cell_text(values["name"])
        legal_id = sh.legal_id_text(values["legal_id"])
        legal_field = self._legal_id_field(legal_id) if legal_id else False
        if legal_id and not legal_field:
            reasons.append(_("bad INN/BIN checksum: %(value)s", value=legal_id))
        partner = self._find_customer(name, legal_id if legal_field else False) if legal_field or name else None
        if not partner and not name:
            reasons.append(_("unknown customer: no INN/BIN match and no name"))
        return {"name": name, "legal_id": legal_id, "legal_field": legal_field, "partner": partner}

    def _check_date(self, value, reasons, message):
        try:
            return sh.parse_date(value)
        except ValueError:
            reasons.append(message % {"value": sh._cell_text(value) or "-"})
            return None

    def _check_currency(self, values, reasons, currencies):
        code = sh._cell_text(values["currency"]).upper()
        if not code:
            return self.company_id.currency_id
        if code not in currencies:
            currencies[code] = self.env["res.currency"].sudo().search([("name", "=", code)], limit=1)
        if not currencies[code]:
            reasons.append(_("unknown currency: %(value)s", value=code))
        return currencies[code]

    def _check_amounts(self, values, reasons):
        """(amount, paid amount or None) of a row."""
        try:
            amount = sh.parse_amount(values["amount"])
        except ValueError:
            amount = None
            reasons.append(_("bad amount: %(value)s", value=sh._cell_text(values["amount"]) or "-"))
        else:
            if amount < 0:
                reasons.append(_("negative amount: %(value)s", value=amount))
        if not sh._cell_text(values["paid_amount"]):
            return amount, None
        try:
            paid = sh.parse_amount(values["paid_amount"])
        except ValueError:
            reasons.append(_("bad paid amount: %(value)s", value=sh._cell_text(values["paid_amount"])))
            return amount, None
        if paid < 0:
            reasons.append(_("negative paid amount: %(value)s", value=paid))
        elif amount is not None and amount >= 0 and paid > amount:
            reasons.append(_("paid amount %(paid)s exceeds the amount %(amount)s", paid=paid, amount=amount))
        return amount, paid

    def _check_row(self, values, currencies):
        """(row dict, [reasons]) of one row of the file."""
        reasons = []
        row = self._check_customer(values, reasons)
        row["number"] = sh._cell_text(values["number"])
        if not row["number"]:
            reasons.append(_("no document number"))
        row["date"] = self._check_date(values["date"], reasons, _("bad date: %(value)s"))
        row["amount"], paid = self._check_amounts(values, reasons)
        row["currency"] = self._check_currency(values, reasons, currencies)
        row["paid"], row["paid_date"] = paid or 0, row["date"]
        if paid and sh._cell_text(values["paid_date"]):
            row["paid_date"] = self._check_date(values["paid_date"], reasons, _("bad paid date: %(value)s"))
        row["key"] = f"import:{row['legal_id'] or row['name']}:{row['number']}"
        return row, reasons

    def _check_rows(self):
        """([good row dicts], [(line, reason)]) of the file after the column mapping."""
        self.ensure_one()
        mapping = self._check_mapping()
        _headers, rows = self._read_sheet()
        currencies, seen, good, errors = {}, {}, [], []
        for line, cells in rows:
            row, reasons = self._check_row(sh.row_values(cells, mapping), currencies)
            if not reasons and row["key"] in seen:
                reasons.append(
                    _(
                        "the document %(number)s is already on line %(line)s",
                        number=row["number"],
                        line=seen[row["key"]],
                    )
                )
            if reasons:
                errors.append((line, "; ".join(reasons)))
                continue
            seen[row["key"]] = line
            good.append(dict(row, line=line))
        return good, errors

    def _error_report(self, errors):
        return "\n".join(_("Line %(line)s: %(reason)s", line=line, reason=reason) for line, reason in errors)

    def action_dry_run(self):
        """Check every row without writing anything: the bad rows with their reasons."""
        self._check_importer()
        self.ensure_one()
        good, errors = self._check_rows()
        summary = _(
            "Dry run: %(good)s row(s) can be imported, %(bad)s row(s) are bad.",
            good=len(good),
            bad=len(errors),
        )
        self.write(
            {
                "row_count": len(good) + len(errors),
                "error_count": len(errors),
                "report": "\n".join(filter(None, [summary, self._error_report(errors)])),
            }
        )
        return self._reopen()

    # ------------------------------------------------------------------ importing
    def _customer(self, row, created):
        """The row's customer, created when unknown (once per INN/BIN or name in a file)."""
        if row["partner"]:
            return row["partner"].commercial_partner_id
        cache_key = row["legal_id"] or row["name"]
        if cache_key not in created:
            vals = {"name": row["name"], "is_company": row["legal_field"] != "crm_iin", "customer_rank": 1}
            if row["legal_field"]:
                vals[row["legal_field"]] = row["legal_id"]
            created[cache_key] = self.env["res.partner"].sudo().create(vals)
        return created[cache_key]

    def _import_rows(self, rows):
        """Mirror the rows as posted customer invoices of the history journal (those already
        mirrored are left as they are) and their paid amounts as payments reconciled with them:
        {"created": n, "unchanged": n, "payments": n}."""
        self.ensure_one()
        company = self.company_id
        quiet = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}
        connector = self.env["crm.onec.connector"].with_context(**quiet)
        Move = self.env["account.move"].sudo().with_company(company).with_context(**quiet)
        Payment = self.env["account.payment"].sudo().with_company(company).with_context(**quiet)
        existing = set(
            Move.search([("crm_onec_ref", "in", [row["key"] for row in rows]), ("company_id", "=", company.id)]).mapped(
                "crm_onec_ref"
            )
        )
        journal = connector._onec_journal(company)
        created_partners, vals_list = {}, []
        for row in rows:
            if row["key"] in existing:
                continue
            partner = self._customer(row, created_partners)
            values = {
                "kind": "sale",
                "date": datetime.combine(row["date"], time()),
                "number": row["number"],
                "price_include": True,
                "lines": [
                    {
                        "name": _("Sales history %(number)s", number=row["number"]),
                        "quantity": 1,
                        "amount": row["amount"],
                        "amount_tax": 0,
                    }
                ],
            }
            vals_list.append(
                {
                    **connector._sale_vals(values, row["currency"], partner),
                    "journal_id": journal.id,
                    "company_id": company.id,
                    "crm_onec_ref": row["key"],
                }
            )
        moves = Move.create(vals_list)
        moves.action_post()
        # paid amounts: payments reconciled with their invoices, once per document
        paid_rows = [
            row for row in rows if float_compare(float(row["paid"]), 0, precision_rounding=row["currency"].rounding) > 0
        ]
        paid_refs = set(
            Payment.search(
                [("crm_onec_ref", "in", [row["key"] + "/paid" for row in paid_rows]), ("company_id", "=", company.id)]
            ).mapped("crm_onec_ref")
        )
        payment_vals, groups = [], []
        for row in paid_rows:
            ref = row["key"] + "/paid"
            if ref in paid_refs:
                continue
            values = {
                "kind": "СПокупателем",
                "ref": ref,
                "number": row["number"],
                "date": datetime.combine(row["paid_date"], time()),
                "amount": row["paid"],
                "currency": {"code": None, "name": row["currency"].name},
                "partner": {"inn": row["legal_id"] or None},
                "rows": [{"amount": row["paid"], "document": {"ref": row["key"]}}],
            }
            vals, targets = connector._prepare_payment(company, values)
            groups.append((len(payment_vals), len(vals), targets))
            payment_vals += vals
        payments = Payment.create(payment_vals)
        payments.action_post()
        plan = []
        for start, count, targets in groups:
            plan += connector._reconciliation_plan(payments[start : start + count], targets)
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)
        return {"created": len(moves), "unchanged": len(rows) - len(moves), "payments": len(groups)}

    def action_import(self):
        """Import the good rows (the bad ones are listed and skipped); importing the same file
        again changes nothing."""
        self._check_importer()
        self.ensure_one()
        good, errors = self._check_rows()
        result = self._import_rows(good) if good else {"created": 0, "unchanged": 0, "payments": 0}
        summary = _(
            "%(created)s document(s) imported, %(unchanged)s already imported, %(payments)s payment(s) "
            "recorded, %(bad)s bad row(s) skipped.",
            bad=len(errors),
            **result,
        )
        self.write(
            {
                "state": "done",
                "row_count": len(good) + len(errors),
                "error_count": len(errors),
                "report": "\n".join(filter(None, [summary, self._error_report(errors)])),
            }
        )
        return self._reopen()

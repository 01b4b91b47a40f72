from odoo import Command, _, api, models
from odoo.tools import SQL
from odoo.tools.mail import email_normalize


class CrmExchangeWebsite(models.AbstractModel):
    """A website order becomes a customer, a deal and a quotation, each step journaled under the
    order's correlation id, which the documents carry on (quotation > invoice > push to 1C);
    replaying the same external order id changes nothing."""

    _name = "crm.exchange.website"
    _description = "Website Orders"

    @api.model
    def _receive_order(self, system, data):
        """Process a validated order once, whatever the number of workers delivering it.

        The lock on the order id is taken in the caller's transaction and held until it ends; the
        order is processed in a transaction of its own, started after the lock, so that its
        snapshot sees what an earlier delivery of the same order committed. (A lock taken inside
        the transaction that reads would come after its snapshot: both deliveries would create.)"""
        order_ref = data["order_id"].strip()
        company = system.company_id or self.env.company
        self.env.cr.execute(
            SQL(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                f"crm_website_order:{company.id}:{order_ref}",
            )
        )
        with self.env.registry.cursor() as cr:
            env = self.env(cr=cr)
            return env[self._name]._process_order(system.with_env(env), data)

    @api.model
    def _process_order(self, system, data):
        Log = self.env["crm.exchange.log"].sudo()
        order_ref = data["order_id"].strip()
        company = system.company_id or self.env.company
        existing = (
            self.env["sale.order"]
            .sudo()
            .search([("crm_external_ref", "=", order_ref), ("company_id", "=", company.id)], limit=1)
        )
        if existing:
            return self._replay(system, data, existing)
        with Log._track(
            system, "in", "website_order", request=data, idempotency_key=f"website:{order_ref}", reraise=False
        ) as exchange:
            with self.env.cr.savepoint():
                flow = exchange.vals["correlation_id"]
                partner, created = self._find_or_create_customer(data["customer"], company, flow)
                products = self._find_products(data["lines"], company)
                missing = [line["sku"] for line in data["lines"] if line["sku"] not in products]
                if missing:
                    raise ValueError(_("Unknown products: %(skus)s", skus=", ".join(missing)))
                lead = (
                    self.env["crm.lead"].sudo().create(self._prepare_lead_vals(data, order_ref, partner, company, flow))
                )
                order = (
                    self.env["sale.order"]
                    .sudo()
                    .create(self._prepare_order_vals(data, order_ref, partner, lead, company, products))
                )
                exchange.set_record(order)
                exchange.response = {"partner_id": partner.id, "lead_id": lead.id, "sale_order": order.name}
        if exchange.state == "failed":
            return {"errors": [exchange.error], "correlation_id": exchange.vals["correlation_id"]}
        parent = exchange.log
        Log._journal(
            system,
            "in",
            "create_customer" if created else "find_customer",
            record=partner,
            parent=parent,
            response={"partner_id": partner.id, "name": partner.name},
        )
        Log._journal(system, "in", "create_deal", record=lead, parent=parent, response={"lead_id": lead.id})
        Log._journal(
            system,
            "in",
            "create_quotation",
            record=order,
            parent=parent,
            response={"sale_order": order.name, "amount_total": order.amount_total},
        )
        return {
            "status": "ok",
            "sale_order": order.name,
            "sale_order_id": order.id,
            "lead_id": lead.id,
            "partner_id": partner.id,
            "correlation_id": parent.correlation_id,
        }

    @api.model
    def _replay(self, system, data, order):
        """The same order again: journaled under the first delivery, nothing created."""
        Log = self.env["crm.exchange.log"].sudo()
        order_ref = data["order_id"].strip()
        first = Log.search(
            [
                ("system_id", "=", system.id),
                ("idempotency_key", "=", f"website:{order_ref}"),
                ("parent_id", "=", False),
            ],
            limit=1,
        )
        Log._journal(
            system,
            "in",
            "website_order",
            state="done",
            request=data,
            record=order,
            parent=first,
            correlation_id=first.correlation_id or order.crm_correlation_id or None,
            response={"result": "duplicate", "sale_order": order.name},
            idempotency_key=f"website:{order_ref}:replay",
        )
        return {
            "status": "duplicate",
            "sale_order": order.name,
            "sale_order_id": order.id,
            "lead_id": order.opportunity_id.id,
            "correlation_id": first.correlation_id or order.crm_correlation_id or False,
        }

    @api.model
    def _prepare_lead_vals(self, data, order_ref, partner, company, flow):
        return {
            "name": _("Website order %(ref)s", ref=order_ref),
            "type": "opportunity",
            "partner_id": partner.id,
            "company_id": company.id,
            "expected_revenue": sum(line["quantity"] * line["price"] for line in data["lines"]),
            "description": data.get("note") or False,
            "crm_correlation_id": flow,
        }

    @api.model
    def _prepare_order_vals(self, data, order_ref, partner, lead, company, products):
        # the flow comes from the deal (sale.order.create)
        return {
            "partner_id": partner.id,
            "company_id": company.id,
            "opportunity_id": lead.id,
            "crm_external_ref": order_ref,
            "origin": order_ref,
            "order_line": [
                Command.create(
                    {
                        "product_id": products[line["sku"]].id,
                        "name": line.get("name") or products[line["sku"]].display_name,
                        "product_uom_qty": line["quantity"],
                        "price_unit": line["price"],
                    }
                )
                for line in data["lines"]
            ],
        }

    @api.model
    def _find_or_create_customer(self, customer, company, flow):
        """The customer by BIN, INN, e-mail (normalized, exact) or phone; created when unknown."""
        Partner = self.env["res.partner"].sudo()
        email = email_normalize(customer.get("email") or "")
        domain = []
        if customer.get("bin"):
            domain = [("crm_bin", "=", customer["bin"])]
        elif customer.get("inn"):
            domain = [("crm_inn", "=", customer["inn"])]
        elif email:
            domain = [("email_normalized", "=", email)]
        elif customer.get("phone"):
            domain = [("phone", "=", customer["phone"].strip())]
        partner = Partner.search(domain + [("company_id", "in", [company.id, False])], limit=1) if domain else Partner
        if partner:
            return partner.commercial_partner_id, False
        values = {
            "name": customer["name"],
            "email": customer.get("email"),
            "phone": customer.get("phone"),
            "city": customer.get("city"),
            "is_company": bool(customer.get("is_company") or customer.get("bin")),
            "crm_correlation_id": flow,
        }
        if customer.get("bin"):
            values["crm_bin"] = customer["bin"]
        if customer.get("inn"):
            values["crm_inn"] = customer["inn"]
        return Partner.create(values), True

    @api.model
    def _find_products(self, lines, company):
        products = (
            self.env["product.product"]
            .sudo()
            .search(
                [
                    ("default_code", "in", [line["sku"] for line in lines]),
                    ("sale_ok", "=", True),
                    ("company_id", "in", [company.id, False]),
                ]
            )
        )
        return {product.default_code: product for product in products}

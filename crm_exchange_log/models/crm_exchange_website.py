from odoo import Command, _, api, models
from odoo.tools import SQL


class CrmExchangeWebsite(models.AbstractModel):
    """A website order becomes a customer, a deal and a quotation, each step journaled under the
    order's correlation id; replaying the same external order id changes nothing."""

    _name = "crm.exchange.website"
    _description = "Website Orders"

    @api.model
    def _process_order(self, system, data):
        Log = self.env["crm.exchange.log"].sudo()
        order_ref = data["order_id"].strip()
        company = system.company_id or self.env.company
        # one delivery of an order id at a time, whatever the worker
        self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(hashtext(%s))", f"crm_website_order:{order_ref}"))
        existing = (
            self.env["sale.order"]
            .sudo()
            .search([("crm_external_ref", "=", order_ref), ("company_id", "=", company.id)], limit=1)
        )
        if existing:
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
                record=existing,
                parent=first,
                response={"result": "duplicate", "sale_order": existing.name},
                idempotency_key=f"website:{order_ref}:replay",
            )
            return {
                "status": "duplicate",
                "sale_order": existing.name,
                "sale_order_id": existing.id,
                "lead_id": existing.opportunity_id.id,
                "correlation_id": first.correlation_id or False,
            }
        with Log._track(
            system, "in", "website_order", request=data, idempotency_key=f"website:{order_ref}", reraise=False
        ) as exchange:
            with self.env.cr.savepoint():
                partner, created = self._find_or_create_customer(data["customer"], company)
                products = self._find_products(data["lines"], company)
                missing = [line["sku"] for line in data["lines"] if line["sku"] not in products]
                if missing:
                    raise ValueError(_("Unknown products: %(skus)s", skus=", ".join(missing)))
                lead = (
                    self.env["crm.lead"]
                    .sudo()
                    .create(
                        {
                            "name": _("Website order %(ref)s", ref=order_ref),
                            "type": "opportunity",
                            "partner_id": partner.id,
                            "company_id": company.id,
                            "expected_revenue": sum(line["quantity"] * line["price"] for line in data["lines"]),
                            "description": data.get("note") or False,
                        }
                    )
                )
                order = (
                    self.env["sale.order"]
                    .sudo()
                    .create(
                        {
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
                    )
                )
                exchange.set_record(order)
                exchange.response = {"partner_id": partner.id, "lead_id": lead.id, "sale_order": order.name}
        if exchange.state == "failed":
            return {"errors": [exchange.error], "correlation_id": exchange.vals["correlation_id"]}
        correlation = exchange.log.correlation_id
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
            "correlation_id": correlation,
        }

    @api.model
    def _find_or_create_customer(self, customer, company):
        Partner = self.env["res.partner"].sudo()
        domain = []
        if customer.get("bin"):
            domain = [("crm_bin", "=", customer["bin"])]
        elif customer.get("inn"):
            domain = [("crm_inn", "=", customer["inn"])]
        elif customer.get("email"):
            domain = [("email", "=ilike", customer["email"].strip())]
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

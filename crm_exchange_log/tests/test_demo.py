from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestDemo(TransactionCase):
    def test_mashstroy_exchanges(self):
        partner = self.env.ref("crm_single_truth.partner_mashstroy_demo", raise_if_not_found=False)
        if not partner:
            self.skipTest("installed without demo data")
        system = self.env.ref("crm_exchange_log.exchange_system_onec")
        logs = self.env["crm.exchange.log"].search([("system_id", "=", system.id), ("partner_id", "=", partner.id)])
        self.assertEqual(len(logs), 4)
        failed = logs.filtered(lambda log: log.state == "failed")
        self.assertEqual(len(failed), 1)
        self.assertEqual((failed.res_model, failed.attempt_count), ("account.move", 5))
        self.assertIn("Договор", failed.error_message)
        # journaled by the connector's helpers: each push in the flow of its own document
        self.assertEqual(len(set(logs.mapped("correlation_id"))), 4, "no hand-made shared flow")
        self.assertIn("Документ.РеализацияТоваровУслуг", failed.request_payload, "the message the mapping writes")
        self.assertEqual(partner.crm_exchange_count, 1)
        events = self.env["crm.timeline.event"].search([("partner_id", "=", partner.id), ("kind", "=", "exchange")])
        self.assertEqual(len(events), 4)

    def test_website_order_to_1c_one_flow(self):
        """The demo's website order went the real way: the customer, the deal, the quotation, the
        invoice and its push to 1C share the correlation id the documents carry."""
        order = self.env["sale.order"].search([("crm_external_ref", "=", "SHOP-2025-0417")])
        if not order:
            self.skipTest("installed without demo data")
        flow = order.crm_correlation_id
        self.assertTrue(flow)
        invoice = order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(
            (order.partner_id.crm_correlation_id, order.opportunity_id.crm_correlation_id, invoice.crm_correlation_id),
            (flow, flow, flow),
        )
        trace = self.env["crm.exchange.log"].search([("correlation_id", "=", flow)], order="id")
        self.assertEqual(
            trace.mapped("operation"),
            ["website_order", "create_customer", "create_deal", "create_quotation", "push_invoice"],
        )
        push = trace[-1]
        self.assertEqual(
            (push.system_id, push.res_model, push.res_id, push.state),
            (self.env.ref("crm_exchange_log.exchange_system_onec"), "account.move", invoice.id, "done"),
        )
        self.assertIn(invoice.name, push.request_payload)
        self.assertEqual(push.partner_id, order.partner_id)

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
        self.assertEqual(len(set(logs.mapped("correlation_id"))), 1, "one flow")
        self.assertEqual(partner.crm_exchange_count, 1)
        events = self.env["crm.timeline.event"].search([("partner_id", "=", partner.id), ("kind", "=", "exchange")])
        self.assertEqual(len(events), 4)

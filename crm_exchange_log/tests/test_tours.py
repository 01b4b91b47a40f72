from odoo.tests import new_test_user, tagged

from odoo.addons.crm_single_truth.tests.tour_common import CrmTourCase


@tagged("post_install", "-at_install")
class TestExchangeTours(CrmTourCase):
    def test_integrator_finds_and_retries_a_failed_exchange(self):
        company = self.env.ref("crm_single_truth.company_dala_demo")
        integrator = new_test_user(
            self.env,
            login="tour_integrator",
            company_id=company.id,
            company_ids=[company.id],
            groups="base.group_user,crm_single_truth.group_crm_manager,crm_exchange_log.group_exchange_integrator",
        )
        failed = self.env["crm.exchange.log"].search([("state", "=", "failed"), ("company_id", "=", company.id)])
        self.assertEqual(len(failed), 1)
        key = failed.idempotency_key
        self.start_tour_with_screenshot(
            "/odoo/action-crm_exchange_log.crm_exchange_log_action_failed",
            "crm_exchange_retry_tour",
            "exchange_retry",
            login=integrator.login,
        )
        failed.invalidate_recordset()
        self.assertEqual(failed.state, "pending")
        self.assertEqual(failed.idempotency_key, key)
        self.assertTrue(failed.job_uuid)

from odoo.tests import tagged

from odoo.addons.crm_single_truth.tests.tour_common import CrmTourCase


@tagged("post_install", "-at_install")
class TestSegmentTours(CrmTourCase):
    def test_admin_builds_a_segment_and_sees_the_live_count(self):
        self.start_tour_with_screenshot(
            "/odoo/action-crm_segments.crm_segment_action", "crm_segment_editor_tour", "segment_editor"
        )
        segment = self.env["crm.segment"].search([("name", "=", "Крупные покупатели")])
        current = segment.membership_ids.filtered(lambda membership: not membership.date_end)
        self.assertEqual(current.partner_id, self.env.ref("crm_single_truth.partner_mashstroy_demo"))

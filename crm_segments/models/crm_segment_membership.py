from odoo import fields, models
from odoo.tools import SQL


class CrmSegmentMembership(models.Model):
    """When a customer entered a segment and, once it left, when it left (empty = current)."""

    _name = "crm.segment.membership"
    _description = "Customer Segment Membership"
    _order = "date_start desc, id desc"
    _rec_name = "partner_id"

    segment_id = fields.Many2one("crm.segment", required=True, index=True, ondelete="cascade", readonly=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, ondelete="cascade", readonly=True
    )
    user_id = fields.Many2one(related="partner_id.user_id", string="Salesperson")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, help="Company whose figures the customer matched in."
    )
    date_start = fields.Date(string="Entered", required=True, readonly=True)
    date_end = fields.Date(string="Left", readonly=True)
    is_current = fields.Boolean(string="Current", compute="_compute_is_current", search="_search_is_current")

    def init(self):
        # one open membership per customer, segment and company: a transition is recorded once
        self.env.cr.execute(SQL("DROP INDEX IF EXISTS crm_segment_membership_open_uniq"))
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS crm_segment_membership_open_company_uniq"
                " ON crm_segment_membership (segment_id, partner_id, company_id) WHERE date_end IS NULL"
            )
        )

    def _compute_is_current(self):
        for membership in self:
            membership.is_current = not membership.date_end

    def _search_is_current(self, operator, value):
        current = (operator == "=") == bool(value)
        return [("date_end", "=" if current else "!=", False)]

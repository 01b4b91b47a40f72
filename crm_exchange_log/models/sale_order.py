from odoo import api, fields, models


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "crm.exchange.consumer.mixin"]

    crm_external_ref = fields.Char(string="External Order", copy=False, readonly=True, index="btree_not_null")

    _sql_constraints = [
        (
            "crm_external_ref_company_uniq",
            "unique(crm_external_ref, company_id)",
            "An order of an outside system is recorded once per company.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        # a quotation made from a deal carries on the deal's flow
        lead_ids = {vals["opportunity_id"] for vals in vals_list if vals.get("opportunity_id")}
        flows = {lead.id: lead.crm_correlation_id for lead in self.env["crm.lead"].sudo().browse(lead_ids)}
        for vals in vals_list:
            if not vals.get("crm_correlation_id") and flows.get(vals.get("opportunity_id")):
                vals["crm_correlation_id"] = flows[vals["opportunity_id"]]
        return super().create(vals_list)

    def _prepare_invoice(self):
        vals = super()._prepare_invoice()
        if self.crm_correlation_id:
            vals["crm_correlation_id"] = self.crm_correlation_id
        return vals

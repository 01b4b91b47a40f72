from markupsafe import Markup

from odoo import _, api, fields, models


class CrmAnomalyMixin(models.AbstractModel):
    """Flags a purchase far above the customer's average check: a warning on the document and
    an activity for the salesperson. Never blocks the document."""

    _name = "crm.anomaly.mixin"
    _description = "Unusual Purchase Detection"

    crm_anomaly_message = fields.Text(string="Purchase Anomaly", copy=False, readonly=True)

    @api.model
    def _crm_anomaly_factor(self):
        icp = self.env["ir.config_parameter"].sudo()
        return float(icp.get_param("crm_single_truth.anomaly_factor", 5.0))

    def _crm_anomaly_check(self, partner, amount, company, salesperson, stored=None):
        """Return the warning for ``amount`` (company currency) against the customer's history
        before this document, or False. Needs at least 3 past purchases. ``stored``: the
        customer's (LTV, purchase count) before this document, when already read."""
        history = partner.commercial_partner_id.sudo()
        factor = self._crm_anomaly_factor()
        # the stored aggregate, as it is: no rebuild of the customer's history before a posting
        ltv, count = stored or self.env["crm.partner.kpi"].sudo()._crm_stored_kpis(history, company)
        if count < 3 or factor <= 0:
            return False
        avg_check = company.currency_id.round(ltv / count)
        threshold = avg_check * factor
        if company.currency_id.compare_amounts(amount, threshold) <= 0:
            return False
        return _(
            "%(amount)s is %(ratio).1f times the average check of %(partner)s (%(avg)s over %(count)s purchases).",
            amount=company.currency_id.format(amount),
            ratio=amount / avg_check if avg_check else 0.0,
            partner=history.display_name,
            avg=company.currency_id.format(avg_check),
            count=count,
        )

    def _crm_anomaly_flag(self, message, salesperson):
        self.ensure_one()
        activity_type = self.env.ref("crm_single_truth.mail_activity_type_anomaly", raise_if_not_found=False)
        self.crm_anomaly_message = message
        if not activity_type:
            return
        self.activity_unlink(["crm_single_truth.mail_activity_type_anomaly"])
        self.activity_schedule(
            "crm_single_truth.mail_activity_type_anomaly",
            summary=_("Unusually large purchase"),
            note=Markup("<p>%s</p>") % message,
            user_id=salesperson.id or self.env.uid,
        )

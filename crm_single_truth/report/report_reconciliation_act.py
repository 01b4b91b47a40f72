from odoo import _, api, fields, models
from odoo.exceptions import UserError


class ReportReconciliationAct(models.AbstractModel):
    _name = "report.crm_single_truth.report_reconciliation_act"
    _description = "Reconciliation Act Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        partners = self.env["res.partner"].browse(data.get("partner_id") or docids).exists()
        if not partners:
            raise UserError(_("Choose the customer of the reconciliation act."))
        company = self.env["res.company"].browse(data.get("company_id") or self.env.company.id)
        today = fields.Date.context_today(self)
        date_from = fields.Date.to_date(data.get("date_from")) or today.replace(month=1, day=1)
        date_to = fields.Date.to_date(data.get("date_to")) or today
        Wizard = self.env["crm.reconciliation.act.wizard"]
        lang = data.get("lang") or self.env.context.get("lang") or "ru_RU"
        if not self.env["res.lang"]._lang_get(lang):
            raise UserError(_("Activate the language %(lang)s in Settings to print the act in it.", lang=lang))
        acts = [Wizard._crm_act_data(partner, company, date_from, date_to) for partner in partners]
        return {
            "doc_ids": partners.ids,
            "doc_model": "res.partner",
            "docs": partners,
            "acts": acts,
            "act_lang": lang,
        }

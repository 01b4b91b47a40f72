"""The shipped installment reminder templates use the light notification layout (see the tool's docstring)."""

from odoo.addons.crm_receivables.tools.migration import lay_out_reminder_templates


def migrate(cr, version):
    lay_out_reminder_templates(
        cr,
        "crm_installments",
        ["mail_template_installment_before", "mail_template_installment_due", "mail_template_installment_firm"],
    )

"""The shipped reminder templates use the light notification layout (see the tool's docstring)."""

from odoo.addons.crm_receivables.tools.migration import lay_out_reminder_templates


def migrate(cr, version):
    lay_out_reminder_templates(
        cr,
        "crm_receivables",
        ["mail_template_dunning_friendly", "mail_template_dunning_overdue", "mail_template_dunning_firm"],
    )

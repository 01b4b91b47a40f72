"""The reminder templates shipped with the module are sent inside the light notification layout
(company logo and footer), as the dunning run now lays its emails out; templates whose layout an
administrator already chose keep it."""


def migrate(cr, version):
    cr.execute(
        """
        UPDATE mail_template t SET email_layout_xmlid = 'mail.mail_notification_light'
          FROM ir_model_data d
         WHERE d.model = 'mail.template' AND d.res_id = t.id AND d.module = %s AND d.name = ANY(%s)
           AND t.email_layout_xmlid IS NULL
        """,
        [
            "crm_receivables",
            ["mail_template_dunning_friendly", "mail_template_dunning_overdue", "mail_template_dunning_firm"],
        ],
    )

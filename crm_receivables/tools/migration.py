"""Steps shared by the migrations of the dunning addons."""

REMINDER_LAYOUT = "mail.mail_notification_light"


def lay_out_reminder_templates(cr, module, names):
    """The reminder templates ``names`` shipped by ``module`` are sent inside the light notification
    layout (company logo and footer), as the dunning run lays its emails out; templates whose layout
    an administrator already chose keep it."""
    cr.execute(
        """
        UPDATE mail_template t SET email_layout_xmlid = %s
          FROM ir_model_data d
         WHERE d.model = 'mail.template' AND d.res_id = t.id AND d.module = %s AND d.name = ANY(%s)
           AND t.email_layout_xmlid IS NULL
        """,
        [REMINDER_LAYOUT, module, list(names)],
    )

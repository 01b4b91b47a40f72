def migrate(cr, version):
    """Memberships now always name the company they were evaluated in. Those of segments without
    a company were evaluated in the company of the refresh cron's user: give them that company."""
    if not version:
        return
    cr.execute(
        """
        UPDATE crm_segment_membership m
           SET company_id = COALESCE(s.company_id, u.company_id)
          FROM crm_segment s, ir_cron c
          JOIN ir_model_data d ON d.model = 'ir.cron' AND d.res_id = c.id
                              AND d.module = 'crm_segments' AND d.name = 'ir_cron_refresh_segments'
          JOIN res_users u ON u.id = c.user_id
         WHERE m.company_id IS NULL AND s.id = m.segment_id
        """
    )
    # anything left (no cron): the first company
    cr.execute(
        "UPDATE crm_segment_membership SET company_id = (SELECT MIN(id) FROM res_company) WHERE company_id IS NULL"
    )

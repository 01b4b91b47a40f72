def migrate(cr, version):
    """The shipped "sleeping large" segment now means half a year (180 days), not 90: update its
    condition unless an administrator changed it. Current segments are read from the memberships
    now: the table that mirrored them goes."""
    if not version:
        return
    cr.execute(
        """
        UPDATE crm_segment_rule r
           SET value = '180'
          FROM ir_model_data d
         WHERE d.model = 'crm.segment' AND d.module = 'crm_segments' AND d.name = 'segment_sleeping_large'
           AND r.segment_id = d.res_id AND r.field_name = 'crm_days_since_last_order'
           AND r.operator = '>' AND r.value = '90'
        """
    )
    cr.execute("DROP TABLE IF EXISTS crm_segment_res_partner_rel")

def post_init_hook(env):
    """Build the KPI aggregate for the history that exists before the addon was installed."""
    env["crm.partner.kpi"]._crm_rebuild()

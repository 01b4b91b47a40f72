"""Demo data of crm_segments: the shipped segments evaluated on crm_single_truth's demo story, in the
demo company. Plain Python, imported only when demo data is loaded (``ir.module.module._crm_load_demo``)."""


def load(env):
    company = env.ref("crm_single_truth.company_dala_demo", raise_if_not_found=False)
    Segment = env["crm.segment"].with_company(company) if company else env["crm.segment"]
    for segment in Segment.search([]):
        segment._refresh_members()

from . import crm_segment_members_wizard

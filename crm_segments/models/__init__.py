from . import crm_segment
from . import crm_segment_rule
from . import crm_segment_membership
from . import res_partner
from . import res_config_settings

from . import res_partner
from . import res_config_settings
from . import crm_dunning_policy
from . import crm_dunning_level
from . import crm_dunning_event
from . import account_move
from . import crm_contract

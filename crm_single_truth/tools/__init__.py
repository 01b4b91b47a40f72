from . import legal_id
from . import phone
from . import inbound
from . import dates
from . import kpi
from . import search
from . import sql

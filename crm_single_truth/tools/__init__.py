from . import legal_id

from . import crm_timeline_event

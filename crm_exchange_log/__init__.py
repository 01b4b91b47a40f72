from . import controllers, models, report, services, wizards

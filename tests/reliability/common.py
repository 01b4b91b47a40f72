"""Base of the reliability tests: committed fixtures and real Odoo processes.

A server or a cron worker in another process sees only committed data, so these tests write their
fixtures through cursors of their own (``committed()``), give them unique names, and remove them
afterwards whatever the outcome (``addCleanup``); they never write through ``self.env``."""

import os
import uuid
from contextlib import closing, contextmanager

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase
from odoo.tools import config

from .processes import CronWorkers, PreforkServer, odoo_dsn


class ReliabilityCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dbname = cls.env.cr.dbname
        cls.token = uuid.uuid4().hex[:10]
        base = os.path.dirname(os.path.abspath(config.rcfile)) if config.rcfile else os.getcwd()
        cls.logdir = os.path.join(base, "logs", "reliability")

    @classmethod
    @contextmanager
    def committed(cls):
        """A superuser environment on a cursor of its own, committed when the block succeeds."""
        with closing(cls.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            yield env
            env.flush_all()
            cr.commit()

    @classmethod
    def dsn(cls):
        return odoo_dsn(cls.dbname)

    @classmethod
    def logfile(cls, name):
        return os.path.join(cls.logdir, f"{cls.dbname}-{name}-{cls.token}.log")

    @classmethod
    def prefork_server(cls, name, workers=2):
        return PreforkServer(config.rcfile, cls.dbname, cls.logfile(name), workers=workers)

    @classmethod
    def cron_workers(cls, name):
        return CronWorkers(config.rcfile, cls.dbname, cls.logfile(name))

    @classmethod
    def set_params(cls, values):
        """Set system parameters (committed); the former values come back at cleanup."""
        with cls.committed() as env:
            params = env["ir.config_parameter"]
            former = {key: params.get_param(key) for key in values}
            for key, value in values.items():
                params.set_param(key, value)

        def restore():
            with cls.committed() as env:
                for key, value in former.items():
                    env["ir.config_parameter"].set_param(key, value or False)

        return restore

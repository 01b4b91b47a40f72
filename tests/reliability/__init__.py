"""Helpers of the reliability suite: real Odoo processes (a prefork server, cron workers) and
concurrent senders; see ../README.md."""

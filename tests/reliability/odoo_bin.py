"""Odoo's command line, as ``odoo-bin``: the prefork server starts its evented process by running
its own ``sys.argv[0]`` again (``<argv[0]> gevent ...``), which ``python -m odoo`` cannot do (its
``__main__.py`` is not a script)."""

from odoo.cli.command import main

if __name__ == "__main__":
    main()

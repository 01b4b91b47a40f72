from odoo.tools import SQL


def reserve_ids(env, table, count):
    """``count`` new ids of ``table`` from its sequence, for rows inserted in bulk."""
    rows = env.execute_query(SQL("SELECT nextval(%s) FROM generate_series(1, %s)", f"{table}_id_seq", count))
    return [row[0] for row in rows]

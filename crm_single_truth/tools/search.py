"""Search methods of computed fields built from one entry point."""


def searcher(method, key):
    """A search method delegating to ``method(key, operator, value)`` of the model (Odoo looks
    search methods up by name, so each field gets its own function)."""

    def search(self, operator, value):
        return getattr(self, method)(key, operator, value)

    search.__name__ = f"_search_{key}"
    return search

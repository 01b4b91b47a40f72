"""Rules of the dunning engine that need no database."""

# who receives a reminder: the first reachable contact of these roles, else the company itself
RECIPIENT_ROLES = ("accountant", "director")

# the channels each action may use
ACTION_CHANNELS = {
    "email_customer": ("email", "whatsapp", "telegram"),
    "activity_manager": ("activity",),
    "activity_supervisor": ("activity",),
}


def choose_recipient(contacts, roles=RECIPIENT_ROLES):
    """The contact a reminder goes to: ``contacts`` are ``(key, role, reachable)`` in the
    customer's order; the first reachable one of the first role in ``roles`` that has one, else
    ``None`` (the company itself)."""
    for role in roles:
        for key, contact_role, reachable in contacts:
            if contact_role == role and reachable:
                return key
    return None


def channel_allowed(action, channel):
    """Whether a level of ``action`` may use ``channel``."""
    return channel in ACTION_CHANNELS.get(action, ())

"""Bringing stored penalty records in line with a computation, without a database.

A penalty run is stored once; a new computation of the same source (an installment line or an
invoice) must change only what differs, leave what was already invoiced untouched and never add
a run twice. :func:`reconcile_penalties` decides which records to keep, which to delete and
which to create; the caller writes the result in one statement per kind.
"""


def reconcile_penalties(existing, segments, date_ref, round_fn, compare_fn):
    """Compare the stored records of one source with its computed ``segments``.

    ``existing``: dicts with ``id``, ``date_from``, ``date`` (last day), ``days``, ``base``,
    ``amount`` and ``invoiced`` (billed on a posted or draft invoice: frozen).
    ``segments``: what :func:`~.schedule.penalty_segments` returns.
    ``compare_fn(a, b)``: -1, 0 or 1 at the currency precision.

    Rules:

    - an uninvoiced record equal to a segment (same first and last day, days, base, amount) is
      kept, at most one per first day; any other uninvoiced record is deleted;
    - a segment starting on the first day of an invoiced record is not created again; what the
      computation now says about such runs minus what was invoiced is one correction record
      (``days`` 0, dated ``date_ref``), kept as long as its amount stays right;
    - every other segment is created.

    Returns ``(keep_ids, delete_ids, to_create, correction)``: ``to_create`` is a list of
    segments, ``correction`` the amount of a new correction record or ``None``.
    """
    invoiced = [record for record in existing if record["invoiced"]]
    invoiced_from = {record["date_from"] for record in invoiced if record["days"]}
    free = [record for record in existing if not record["invoiced"]]
    wanted = {segment["date_from"]: segment for segment in segments if segment["date_from"] not in invoiced_from}
    keep_ids, kept_from = [], set()
    for record in free:
        segment = wanted.get(record["date_from"])
        if (
            record["days"]
            and segment
            and record["date_from"] not in kept_from
            and record["date"] == segment["date_to"]
            and record["days"] == segment["days"]
            and not compare_fn(record["amount"], segment["amount"])
            and not compare_fn(record["base"], segment["base"])
        ):
            keep_ids.append(record["id"])
            kept_from.add(record["date_from"])
    correction = round_fn(
        sum(segment["amount"] for segment in segments if segment["date_from"] in invoiced_from)
        - sum(record["amount"] for record in invoiced)
    )
    corrections = [record for record in free if not record["days"]]
    new_correction = None
    if len(corrections) == 1 and compare_fn(correction, 0.0) and not compare_fn(corrections[0]["amount"], correction):
        keep_ids.append(corrections[0]["id"])
    elif compare_fn(correction, 0.0):
        new_correction = correction
    kept = set(keep_ids)
    delete_ids = [record["id"] for record in free if record["id"] not in kept]
    to_create = [segment for date_from, segment in wanted.items() if date_from not in kept_from]
    return keep_ids, delete_ids, to_create, new_correction

from .schedule import MAX_INSTALLMENTS, allocate, due_dates, penalty_segments, split_amount
from .penalty import reconcile_penalties

from .schedule import allocate, due_dates, penalty_segments, split_amount

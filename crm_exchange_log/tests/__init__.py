from . import test_journal

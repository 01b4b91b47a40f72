from . import test_segments

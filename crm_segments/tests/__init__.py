from . import test_segments
from . import test_demo_segments
from . import test_tours
from . import test_segment_access

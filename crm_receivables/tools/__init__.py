from . import greeting
from . import dunning

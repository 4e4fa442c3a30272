from mobility.errors import MobilityError

__version__ = "0.1.0"
__all__ = ["MobilityError", "__version__"]

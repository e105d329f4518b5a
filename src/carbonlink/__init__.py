"""carbonlink: from a plant's meters to signed, verifiable carbon reports."""

from carbonlink.errors import CarbonlinkError

__version__ = "0.1.0"
__all__ = ["CarbonlinkError", "__version__"]

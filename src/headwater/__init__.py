"""headwater: a control plane for data platforms."""

__version__ = "0.1.0"

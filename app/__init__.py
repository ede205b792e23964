"""monograph-api: an evidence-linked drug monograph service."""

__version__ = "0.1.0"

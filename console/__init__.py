"""Fenliu (分流): a reception console and routing server for e-commerce customer service."""

__version__ = "0.1.0"

"""Shipped preset files (JSON data). Read them with ``autopreset.portfolio.load_preset(name)``."""

"""The private machinery of ``autopreset.fit``: clock, run folder, data preparation, cost model,
preference, phases, finish, progress. ``autopreset/_fit.py`` joins them; nothing here is public.
"""

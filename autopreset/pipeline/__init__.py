"""The product: ``autopreset.fit`` as a run of visible steps over typed state."""

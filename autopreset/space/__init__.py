"""Search spaces: plain dicts of name -> domain (Categorical, Ordinal, Float, Int) or constant.

    from autopreset.space import Float, Int, Categorical, Ordinal, sample
    space = {"lr": Float(1e-5, 1e-1, log=True), "depth": Int(2, 8), "opt": Categorical(["sgd", "adam"])}
    config = sample(space, random_state=0)
"""
from autopreset.space._domains import Categorical, Domain, Float, Int, Ordinal
from autopreset.space._examples import LECTURE_BACKBONES, lecture_space
from autopreset.space._json import space_from_json, space_to_json
from autopreset.space._narrow import narrow, narrow_around
from autopreset.space._ops import (
    as_rng,
    check_space,
    complete,
    config_key,
    decode,
    default_config,
    dimension,
    domains,
    encode,
    encoding_layout,
    grid,
    grid_size,
    sample,
    sample_unit,
    snap,
    validate,
)

__all__ = [
    "Domain", "Categorical", "Ordinal", "Float", "Int",
    "sample", "encode", "decode", "snap", "grid", "grid_size", "validate", "complete",
    "default_config", "dimension", "config_key",
    "domains", "check_space", "as_rng", "encoding_layout", "sample_unit",
    "space_to_json", "space_from_json", "narrow", "narrow_around", "lecture_space", "LECTURE_BACKBONES",
]

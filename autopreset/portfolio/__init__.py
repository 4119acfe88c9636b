"""Presets: a search space, an ordered portfolio of configs with the reason for each, backbone
tiers and Hyperband settings, with provenance. JSON data (``autopreset.preset/1``), never code.

    from autopreset.portfolio import load_preset, save_preset, list_presets, preset_from_run
    preset = load_preset("default")            # or load_preset("team.json")
    for entry in preset.select(["resnet18", "lcnet_050"]):
        print(entry.config, entry.reason)
"""
from ._card import dataset_summary, describe_dataset, library_versions, preset_from_run, sharing_problems
from ._io import list_presets, load_preset, read_preset_json, save_preset
from ._preset import HyperbandSettings, PortfolioEntry, Preset, Provenance, validate_preset
from ._schema import FORMAT, PRESET_SCHEMA, RESOURCE_KINDS, SCHEMA_FILE, SCHEMA_ID, TIERS, schema_text

__all__ = ["Preset", "PortfolioEntry", "Provenance", "HyperbandSettings", "load_preset",
           "save_preset", "list_presets", "preset_from_run", "dataset_summary", "describe_dataset",
           "sharing_problems", "validate_preset", "read_preset_json",
           "library_versions", "FORMAT", "PRESET_SCHEMA", "SCHEMA_ID", "SCHEMA_FILE", "schema_text",
           "TIERS", "RESOURCE_KINDS"]

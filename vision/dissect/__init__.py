"""GAN Dissection (Bau et al., ICLR 2019) of the layout generator: ``visiongym dissect``."""

from visiongym.vision.dissect.dissection import (
    CONCEPTS,
    DissectConfig,
    concept_masks,
    decoder_layers,
    dissect,
    iou_table,
    match_units,
    unit_masks,
    unit_thresholds,
)

__all__ = [
    "CONCEPTS",
    "DissectConfig",
    "concept_masks",
    "decoder_layers",
    "dissect",
    "iou_table",
    "match_units",
    "unit_masks",
    "unit_thresholds",
]

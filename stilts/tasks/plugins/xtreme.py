"""Where the XTREME benchmark's tables live on the hub: one parquet file per config and split."""

from __future__ import annotations

from stilts.tasks.data import STANDARD_SPLITS, HubSource, RoleSplits

XTREME_REVISION = "68bd9e06bf4bbe671073c975ccd61d754e1bd3d6"
"""google/xtreme "Add udpos.Yoruba data files": the last config's parquet files, so every
config has its files at this commit (`{config}/{split}-00000-of-00001.parquet`)."""


def xtreme_source(config: str, splits: RoleSplits = STANDARD_SPLITS) -> HubSource:
    """One google/xtreme config (`XNLI`, `PAN-X.de`, `udpos.German`…), pinned."""
    return HubSource(
        repo="google/xtreme",
        revision=XTREME_REVISION,
        files=f"{config}/{{split}}-*.parquet",
        splits=splits,
    )

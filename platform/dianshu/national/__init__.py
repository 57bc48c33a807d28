"""The national monthly upload (医保结算清单上传, 4101A): a region's month of settlement lists in the
national layout, one deterministic file per region and month, its export log and the corrections
flagged for the next upload."""

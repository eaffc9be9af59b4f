"""ECG analysis engine: readers, filtering, R-peaks, beat classifier, rhythm, intervals, HRV.

No Flask, no database: arrays and dataclasses in, dataclasses out. Filled by issue 3.
"""

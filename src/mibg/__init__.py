"""mibg: software for the 131I-MIBG therapy protocol NCT01370330.

The public surface of the library is in :mod:`mibg.protocol` (the protocol as data) and
:mod:`mibg.core` (eligibility, dose planning, decay, radiation safety, dosimetry, toxicity).
"""

__version__ = "0.1.0"

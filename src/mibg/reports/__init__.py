"""Reports and interoperability: PDF documents, FHIR R4, DICOM RRDSR, CSV/Excel, built from plain records.

No Django here: the web layer maps its models to :mod:`mibg.reports.record` and calls these builders.
"""

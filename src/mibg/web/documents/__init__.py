"""Documents of a course and of the programme: PDFs, FHIR, DICOM RRDSR, Excel, and the study record page."""

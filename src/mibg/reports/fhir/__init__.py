"""FHIR R4 export and import of a course (fhir.resources, R4B models)."""

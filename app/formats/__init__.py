"""Other representations of the catalog's records: FHIR R5, schema.org JSON-LD, bulk exports.

Each module is one format, built from a catalog snapshot on demand: never a second copy of the data.
"""

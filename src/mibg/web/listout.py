"""The base of the API's list answers (patients, courses, labs, readings).

The endpoints build plain dicts; ninja then validates each one against its response schema. A ninja
``Schema`` wraps every dict in an object that also reads Django model attributes, which made that validation
the largest cost of a list of a hundred labs (bench/RESULTS.md). A plain pydantic model validates the same
fields, with the same types and the same OpenAPI schema, without the wrapper.
"""

from __future__ import annotations

from pydantic import BaseModel


class ListOut(BaseModel):
    pass

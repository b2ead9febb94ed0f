"""Query and path parameters shared by several endpoints, each defined once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

# Ids are 32-bit in both stores; a bigger number is a 422, not an overflow deep in the driver.
MAX_ID = 2_147_483_647

DocumentFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Document id.", examples=[1])]
YearFilter = Annotated[
    int | None, Query(ge=1949, le=2100, description="Only records of this year's editions.", examples=[2023])
]
ProvinceFilter = Annotated[
    str | None,
    Query(
        min_length=1, max_length=20, description="Only provincial editions of this province (某省).", examples=["某省"]
    ),
]
IssuerFilter = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=60,
        description="Only editions issued by this office, as printed (全民科学素质纲要实施工作办公室).",
        examples=["全民科学素质纲要实施工作办公室"],
    ),
]
DepartmentFilter = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=50,
        description="Any name of a unit: 科协, 中国科学技术协会, 中科院 …",
        examples=["科协"],
    ),
]
SectionFilter = Annotated[
    str | None, Query(min_length=1, max_length=10, description="Section label (三) or ordinal (3).", examples=["三"])
]
TargetGroupFilter = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=20,
        description="青少年, 农民, 产业工人, 老年人 or 领导干部和公务员.",
        examples=["老年人"],
    ),
]

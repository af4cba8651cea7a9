"""Entity shapes for responses and the entity list filters."""

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.countries import CountryCode, normalise_country_code
from app.entities.models import EntityKind
from app.pagination import ListQuery
from app.search import check_words
from app.strict import Strict


class EntityRef(BaseModel):
    """How other resources point at an entity: enough to display it without another call."""

    id: str = Field(examples=["CHN"])
    kind: EntityKind
    name: str = Field(examples=["China"])
    code: str | None = Field(None, description="ISO 3166-1 alpha-3, for countries.")


class RolePublic(BaseModel):
    title: str = Field(examples=["Member of the National Assembly of Azerbaijan"])
    organization: EntityRef | None
    text: str | None = Field(
        None, description="The role as printed in the source.", examples=["MP"]
    )
    start: str | None = None
    end: str | None = None


class EntityPublic(EntityRef):
    description: str | None
    aliases: list[str]
    date: str | None = Field(None, description="Events: when, as a reduced ISO date.")
    location: str | None = None
    roles: list[RolePublic] = Field(default_factory=list, description="People: roles held.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "arzukhan-alizadeh",
                    "kind": "person",
                    "name": "Arzukhan Alizadeh",
                    "code": None,
                    "description": "Member of the National Assembly (Milli Majlis) of Azerbaijan.",
                    "aliases": ["Alizadeh"],
                    "date": None,
                    "location": None,
                    "roles": [
                        {
                            "title": "Member of the National Assembly of Azerbaijan",
                            "organization": {
                                "id": "milli-majlis",
                                "kind": "organization",
                                "name": "National Assembly of Azerbaijan",
                                "code": None,
                            },
                            "text": "MP",
                            "start": None,
                            "end": None,
                        }
                    ],
                }
            ]
        }
    )


class EntityQuery(ListQuery):
    """Filters for GET /v1/entities."""

    kind: list[EntityKind] = Field(default_factory=list, description="Repeatable.")
    code: CountryCode | None = Field(
        None, description="ISO 3166-1 code (alpha-3 or alpha-2).", examples=["AZE"]
    )
    outlet: bool | None = Field(
        None,
        description="`true`: only outlets, the organizations sources are from (what "
        "POST /v1/sources takes as `outlet`); `false`: only entities that are no outlet.",
        examples=[True],
    )
    name: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Words (at most 10) that must all appear in the name or an alias, "
        "case-insensitive.",
        examples=["Alizadeh"],
    )

    _words = field_validator("name")(check_words)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        return None if value is None else normalise_country_code(value)


class RoleIn(Strict):
    title: str = Field(min_length=1, max_length=200)
    organization: str | None = Field(None, description="Entity id of the organization.")
    text: str | None = Field(None, max_length=200, description="The role as printed.")
    start: str | None = Field(None, description="Reduced ISO date.")
    end: str | None = Field(None, description="Reduced ISO date.")


class EntityCreate(Strict):
    """A new entity. Countries need only `kind: country` and `code`: the name comes from ISO."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "organization",
                    "name": "Shanghai Cooperation Organization",
                    "aliases": ["SCO"],
                    "description": "Eurasian political, economic and security organization.",
                }
            ]
        },
    )

    kind: EntityKind
    name: str | None = Field(None, min_length=1, max_length=200)
    code: str | None = Field(None, description="Countries: ISO 3166-1 code.")
    description: str | None = Field(None, max_length=2000)
    aliases: list[str] = Field(default_factory=list)
    date: str | None = Field(None, description="Events: reduced ISO date.")
    location: str | None = Field(None, max_length=200)
    roles: list[RoleIn] = Field(default_factory=list, description="People: roles held.")

    @field_validator("code")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        return None if value is None else normalise_country_code(value)


class EntityUpdate(Strict):
    """Fields to change (countries keep their ISO code and name)."""

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    aliases: list[str] | None = None
    date: str | None = None
    location: str | None = Field(None, max_length=200)
    roles: list[RoleIn] | None = None

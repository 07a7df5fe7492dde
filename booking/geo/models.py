"""Reference data of the French administrative map."""

from sqlalchemy import Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.extensions import db

epci_members = Table(
    "epci_members",
    db.metadata,
    Column("epci_siren", ForeignKey("epcis.siren", ondelete="CASCADE"), primary_key=True),
    Column("commune_insee", ForeignKey("communes.insee", ondelete="CASCADE"), primary_key=True, index=True),
)


class Region(db.Model):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Departement(db.Model):
    __tablename__ = "departements"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))

    region: Mapped[Region] = relationship()


class Commune(db.Model):
    """A commune actuelle, identified by its INSEE code (Corsica: 2A/2B)."""

    __tablename__ = "communes"

    insee: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Lower case, no accents, words separated by single spaces: the search key.
    search_name: Mapped[str] = mapped_column(String(100), index=True)
    departement_code: Mapped[str] = mapped_column(ForeignKey("departements.code"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    population: Mapped[int | None]
    # A point inside the commune (WGS 84), from `flask geo import-positions`; None: not known, never 0,0.
    latitude: Mapped[float | None] = mapped_column(index=True)  # the search's box of communes within reach
    longitude: Mapped[float | None]
    area_km2: Mapped[float | None]
    population_2015: Mapped[int | None]  # the trend élus are asked for: 2015 → 2021 (INSEE, populations légales)
    population_2021: Mapped[int | None]

    departement: Mapped[Departement] = relationship()
    postal_codes: Mapped[list["PostalCode"]] = relationship(
        back_populates="commune", cascade="all, delete-orphan", order_by="PostalCode.code"
    )
    epcis: Mapped[list["Epci"]] = relationship(secondary=epci_members, back_populates="members")

    def __repr__(self) -> str:
        return f"<Commune {self.insee} {self.name}>"


class PostalCode(db.Model):
    __tablename__ = "postal_codes"

    commune_insee: Mapped[str] = mapped_column(
        ForeignKey("communes.insee", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(5), primary_key=True, index=True)

    commune: Mapped[Commune] = relationship(back_populates="postal_codes")


class FormerCommune(db.Model):
    """A commune déléguée, associée or an arrondissement municipal, linked to its commune.

    These keep the names residents still use ("I live in Mourjou"), so the
    search finds them and answers with the commune they now belong to. Their
    INSEE code may equal their commune's, hence the surrogate key.
    """

    __tablename__ = "former_communes"
    __table_args__ = (Index("ix_former_communes_code_kind", "insee", "kind", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    insee: Mapped[str] = mapped_column(String(5))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    search_name: Mapped[str] = mapped_column(String(100), index=True)
    commune_insee: Mapped[str] = mapped_column(ForeignKey("communes.insee", ondelete="CASCADE"), index=True)

    commune: Mapped[Commune] = relationship()


class Epci(db.Model):
    """A groupement de communes (CC, CA, CU, métropole), identified by its SIREN."""

    __tablename__ = "epcis"

    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))

    members: Mapped[list[Commune]] = relationship(secondary=epci_members, back_populates="epcis")

"""Reference data import and commune lookup."""

from sqlalchemy import func, select

from booking.geo.models import Commune, Epci, FormerCommune, PostalCode, epci_members
from booking.geo.services import import_reference_data, read_data_folder, search_communes
from tests.conftest import GEO_FIXTURE


def _counts(session):
    return {
        "communes": session.scalar(select(func.count()).select_from(Commune)),
        "postal_codes": session.scalar(select(func.count()).select_from(PostalCode)),
        "former": session.scalar(select(func.count()).select_from(FormerCommune)),
        "epcis": session.scalar(select(func.count()).select_from(Epci)),
        "members": session.scalar(select(func.count()).select_from(epci_members)),
    }


def _codes(session, query):
    return [commune.insee for commune in search_communes(session, query)]


def test_import_twice_leaves_the_same_rows(session, restore_geo):
    before = _counts(session)
    report = import_reference_data(session, GEO_FIXTURE)
    assert report.inserted == report.updated == report.deleted == 0
    assert _counts(session) == before
    assert before["communes"] > 250 and before["epcis"] == 11


def test_import_updates_in_place(session, restore_geo):
    salers = session.get(Commune, "15219")
    salers.name, salers.population = "Salers (ancien nom)", 1
    session.commit()
    report = import_reference_data(session, GEO_FIXTURE)
    assert report.updated == 1
    session.expire_all()
    assert session.get(Commune, "15219").name == "Salers"
    assert session.get(Commune, "15219").population == 310


def test_import_from_empty_and_from_the_tgz(session, restore_geo, tmp_path, runner):
    import tarfile

    archive = tmp_path / "decoupage.tgz"
    with tarfile.open(archive, "w:gz") as tgz:
        for path in GEO_FIXTURE.glob("*.json"):
            tgz.add(path, arcname=f"package/data/{path.name}")
    before = _counts(session)
    session.execute(epci_members.delete())
    session.execute(PostalCode.__table__.delete())
    session.execute(FormerCommune.__table__.delete())
    session.execute(Commune.__table__.delete())
    session.commit()
    result = runner.invoke(args=["geo", "import", str(archive)])
    assert result.exit_code == 0, result.output
    assert "Référentiel importé" in result.output
    assert _counts(session) == before


def test_only_the_package_s_data_files_leave_the_archive(tmp_path):
    """What the geo import unpacks: regular files under package/data/, never a path climbing out of it nor a
    link (on every Python 3.11: Debian 12's 3.11.2 has no ``extractall(filter=…)``)."""
    import io
    import tarfile

    archive, workdir = tmp_path / "paquet.tgz", tmp_path / "work"
    workdir.mkdir()
    with tarfile.open(archive, "w:gz") as tgz:
        for name, data in (("package/data/communes.json", b"[]"), ("package/data/../../evil.json", b"x"),
                           ("package/README.md", b"lisez-moi")):
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tgz.addfile(member, io.BytesIO(data))
        link = tarfile.TarInfo("package/data/regions.json")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tgz.addfile(link)
    folder = read_data_folder(archive, workdir)
    assert folder == workdir / "package" / "data"
    assert sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file()) == [
        "paquet.tgz", "work/package/data/communes.json"]


def test_import_command_reports_a_bad_folder(runner, tmp_path):
    result = runner.invoke(args=["geo", "import", str(tmp_path)])
    assert result.exit_code != 0
    assert "communes.json" in result.output


def test_search_by_name_without_accents(session):
    assert _codes(session, "saint etienne")[0] == "42218"
    assert _codes(session, "SAINT-ETIENNE")[0] == "42218"
    assert _codes(session, "st etienne")[0] == "42218"
    assert "15006" in _codes(session, "anglards de salers")


def test_search_ranks_the_exact_name_first(session):
    assert _codes(session, "salers")[0] == "15219"


def test_search_by_postal_code_of_a_commune_with_several(session):
    for code in ("42000", "42100", "42230"):
        assert _codes(session, code) == ["42218"]
    assert _codes(session, "13008") == ["13055"]


def test_search_by_postal_code_shared_by_several_communes(session):
    codes = _codes(session, "15140")
    assert {"15174", "15219", "15202", "15070"} <= set(codes)


def test_search_finds_corsica(session):
    assert _codes(session, "ajaccio") == ["2A004"]
    assert _codes(session, "20000") == ["2A004"]
    assert _codes(session, "bastia") == ["2B033"]


def test_search_finds_a_commune_deleguee_under_its_commune(session):
    deleguee = session.scalar(select(FormerCommune).where(FormerCommune.kind == "deleguee",
                                                          FormerCommune.insee != FormerCommune.commune_insee))
    assert deleguee.commune_insee in _codes(session, deleguee.name)


def test_search_finds_overseas_communes(session):
    assert _codes(session, "abymes") == ["97101"]
    assert _codes(session, "97142") == ["97101"]


def test_search_of_nothing_finds_nothing(session):
    assert search_communes(session, "   ") == []
    assert search_communes(session, "--") == []
    assert search_communes(session, "zzzzzz") == []


def test_search_command(runner):
    result = runner.invoke(args=["geo", "search", "saint etienne"])
    assert "42218  Saint-Étienne (42000)" in result.output


def test_search_forgives_one_or_two_typos(session):
    assert _codes(session, "Slers")[0] == "15219"
    assert _codes(session, "Aurilac")[0] == "15014"
    assert _codes(session, "Saint-Bonet-de-Salrs")[0] == "15174"
    assert "15174" in _codes(session, "st bonet")
    # Salers first (the whole name), then the names holding the word.
    codes = _codes(session, "salres")
    assert codes[0] == "15219" and {"15006", "15174"} <= set(codes)


def test_a_typo_is_forgiven_only_when_nothing_is_spelt_so(session):
    from booking.geo.services import find_communes

    communes, misspelt = find_communes(session, "Slers")
    assert misspelt and communes[0].insee == "15219"
    communes, misspelt = find_communes(session, "Salers")
    assert not misspelt and communes[0].insee == "15219"
    assert find_communes(session, "99999") == ([], False)
    assert find_communes(session, "qwxzk")[0] == []


def test_a_commune_is_resolved_from_its_label_with_the_postal_code(session):
    from booking.geo.services import commune_label, resolve_commune

    salers = resolve_commune(session, "Salers")
    assert resolve_commune(session, commune_label(salers)).insee == "15219"
    assert resolve_commune(session, "Saint-Bonnet-de-Salers (15140)").insee == "15174"

from sqlalchemy.orm import Session

from dancu.catalogs.service import CatalogLookup
from dancu.citizen.portal import views


def test_codes_are_shown_with_their_catalogue_names(session: Session) -> None:
    lookup = CatalogLookup.load(session)
    assert views.described("sex", "2", lookup) == "Nữ (2)"
    assert views.described("permanent_province", "79", lookup) == f"{lookup.name('province', '79')} (79)"
    assert views.described("permanent_commune", "26743", lookup) == "Phường Bến Thành (26743)"
    assert views.described("full_name", "Nguyễn Văn An", lookup) == "Nguyễn Văn An"
    assert views.described("religion_code", "not-a-code", lookup) == "not-a-code"
    assert views.described("sex", None, lookup) == ""

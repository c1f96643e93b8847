"""Errors of the catalogues capability."""

from __future__ import annotations

from dancu.errors import NotFound


class CatalogNotFound(NotFound):
    code = "catalog_not_found"
    title_vi = "Không có danh mục"
    title_en = "Catalogue not found"

    def __init__(self, name: str) -> None:
        super().__init__(f"Không có danh mục '{name}'.", f"There is no catalogue '{name}'.", catalog=name)


class CatalogCodeNotFound(NotFound):
    code = "catalog_code_not_found"
    title_vi = "Không có mã trong danh mục"
    title_en = "Code not in catalogue"

    def __init__(self, name: str, code: str) -> None:
        super().__init__(
            f"Mã '{code}' không có trong danh mục '{name}'.",
            f"Code '{code}' is not in catalogue '{name}'.",
            catalog=name,
            catalog_code=code,
        )


class MappingNotFound(NotFound):
    code = "catalog_mapping_not_found"
    title_vi = "Không có bảng chuyển đổi mã"
    title_en = "Mapping not found"

    def __init__(self, name: str) -> None:
        super().__init__(f"Không có bảng chuyển đổi '{name}'.", f"There is no mapping '{name}'.", mapping=name)

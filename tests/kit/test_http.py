import httpx

from dancu.errors import NotFound, ValidationFailed, field_error


def test_health_reports_ok(http: httpx.Client) -> None:
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_openapi_document_lists_capabilities(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    assert document["info"]["title"] == "dancu"
    paths = document["paths"]
    assert any(path.startswith("/registry/") for path in paths)
    assert any(path.startswith("/catalogs") for path in paths)


def test_unknown_path_is_a_problem(http: httpx.Client) -> None:
    response = http.get("/no/such/path")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "not_found"
    assert body["status"] == 404


def test_metrics_count_requests(http: httpx.Client) -> None:
    http.get("/healthz")
    text = http.get("/metrics").text
    assert 'dancu_http_requests_total{method="GET",route="/healthz",status="200"}' in text


def test_problem_carries_both_languages() -> None:
    problem = NotFound("Không thấy", "Not there").problem(instance="/x")
    assert problem == {
        "type": "/problems/not_found", "title": "Không tìm thấy", "status": 404, "detail": "Không thấy",
        "code": "not_found", "title_en": "Not found", "detail_en": "Not there", "instance": "/x",
    }


def test_validation_failure_summarises_all_errors() -> None:
    error = ValidationFailed([field_error("sex", "unknown_code", "Sai giới tính", "Bad sex"),
                              field_error("dob", "invalid_date", "Sai ngày", "Bad date")])
    assert error.detail_en == "Bad sex (and 1 more)"
    assert len(error.problem()["errors"]) == 2

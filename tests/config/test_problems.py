import json

from config.api.problems import PROBLEM_CONTENT_TYPE, problem_body, problem_response


def test_problem_response_is_rfc9457_json_with_the_status_phrase_as_title():
    response = problem_response(503, detail="The database is unavailable.")
    assert response.status_code == 503
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE == "application/problem+json"
    assert json.loads(response.content) == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The database is unavailable.",
    }


def test_validation_problem_carries_errors_by_field():
    body = problem_body(400, title="Invalid input", detail="2 fields are invalid.",
                        type_="https://x/validation", errors={"email": ["Enter a valid email address."]})
    assert body["errors"] == {"email": ["Enter a valid email address."]}
    assert body["type"] == "https://x/validation"
    assert body["title"] == "Invalid input"


def test_detail_defaults_to_title_and_unknown_status_gets_a_generic_title():
    assert problem_body(404)["detail"] == "Not Found"
    assert problem_body(599)["title"] == "Error"

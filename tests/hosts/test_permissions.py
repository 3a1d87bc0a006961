"""Role x action matrix for the hosts API (403 before validation, 404 across teams)."""

import pytest

pytestmark = pytest.mark.django_db

# action -> (method, path suffix, body) ; expected status by role
MATRIX = {
    "list": ("get", "", None, {"viewer": 200, "operator": 200, "admin": 200}),
    "retrieve": ("get", "{pk}/", None, {"viewer": 200, "operator": 200, "admin": 200}),
    "update": ("patch", "{pk}/", {"description": "x"}, {"viewer": 403, "operator": 403, "admin": 200}),
    "test": ("post", "{pk}/test/", None, {"viewer": 403, "operator": 200, "admin": 200}),
    "sync": ("post", "{pk}/sync/", None, {"viewer": 403, "operator": 202, "admin": 202}),
    "destroy": ("delete", "{pk}/", None, {"viewer": 403, "operator": 403, "admin": 204}),
}


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
@pytest.mark.parametrize("action", list(MATRIX))
def test_role_matrix(two_teams, api_client, make_host, role, action):
    method, suffix, body, expected = MATRIX[action]
    a = two_teams["a"]
    host = make_host(a["team"], "tcp://127.0.0.1:1")
    client = api_client(a[role])
    path = "/api/v1/hosts/" + suffix.format(pk=host.pk)
    resp = getattr(client, method)(path, body, format="json") if body else getattr(client, method)(path)
    assert resp.status_code == expected[role], resp.content
    # The same user in another team sees nothing of this one.
    if suffix:
        other = api_client(two_teams["b"][role])
        assert getattr(other, method)(path, body, format="json").status_code == 404

from tests.e2e.conftest import browser, e2e_db, live_daphne, new_context, shared_layer  # noqa: F401 - fixtures

"""Shared test settings: hypothesis sized for CI's 2-core machine."""


from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile("default")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/*.txt from the current output instead of comparing with them")

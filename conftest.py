"""Collection rules for the doctests under src/convscope (tests/conftest.py holds the fixtures)."""

import importlib.util

# The widgets' doctests need the notebook extra (`make` installs it); without it, skip their
# module instead of failing to collect it.
collect_ignore_glob = [] if importlib.util.find_spec("anywidget") else ["src/convscope/widgets/*"]

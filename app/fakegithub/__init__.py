"""The simulated GitHub: shipped for `python -m app demo` and the test suite, never imported by the
server's own code. See `server.py` for how to use it."""
from .server import FakeGitHub, FakeGitHubError, find_shared_github, load_validator

__all__ = ["FakeGitHub", "FakeGitHubError", "find_shared_github", "load_validator"]

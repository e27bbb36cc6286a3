from django.contrib.auth.hashers import PBKDF2PasswordHasher


class SandboxPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 with few iterations: the sandbox's passwords and client secrets are throw-away
    dev values, and every token request of the tests and benchmarks pays for the hash."""

    algorithm = "sandbox_pbkdf2_sha256"
    iterations = 1_000

"""The SMS channel: a citizen texts a short command from the registered phone and gets their own record."""

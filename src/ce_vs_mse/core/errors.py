"""The one error a bad configuration value raises, at any floor of the package."""


class ConfigError(ValueError):
    """A configuration value that cannot work; the message names it and the valid choices."""

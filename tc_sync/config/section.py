"""The base of every configuration section: unknown keys are errors, not silently ignored."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A section of the configuration file; a misspelt key is reported, never ignored."""

    model_config = ConfigDict(extra="forbid")

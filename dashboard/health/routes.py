"""Routes of the sync health page (being built)."""

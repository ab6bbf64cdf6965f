"""Routes of the booking API (being built)."""

"""Routes of the bookings pages (being built)."""

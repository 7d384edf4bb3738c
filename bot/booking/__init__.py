"""This package contains counter appointments: opening calendars, free slots, bookings."""

"""Attendance statistics and the commune report."""

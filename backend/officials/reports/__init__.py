"""Statistics for staff: the dashboard and the yearly grassroots-information report."""

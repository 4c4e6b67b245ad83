"""Programmes: the week's sessions compiled from the schedule, the rules and the commune's choices."""

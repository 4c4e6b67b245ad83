"""Commune stations, their local broadcast rules and their groups of clusters."""

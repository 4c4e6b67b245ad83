"""Commune website feeds: RSS, Atom, JSON Feed and an embeddable widget of each area's notices."""

"""The desk app's wing: app, state, delivery (plain), widgets, words (pure text), screens,
styles."""

"""The pane's wing (the supervisor's screen): app, state, board, widgets, words, screens, styles."""

"""The Textual screens: the desk app and the supervisor pane."""

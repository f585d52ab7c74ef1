"""The supervisor pane's parts: widgets that own their state, modal screens, the words."""

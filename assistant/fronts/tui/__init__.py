"""The Textual chat UI: `assistant` (or `assistant chat`) opens it. `app.run()` is the entry point.

Nothing is imported here, so `import assistant.fronts.tui` does not pull in Textual until the UI is wanted.
"""

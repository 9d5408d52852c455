"""Front ends: the command line and the chat UI. Each only parses input, calls `Assistant`, and formats
what comes back; nothing about retrieval or answering lives here."""

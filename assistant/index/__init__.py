"""The index: the encoder, the on-disk store, building and updating it, and the retrieval backends.

Nothing is imported here, so `import assistant.index.lexical` does not pull in torch or FAISS."""

"""Database models, repositories and the blob store."""

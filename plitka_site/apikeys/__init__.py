"""API keys for storefront clients: stored hashed, shown once, revocable, rate-limited."""

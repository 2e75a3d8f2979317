"""Plumbing shared by every API view: the error envelope, pagination and permissions."""

"""Telephony backend implementations."""

"""Designed referral pathways between services and need categories."""

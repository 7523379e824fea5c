"""Open Referral HSDS 3.0: reading, checking, repairing, importing and exporting."""

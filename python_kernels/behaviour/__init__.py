"""6B behaviour, one module per state: S1 attachment and sessions, S2 flows, S3 campaigns and
their overlay, S4 bank view and cases."""

"""Fixed structure of the 6A graph: id ranges per entity type and the code tables kernels share.

Ids are BIGINT, dense from each base, and the ranges never overlap (each holds up to
1e9 entities), so an id alone says which table it belongs to.
"""
PARTY_ID_BASE = 1_000_000_000
ACCOUNT_ID_BASE = 2_000_000_000
INSTRUMENT_ID_BASE = 3_000_000_000
DEVICE_ID_BASE = 4_000_000_000
IP_ID_BASE = 5_000_000_000
ID_RANGE = 1_000_000_000

PARTY_TYPES = ("RETAIL", "BUSINESS", "OTHER")
RETAIL = 0
BUSINESS = 1

LINK_ROLES = ("TYPICAL_DEVICE_IP", "RECENT_LOGIN_IP", "SHARED_PUBLIC_WIFI", "MERCHANT_ENDPOINT")
TYPICAL, RECENT, SHARED_WIFI, ENDPOINT = range(4)

"""The engine's fixed vocabulary: channels, reason codes, statuses, labels, the flow id layout
and time units. Every module that spells one of these imports it from here, so a code means
the same thing in the kernels, the models and the policy schema."""
import numpy as np

US_PER_HOUR = 3_600_000_000
US_PER_DAY = 24 * US_PER_HOUR
NO_TIME = np.iinfo(np.int64).min   # "no such event" in microsecond timestamp arrays
# rows a parallel kernel hands to one task (the result never depends on it: every draw is keyed per row)
BLOCK_ROWS = 4096

# 5B
VIRTUAL_MODES = {"NON_VIRTUAL": 0, "HYBRID": 1, "VIRTUAL_ONLY": 2}

# world: MCC sectors
SECTORS = ("cash_fin_services", "digital_services", "dining_entertainment", "fuel_auto", "general_retail",
           "government_education", "grocery_pharmacy", "other", "travel_hospitality", "utilities_bills")

# 6B S1
CHANNELS = ("ECOM", "POS", "ATM", "BANK_RAIL", "HYBRID")
ATTACH_RULES = ("FOLLOW_UP", "HOME", "FOREIGN")

# 6B S2: flow_id = MAX_FLOWS_PER_ARRIVAL * arrival_id + flow_index (the first flow and its retries)
MAX_FLOWS_PER_ARRIVAL = 4
# amount laws (policies/flows.yaml amounts): how a drawn amount is rounded in the local currency,
# and the channel law that means "the law of the merchant's MCC group"
AMOUNT_ROUNDINGS = ("CENTS", "WHOLE", "CHARM", "NOTE")
LAW_OF_THE_MCC = "MCC"
DECLINE_REASONS = ("INSUFFICIENT_FUNDS", "DO_NOT_HONOR", "INCORRECT_CVV_OR_PIN", "EXCEEDS_LIMIT",
                   "EXPIRED_CARD", "SUSPECTED_FRAUD")
# a flow's reason code indexes REASONS: the policy's decline reasons, then a failed step-up
# challenge (a decline the policy's reason mix does not draw)
REASONS = DECLINE_REASONS + ("STEP_UP_FAILED",)
REASON_STEP_UP_FAILED = REASONS.index("STEP_UP_FAILED")
STATUSES = ("DECLINED", "REVERSED", "PARTIALLY_REFUNDED", "REFUNDED", "CLEARED")

# 6B S3-S4: what a campaign is, and what the truth and the bank say of a flow
CAMPAIGN_TYPES = ("CARD_TESTING", "ATO", "STOLEN_CARD", "MERCHANT_COLLUSION", "REFUND_ABUSE", "FRIENDLY_FRAUD")
SUBTYPES = ("NONE",) + CAMPAIGN_TYPES
TRUTH_LABELS = ("LEGIT", "FRAUD", "ABUSE")
CHARGEBACK_OUTCOMES = ("BANK_LOSS", "BANK_WIN", "PARTIAL")
BANK_LABELS = ("NO_CASE_OPENED", "BANK_CONFIRMED_LEGIT", "BANK_CONFIRMED_FRAUD", "CUSTOMER_DISPUTE_REJECTED",
               "CHARGEBACK_WRITTEN_OFF")
DETECTION_OUTCOMES = ("NOT_DETECTED", "DETECTED_AT_AUTH", "DETECTED_POST_AUTH")

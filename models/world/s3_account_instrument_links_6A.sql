-- Account -> instrument edges as 6B S1 reads them (one per instrument: instruments belong to one account).
with instruments as (
    select * from {{ ref('s3_instrument_base_6A') }}
)

select
    account_id,
    instrument_id,
    instrument_type,
    instrument_kind,
    scheme
from instruments
order by account_id, instrument_id

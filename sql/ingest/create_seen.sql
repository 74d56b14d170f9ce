-- The sample_ids already kept from this source (across its files and chunks), for duplicate marking.
CREATE TABLE seen (sample_id VARCHAR, file VARCHAR, row BIGINT)

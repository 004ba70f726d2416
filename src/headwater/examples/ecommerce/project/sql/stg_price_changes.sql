SELECT
    CAST(product_id AS BIGINT)                       AS product_id,
    CAST(changed_ts AS TIMESTAMPTZ)                  AS changed_ts,
    CAST(old_price AS DECIMAL(12, 2))                AS old_price,
    CAST(new_price AS DECIMAL(12, 2))                AS new_price
FROM raw_price_changes

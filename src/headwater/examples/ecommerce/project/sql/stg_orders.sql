-- One row per order as delivered by checkout. Duplicate rows are not removed here: the
-- contract on the primary key quarantines them, so the problem stays visible.
-- Dates are taken in UTC explicitly, whatever the session time zone.
SELECT
    CAST(order_id AS BIGINT)                                        AS order_id,
    CAST(customer_id AS BIGINT)                                     AS customer_id,
    CAST(order_ts AS TIMESTAMPTZ)                                   AS order_ts,
    CAST(CAST(order_ts AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS DATE)  AS order_date,
    lower(trim(CAST(status AS VARCHAR)))                            AS status,
    upper(trim(CAST(currency AS VARCHAR)))                          AS currency,
    CAST(updated_at AS TIMESTAMPTZ)                                 AS updated_at
FROM raw_orders

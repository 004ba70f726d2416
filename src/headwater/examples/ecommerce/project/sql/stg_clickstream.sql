-- customer_id is null for visitors who are not signed in.
SELECT
    CAST(event_id AS BIGINT)                                        AS event_id,
    CAST(session_id AS BIGINT)                                      AS session_id,
    CAST(customer_id AS BIGINT)                                     AS customer_id,
    CAST(event_ts AS TIMESTAMPTZ)                                   AS event_ts,
    CAST(CAST(event_ts AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS DATE)  AS event_date,
    lower(trim(CAST(event_type AS VARCHAR)))                        AS event_type,
    CAST(product_id AS BIGINT)                                      AS product_id,
    CAST(page AS VARCHAR)                                           AS page
FROM raw_clickstream

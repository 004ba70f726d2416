SELECT
    CAST(return_id AS BIGINT)                                       AS return_id,
    CAST(order_id AS BIGINT)                                        AS order_id,
    CAST(product_id AS BIGINT)                                      AS product_id,
    CAST(returned_ts AS TIMESTAMPTZ)                                AS returned_ts,
    CAST(CAST(returned_ts AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS DATE) AS returned_date,
    CAST(quantity AS INTEGER)                                       AS quantity,
    lower(trim(CAST(reason AS VARCHAR)))                            AS reason
FROM raw_returns

SELECT
    CAST(payment_id AS BIGINT)                                      AS payment_id,
    CAST(order_id AS BIGINT)                                        AS order_id,
    CAST(paid_ts AS TIMESTAMPTZ)                                    AS paid_ts,
    lower(trim(CAST(method AS VARCHAR)))                            AS method,
    CAST(amount AS DECIMAL(12, 2))                                  AS amount,
    lower(trim(CAST(status AS VARCHAR)))                            AS status
FROM raw_payments

-- Typed and trimmed customers. Malformed e-mails stay: the contract gate quarantines them.
SELECT
    CAST(customer_id AS BIGINT)                      AS customer_id,
    lower(trim(CAST(email AS VARCHAR)))              AS email,
    trim(CAST(full_name AS VARCHAR))                 AS full_name,
    upper(trim(CAST(country AS VARCHAR)))            AS country,
    CAST(signup_date AS DATE)                        AS signup_date,
    lower(trim(CAST(segment AS VARCHAR)))            AS segment
FROM raw_customers

-- One row per order with its lines and captured payments rolled up, and the customer's country.
WITH items AS (
    SELECT
        order_id,
        count(*)          AS line_count,
        sum(quantity)     AS units,
        sum(line_amount)  AS items_amount
    FROM stg_order_items
    GROUP BY order_id
),
paid AS (
    SELECT
        order_id,
        sum(amount) FILTER (WHERE status = 'captured')  AS captured_amount,
        count(*)                                        AS payment_attempts
    FROM stg_payments
    GROUP BY order_id
)
SELECT
    o.order_id,
    o.customer_id,
    c.country,
    o.currency,
    o.status,
    o.order_ts,
    o.order_date,
    o.updated_at,
    CAST(coalesce(i.line_count, 0) AS INTEGER)             AS line_count,
    CAST(coalesce(i.units, 0) AS BIGINT)                   AS units,
    CAST(coalesce(i.items_amount, 0) AS DECIMAL(12, 2))    AS gross_amount,
    CAST(coalesce(p.captured_amount, 0) AS DECIMAL(12, 2)) AS paid_amount,
    CAST(coalesce(p.payment_attempts, 0) AS INTEGER)       AS payment_attempts
FROM stg_orders AS o
LEFT JOIN items AS i ON i.order_id = o.order_id
LEFT JOIN paid AS p ON p.order_id = o.order_id
LEFT JOIN stg_customers AS c ON c.customer_id = o.customer_id

-- Customers with their order history; lifetime value counts orders that were not cancelled.
WITH history AS (
    SELECT
        customer_id,
        count(*)           AS order_count,
        min(order_ts)      AS first_order_ts,
        max(order_ts)      AS last_order_ts,
        sum(gross_amount)  AS lifetime_value
    FROM fct_orders
    WHERE status <> 'cancelled'
    GROUP BY customer_id
)
SELECT
    c.customer_id,
    c.email,
    c.full_name,
    c.country,
    c.segment,
    c.signup_date,
    h.first_order_ts,
    h.last_order_ts,
    CAST(coalesce(h.order_count, 0) AS BIGINT)              AS order_count,
    CAST(coalesce(h.lifetime_value, 0) AS DECIMAL(14, 2))   AS lifetime_value
FROM stg_customers AS c
LEFT JOIN history AS h ON h.customer_id = c.customer_id

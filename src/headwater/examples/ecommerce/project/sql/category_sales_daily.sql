-- Orders, units and revenue per day, country and category (lines joined to their product).
SELECT
    o.order_date,
    o.country,
    p.category,
    count(DISTINCT o.order_id)                      AS orders,
    CAST(sum(i.quantity) AS BIGINT)                 AS units,
    CAST(sum(i.line_amount) AS DECIMAL(14, 2))      AS revenue
FROM stg_order_items i
JOIN fct_orders o USING (order_id)
JOIN dim_products p USING (product_id)
GROUP BY ALL

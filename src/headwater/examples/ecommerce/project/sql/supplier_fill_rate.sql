-- Per supplier and week the purchase orders fell due: how much of what was ordered arrived,
-- and how often on time. Rates are over received orders; open ones are counted apart.
SELECT
    po.supplier_id,
    s.name                                                            AS supplier_name,
    CAST(date_trunc('week', po.expected_date) AS DATE)                AS week_start,
    CAST(count(*) AS BIGINT)                                          AS purchase_orders,
    CAST(count(*) FILTER (WHERE po.received_date IS NULL) AS BIGINT)  AS open_orders,
    CAST(sum(po.ordered_qty) AS BIGINT)                               AS ordered_qty,
    CAST(sum(po.received_qty) AS BIGINT)                              AS received_qty,
    CAST(sum(po.received_qty) FILTER (WHERE po.received_date IS NOT NULL) AS DOUBLE)
        / nullif(sum(po.ordered_qty) FILTER (WHERE po.received_date IS NOT NULL), 0) AS fill_rate,
    avg(CASE WHEN po.received_date <= po.expected_date THEN 1.0 ELSE 0.0 END)
        FILTER (WHERE po.received_date IS NOT NULL)                   AS on_time_rate
FROM stg_purchase_orders AS po
JOIN stg_suppliers AS s ON s.supplier_id = po.supplier_id
GROUP BY po.supplier_id, s.name, CAST(date_trunc('week', po.expected_date) AS DATE)

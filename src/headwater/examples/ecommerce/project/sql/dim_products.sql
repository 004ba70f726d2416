-- Products with their supplier and current price: the latest price change, else the list price.
WITH latest AS (
    SELECT
        product_id,
        arg_max(new_price, changed_ts)  AS current_price,
        max(changed_ts)                 AS price_changed_at,
        count(*)                        AS price_changes
    FROM stg_price_changes
    GROUP BY product_id
)
SELECT
    p.product_id,
    p.sku,
    p.name,
    p.category,
    p.supplier_id,
    s.name                                                  AS supplier_name,
    s.country                                               AS supplier_country,
    s.lead_time_days,
    p.list_price,
    CAST(coalesce(l.current_price, p.list_price) AS DECIMAL(12, 2)) AS current_price,
    l.price_changed_at,
    CAST(coalesce(l.price_changes, 0) AS INTEGER)           AS price_changes,
    p.created_at
FROM stg_products AS p
LEFT JOIN stg_suppliers AS s ON s.supplier_id = p.supplier_id
LEFT JOIN latest AS l ON l.product_id = p.product_id

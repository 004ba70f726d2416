-- Every order line with the product's price at the time of the run; each run keeps a full copy.
SELECT
    i.order_id,
    i.line_no,
    i.product_id,
    p.category,
    i.unit_price,
    p.current_price,
    CAST(p.current_price - i.unit_price AS DECIMAL(12, 2))  AS price_drift
FROM stg_order_items i
JOIN dim_products p USING (product_id)

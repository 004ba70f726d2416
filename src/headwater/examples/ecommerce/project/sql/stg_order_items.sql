SELECT
    CAST(order_id AS BIGINT)                                        AS order_id,
    CAST(line_no AS INTEGER)                                        AS line_no,
    CAST(product_id AS BIGINT)                                      AS product_id,
    CAST(quantity AS INTEGER)                                       AS quantity,
    CAST(unit_price AS DECIMAL(12, 2))                              AS unit_price,
    CAST(CAST(quantity AS INTEGER) * CAST(unit_price AS DECIMAL(12, 2)) AS DECIMAL(12, 2)) AS line_amount
FROM raw_order_items

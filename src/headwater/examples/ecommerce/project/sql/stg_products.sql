-- Prices arrive as text with two decimals; they become exact DECIMAL(12,2), never floats.
SELECT
    CAST(product_id AS BIGINT)                       AS product_id,
    upper(trim(CAST(sku AS VARCHAR)))                AS sku,
    trim(CAST(name AS VARCHAR))                      AS name,
    lower(trim(CAST(category AS VARCHAR)))           AS category,
    CAST(supplier_id AS BIGINT)                      AS supplier_id,
    CAST(list_price AS DECIMAL(12, 2))               AS list_price,
    CAST(created_at AS TIMESTAMPTZ)                  AS created_at
FROM raw_products
